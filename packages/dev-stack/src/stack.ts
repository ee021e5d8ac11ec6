import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '@wolkvox-chat-stream/errors'
import { pingRedis } from '@wolkvox-chat-stream/redis'
import { terminate } from './child.js'
import { startKafkaBroker, type KafkaBroker, type KafkaBrokerOptions } from './kafka-broker.js'
import { devStackHome } from './paths.js'
import { isPortFree } from './ports.js'
import { isAlive, isOurProcess, listProcesses, unregisterProcess } from './process-registry.js'
import { startRedisServer, type RedisServer } from './redis-server.js'

/** A broker and a Redis for one test run (private, on free ports, removed by `stop`). */
export interface PrivateStack {
  kafka: KafkaBroker
  redis: RedisServer
  kafkaBrokers: string
  redisUrl: string
  stop(): Promise<void>
}

/** Starts a private broker and a private redis-server on free ports, both at once. */
export async function startPrivateStack(
  options: { kafka?: KafkaBrokerOptions; home?: string } = {},
): Promise<PrivateStack> {
  const home = options.home ?? devStackHome()
  const [kafka, redis] = await Promise.allSettled([
    startKafkaBroker({ home, ...options.kafka }),
    startRedisServer({ home }),
  ])
  if (kafka.status === 'rejected' || redis.status === 'rejected') {
    if (kafka.status === 'fulfilled') await kafka.value.stop()
    if (redis.status === 'fulfilled') await redis.value.stop()
    throw kafka.status === 'rejected' ? kafka.reason : (redis as PromiseRejectedResult).reason
  }
  return {
    kafka: kafka.value,
    redis: redis.value,
    kafkaBrokers: kafka.value.brokers,
    redisUrl: redis.value.url,
    stop: async () => {
      await Promise.all([kafka.value.stop(), redis.value.stop()])
    },
  }
}

/** What `stack:up` left running, kept in `<home>/stack.json` for `stack:down`. */
export interface StackState {
  kafkaBrokers: string
  redisUrl: string
  kafka: { pid: number; workDir: string; version: string }
  /** Present only when stack:up started its own redis-server. */
  redis?: { pid: number; workDir: string }
  startedAt: string
}

const stateFile = (home: string): string => join(home, 'stack.json')

export function readStackState(home: string = devStackHome()): StackState | null {
  const file = stateFile(home)
  if (!existsSync(file)) return null
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StackState
  } catch {
    return null
  }
}

/** Options for {@link stackUp}. */
export interface StackUpOptions {
  home?: string
  /** Redis to use when it answers; otherwise a redis-server is started (default REDIS_URL or 6379). */
  redisUrl?: string
  kafkaVersion?: string
  onProgress?: (line: string) => void
}

/**
 * Starts the local Kafka broker (port 9092 when free) and, unless `redisUrl` answers, a
 * redis-server (6379 when free), both detached so they outlive the command. Idempotent: a stack
 * already up is reported, not started twice.
 */
export async function stackUp(
  options: StackUpOptions = {},
): Promise<StackState & { reused: boolean }> {
  const home = options.home ?? devStackHome()
  const progress = options.onProgress ?? (() => undefined)
  const existing = readStackState(home)
  if (existing && isAlive(existing.kafka.pid)) return { ...existing, reused: true }
  if (existing) await stackDown({ home })

  const redisUrl = options.redisUrl ?? 'redis://127.0.0.1:6379'
  let redis: RedisServer | undefined
  let url = redisUrl
  if (await pingRedis(redisUrl, { timeoutMs: 1_000 })) {
    progress(`Using the Redis that answers at ${redisUrl}`)
  } else {
    redis = await startRedisServer({
      home,
      detached: true,
      port: (await isPortFree(6379)) ? 6379 : undefined,
    })
    url = redis.url
    progress(`Started redis-server at ${url}`)
  }
  let kafka: KafkaBroker
  try {
    const port = (await isPortFree(9092)) ? 9092 : undefined
    const controllerPort = (await isPortFree(9093)) ? 9093 : undefined
    progress(
      `Starting Kafka ${options.kafkaVersion ?? ''}on ${port ?? 'a free port'} (about 10-30 s)…`.replace(
        '  ',
        ' ',
      ),
    )
    kafka = await startKafkaBroker({
      home,
      port,
      controllerPort,
      version: options.kafkaVersion,
      detached: true,
      onProgress: progress,
    })
  } catch (error) {
    await redis?.stop()
    throw error
  }
  progress(
    `Kafka ${kafka.version} ready at ${kafka.brokers} in ${(kafka.readyMs() / 1000).toFixed(1)} s (log: ${kafka.logFile})`,
  )
  const state: StackState = {
    kafkaBrokers: kafka.brokers,
    redisUrl: url,
    kafka: { pid: kafka.pid(), workDir: kafka.workDir, version: kafka.version },
    ...(redis ? { redis: { pid: redis.pid(), workDir: redis.workDir } } : {}),
    startedAt: new Date().toISOString(),
  }
  mkdirSync(home, { recursive: true })
  writeFileSync(stateFile(home), `${JSON.stringify(state, null, 2)}\n`)
  return { ...state, reused: false }
}

/**
 * Stops what `stack:up` started (a Redis it only used is left alone) and removes its folders.
 * @throws AppError `DEV_STACK_NOT_RUNNING` when there is nothing to stop.
 */
export async function stackDown(options: { home?: string } = {}): Promise<StackState> {
  const home = options.home ?? devStackHome()
  const state = readStackState(home)
  if (!state)
    throw new AppError('DEV_STACK_NOT_RUNNING', 'No stack started by `npm run stack:up` is running')
  const records = listProcesses(home)
  for (const part of [state.kafka, state.redis]) {
    if (!part) continue
    const record = records.find((r) => r.pid === part.pid)
    if (record ? isOurProcess(record) : isAlive(part.pid)) await terminate(part.pid, 30_000)
    if (record) unregisterProcess(home, record)
    rmSync(part.workDir, { recursive: true, force: true })
  }
  rmSync(stateFile(home), { force: true })
  return state
}
