import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import {
  createRedis,
  scanKeys,
  waitUntilReady,
  type RedisAddress,
} from '@wolkvox-chat-stream/redis'
import { decodePollerCheckpoint, topics } from '@wolkvox-chat-stream/events'
import { createKafkaClient, type Kafka } from '@wolkvox-chat-stream/kafka'
import type { SimCall } from '@wolkvox-chat-stream/wolkvox-simulator'
import { PATCH_ENV } from '../sabotage/patch.mjs'
import { readTopicToEnd } from './read-topic.js'
import { REQUEST_TIMEOUT_MS } from './wait-for.js'

const main = fileURLToPath(new URL('../../services/poller/src/main.ts', import.meta.url))

/** `npm run poller -- <args>` as its own process, with its JSON stdout lines and its stderr. */
export interface PollerProcess {
  process: ChildProcess
  /** JSON lines printed on stdout so far. */
  lines: Record<string, unknown>[]
  stdout(): string
  stderr(): string
  /** Resolves with exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal: NodeJS.Signals): void
}

/**
 * Starts the poller's CLI with exactly `env` (plus PATH and HOME, and in a sabotage run the load
 * hook that patches the product: test/sabotage).
 */
export function startPoller(args: string[], env: Record<string, string>): PollerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', main, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...sabotageEnv(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  const lines: Record<string, unknown>[] = []
  createInterface({ input: child.stdout }).on('line', (line) => {
    out += `${line}\n`
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // Not every line is JSON (status prints an indented document).
    }
  })
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  return {
    process: child,
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal) => child.kill(signal),
  }
}

/** Runs a poller command to its end. */
export async function runPoller(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startPoller(args, env)
  const { code } = await p.exited
  return { code, stdout: p.stdout(), stderr: p.stderr() }
}

/** GET a JSON document. */
export async function getJson<T = unknown>(url: string): Promise<T> {
  // Bounded: a request that hangs fails (and a waitFor polling it tries again) instead of
  // holding the test until its own timeout, where nothing says what hung.
  const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`)
  return (await response.json()) as T
}

/** The parts of `GET /status` (and of the `status` command) the tests read. */
export interface StatusDocument {
  operations: {
    server: string
    watermark: string | null
    lastSuccess: Record<string, { at: string }>
    lastError: { code: string } | null
    paused: { reason: string } | null
    lock: { held: boolean }
    quota: { used: number; budget: number; reserve: number }
    coverage: { gapCount: number; from: string | null; to: string | null }
    stuckWindows: unknown[]
    backfills: { state: string; windowsDone: number; windowsTotal: number }[]
    schedule: { kind: string; everyMs: number | null }[] | null
  }[]
}

/**
 * Every key of a Redis and every value under it, as text (strings, hashes, lists, sets, sorted
 * sets, streams), for the token-leak check.
 */
export async function dumpRedis(url: RedisAddress): Promise<{ keys: string[]; text: string }> {
  const redis = createRedis(url, { name: 'test-dump' })
  try {
    await waitUntilReady(redis, { timeoutMs: 15_000 })
    const keys: string[] = []
    // Every master of a cluster.
    for await (const page of scanKeys(redis, '*')) keys.push(...page)
    const parts: string[] = []
    for (const key of keys) {
      const type = await redis.type(key)
      let value: unknown
      if (type === 'string') value = await redis.get(key)
      else if (type === 'hash') value = await redis.hgetall(key)
      else if (type === 'list') value = await redis.lrange(key, 0, -1)
      else if (type === 'set') value = await redis.smembers(key)
      else if (type === 'zset') value = await redis.zrange(key, 0, -1, 'WITHSCORES')
      else if (type === 'stream') value = await redis.xrange(key, '-', '+')
      parts.push(`${key} ${JSON.stringify(value)}`)
    }
    return { keys, text: parts.join('\n') }
  } finally {
    await redis.quit()
  }
}

/**
 * The window a call asked for, as instants: its `date_ini`/`date_end` stamps read in Bogotá (the
 * simulator's default zone, UTC-5 all year). The simulator's own record of what the poller asked,
 * independent of what the poller reports.
 */
export function callWindow(call: Pick<SimCall, 'dateIni' | 'dateEnd'>): {
  fromMs: number
  toMs: number
} {
  const instant = (stamp: string | null): number => {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(stamp ?? '')
    if (!m) throw new Error(`not a YYYYmmddHHiiss stamp: ${stamp}`)
    return Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}-05:00`)
  }
  return { fromMs: instant(call.dateIni), toMs: instant(call.dateEnd) }
}

const checkpointReaders = new Map<string, Kafka>()

/** The watermarks of `server`'s checkpoints on `wolkvox.poller.checkpoint.v1`, in topic order. */
export async function checkpointWatermarksOf(
  kafkaBrokers: string,
  server: string,
): Promise<number[]> {
  let reader = checkpointReaders.get(kafkaBrokers)
  if (!reader) {
    reader = createKafkaClient({ brokers: [kafkaBrokers], clientId: 'test-checkpoints' })
    checkpointReaders.set(kafkaBrokers, reader)
  }
  const records = await readTopicToEnd(reader, topics.pollerCheckpoint.name)
  return records
    .filter((r) => r.key?.toString() === `${server}|chat_2`)
    .map((r) => decodePollerCheckpoint(r.value!).watermark.getTime())
}

/** The variables a sabotage run (vitest.sabotage.config.ts) sets for the processes it starts. */
function sabotageEnv(): Record<string, string> {
  const patch = process.env[PATCH_ENV]
  if (patch === undefined) return {}
  return { [PATCH_ENV]: patch, NODE_OPTIONS: process.env.NODE_OPTIONS ?? '' }
}
