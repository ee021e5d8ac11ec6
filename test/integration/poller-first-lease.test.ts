import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { markRedisInitialised } from '@wolkvox-chat-stream/token-lock'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { startPollerRun } from '../support/fault-pipeline.js'
import { chatMessagesOf, newServerCode, pollerEnv } from '../support/poller-harness.js'
import { runPoller } from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-first-lease-token-5d21'
const kafkaBrokers = inject('kafkaBrokers')

/** The JSON log lines of a poller's stderr. */
const logLines = (stderr: string): Record<string, unknown>[] =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)

const heldBack = (stderr: string): Record<string, unknown>[] =>
  logLines(stderr).filter((l) => String(l.msg).startsWith('token lock held back'))

/** A new redis-server; `marked` as the dev stack marks the ones it creates. */
async function newRedis(marked: boolean): Promise<RedisServer> {
  const server = await startRedisServer()
  if (marked) {
    const redis = createRedis(server.url, { name: 'mark' })
    try {
      await waitUntilReady(redis)
      expect(await markRedisInitialised(redis)).toBe(true)
    } finally {
      await redis.quit()
    }
  }
  return server
}

describe('the poller on a new Redis', () => {
  let sim: RunningSimulator
  const servers: RedisServer[] = []

  beforeAll(async () => {
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 60, seed: 25, latencyMs: 10 })
  })

  afterAll(async () => {
    await sim?.close()
    await Promise.all(servers.map((s) => s.stop()))
  })

  it('says once why the first lease of a Redis not marked waits, and how long (regression: poller once was silent for 91 s)', async () => {
    const redis = await newRedis(false)
    servers.push(redis)
    const server = newServerCode()
    const env = pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl: redis.url,
      extra: { POLL_START: '30m', POLL_LOCK_TTL: '2s', LOG_LEVEL: 'info' },
    })
    const once = await runPoller(['once'], env)
    expect(once.code, once.stderr).toBe(0)
    const lines = heldBack(once.stderr)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({
      level: 'warn',
      msg: expect.stringMatching(
        /^token lock held back [12]\.\d s: this Redis has no lock epoch \(it is new, or lost its data\), so a lease granted before may still be running; no lease for one POLL_LOCK_TTL$/,
      ),
      server,
      reason: 'quarantine',
      ttlMs: 2_000,
    })
    // All of the TTL is left when the poll asks (less the ms between two Redis commands).
    expect(lines[0]!.waitMs).toBeGreaterThan(1_900)
    expect(lines[0]!.waitMs).toBeLessThanOrEqual(2_000)
    expect((JSON.parse(once.stdout) as { server: string }).server).toBe(server)
  })

  it('takes the first lease at once on a Redis the dev stack marked, with no such line', async () => {
    const redis = await newRedis(true)
    servers.push(redis)
    const server = newServerCode()
    const env = pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl: redis.url,
      // A wait of one TTL (a minute) could not go unnoticed: POLL_LOCK_WAIT ends the poll first.
      extra: { POLL_START: '30m', POLL_LOCK_TTL: '60s', POLL_LOCK_WAIT: '5s', LOG_LEVEL: 'info' },
    })
    const once = await runPoller(['once'], env)
    expect(once.code, once.stderr).toBe(0)
    expect(heldBack(once.stderr)).toEqual([])
    expect((JSON.parse(once.stdout) as { server: string }).server).toBe(server)
  })

  it('poller run logs one info line per poll: operation, window, messages published, duration', async () => {
    const redis = await newRedis(true)
    servers.push(redis)
    const poller = await startPollerRun({
      stack: { brokers: kafkaBrokers, redisUrl: redis.url },
      sim,
      token: TOKEN,
      startMs: Date.now() - 30 * 60_000,
      extra: { LOG_LEVEL: 'info' },
    })
    const polls = (): Record<string, unknown>[] =>
      logLines(poller.process.stderr()).filter((l) => l.msg === 'poll done')
    await waitFor(() => polls().length >= 3, { timeoutMs: 60_000, what: 'three polls' })
    poller.process.kill('SIGTERM')
    const exit = await poller.process.exited
    expect(exit.code, poller.process.stderr()).toBe(0)
    const lines = polls()
    for (const line of lines) {
      expect(line).toMatchObject({
        level: 'info',
        server: poller.server,
        kind: 'poll',
        window: { from: expect.any(String), to: expect.any(String) },
        published: expect.any(Number),
        durationMs: expect.any(Number),
      })
    }
    // Every message on the topic was published by a poll whose line says so.
    const published = lines.reduce((sum, l) => sum + (l.published as number), 0)
    expect(published).toBeGreaterThan(0)
    expect(published).toBe((await chatMessagesOf(kafkaBrokers, poller.server)).length)
  })
})
