import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  devStackHome,
  freePort,
  isAlive,
  listProcesses,
  startRedisServer,
  type RedisServer,
  type StackState,
} from '@wolkvox-chat-stream/dev-stack'
import { createRedis, pingRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import { createTokenLock } from '@wolkvox-chat-stream/token-lock'
import { waitFor } from '../support/wait-for.js'

const cli = fileURLToPath(new URL('../../packages/dev-stack/src/cli.ts', import.meta.url))
const LOCK_EPOCH = 'wcs:global:lock-epoch'

/**
 * `npm run stack:up` / `stack:down` as a user runs them, in a home of its own (its own stack.json
 * and processes; the Kafka jars shared with the usual home, so nothing is downloaded).
 */
function stackCli(
  home: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', cli, ...args], {
    // Exactly these variables: no REDIS_URL unless a test sets one.
    env: { PATH: process.env.PATH, HOME: process.env.HOME, WOLKVOX_DEV_STACK_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
}

/** The `NAME=value` lines stack:up printed. */
const variablesOf = (stdout: string): Record<string, string> =>
  Object.fromEntries(
    stdout
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  )

/** Connections a Redis has accepted since it started (INFO stats). */
async function connectionsReceived(redis: Redis): Promise<number> {
  const info = await redis.info('stats')
  return Number(/total_connections_received:(\d+)/.exec(info)![1])
}

describe('stack:up and its Redis', () => {
  let home: string
  let existing: RedisServer
  let admin: Redis

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'stack-up-home-'))
    symlinkSync(join(devStackHome(), 'jars'), join(home, 'jars'))
    // Another piece of work's Redis, with a key of its own.
    existing = await startRedisServer()
    admin = createRedis(existing.url, { name: 'other-work' })
    await waitUntilReady(admin)
    await admin.set('other-work:key', '1')
  })

  afterAll(async () => {
    if (existsSync(join(home, 'stack.json'))) await stackCli(home, ['down'])
    admin?.disconnect()
    await existing?.stop()
    rmSync(home, { recursive: true, force: true })
  })

  it('refuses a REDIS_URL that does not answer, naming it, before starting anything', async () => {
    const port = await freePort()
    const up = await stackCli(home, ['up'], { REDIS_URL: `redis://127.0.0.1:${port}` })
    expect(up.code).toBe(1)
    expect(up.stdout).toBe('')
    expect(up.stderr).toContain(
      `REDIS_UNAVAILABLE: REDIS_URL=redis://127.0.0.1:${port} does not answer PING: stack:up uses exactly the Redis REDIS_URL names. Start that Redis, or unset REDIS_URL and stack:up starts a redis-server of its own`,
    )
    expect(existsSync(join(home, 'stack.json'))).toBe(false)
    expect(listProcesses(home)).toEqual([])
  })

  it('uses exactly the Redis REDIS_URL names, unmarked, and stack:down leaves it running', async () => {
    const up = await stackCli(home, ['up'], { REDIS_URL: existing.url })
    expect(up.code, up.stderr).toBe(0)
    expect(variablesOf(up.stdout).REDIS_URL).toBe(existing.url)
    expect(up.stderr).toContain(`Using the Redis REDIS_URL names: ${existing.url}`)
    const state = JSON.parse(readFileSync(join(home, 'stack.json'), 'utf8')) as StackState
    expect(state.redis).toBeUndefined()
    // Not a Redis the stack created: its first lease keeps the quarantine that protects it.
    expect(await admin.exists(LOCK_EPOCH)).toBe(0)
    const down = await stackCli(home, ['down'])
    expect(down.code, down.stderr).toBe(0)
    expect(down.stderr).not.toContain('redis-server at')
    expect(await pingRedis(existing.url)).toBe(true)
    expect(await admin.keys('*')).toEqual(['other-work:key'])
  })

  it('without REDIS_URL starts a redis-server of its own, marked new, never touching another Redis, and stack:down stops it', async () => {
    const before = await connectionsReceived(admin)
    const up = await stackCli(home, ['up'])
    expect(up.code, up.stderr).toBe(0)
    const url = variablesOf(up.stdout).REDIS_URL!
    expect(url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/)
    expect(url).not.toBe(existing.url)
    expect(up.stderr).toContain(
      `Started redis-server at ${url} (the stack's own; stack:down stops it)`,
    )
    const state = JSON.parse(readFileSync(join(home, 'stack.json'), 'utf8')) as StackState
    expect(state.redisUrl).toBe(url)
    const pid = state.redis!.pid
    expect(isAlive(pid)).toBe(true)

    // Marked as a Redis that never held a lease: the first lease on it is granted at once.
    const lockRedis = createRedis(url, { role: 'lock', name: 'stack-up-lock' })
    try {
      await waitUntilReady(lockRedis)
      expect(await lockRedis.exists(LOCK_EPOCH)).toBe(1)
      const lock = createTokenLock({ redis: lockRedis, server: '0010', token: 't', ttlMs: 90_000 })
      const lease = await lock.tryAcquire()
      expect(lease).not.toBeNull()
      await lease!.release()
    } finally {
      lockRedis.disconnect()
    }
    // The other Redis: no connection from stack:up, its keys as they were.
    expect(await connectionsReceived(admin)).toBe(before)
    expect(await admin.keys('*')).toEqual(['other-work:key'])

    // A broker that died says so, and why is in the last lines of its log.
    process.kill(state.kafka.pid, 'SIGKILL')
    await waitFor(() => !isAlive(state.kafka.pid), { timeoutMs: 5_000, what: 'the broker gone' })
    const status = await stackCli(home, ['status'])
    expect(status.code).toBe(1)
    expect(status.stderr).toContain('The recorded broker is not running')
    // The log stack:up recorded, the broker's own.
    expect(state.kafka.logFile).toBe(join(state.kafka.workDir, 'server.log'))
    expect(status.stderr).toContain(`The log of the broker (${state.kafka.logFile}) ends:`)
    expect(status.stderr).toMatch(/ends:\n\[\d{4}-\d\d-\d\d [\d:,]+\] (INFO|WARN|ERROR) /)

    const down = await stackCli(home, ['down'])
    expect(down.code, down.stderr).toBe(0)
    expect(down.stderr).toContain(`and redis-server at ${url}`)
    // Stopped; its new parent (init) reaps it a moment later.
    await waitFor(() => !isAlive(pid), { timeoutMs: 5_000, what: 'the stack redis-server reaped' })
    expect(await pingRedis(url, { timeoutMs: 300 })).toBe(false)
    expect(existsSync(join(home, 'stack.json'))).toBe(false)
    expect(await pingRedis(existing.url)).toBe(true)
  })
})
