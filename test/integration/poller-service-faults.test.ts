import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort, startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createRedis } from '@wolkvox-chat-stream/redis'
import {
  startSimulator,
  tokenFingerprint,
  type RunningSimulator,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { newServerCode, pollerEnv, topicDiffFromTruth } from '../support/poller-harness.js'
import {
  dumpRedis,
  getJson,
  runPoller,
  startPoller,
  type PollerProcess,
  type StatusDocument,
} from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-poller-faults-token-7d3a'
const QUOTA_TOKEN = 'canary-poller-quota-token-2b88'
const BAD_TOKEN = 'canary-poller-rejected-token-c519'
const HOUR = 3_600_000
const kafkaBrokers = inject('kafkaBrokers')

/** `YYYYmmddHHiiss` in the simulator's zone, as the poller sends `date_ini`. */
function localStamp(ms: number): string {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'America/Bogota',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  })
    .format(ms)
    .replace(/\D/g, '')
}

describe('poller run and backfill under faults', () => {
  let sim: RunningSimulator
  let redis: RedisServer
  const processes: PollerProcess[] = []

  beforeAll(async () => {
    ;[sim, redis] = await Promise.all([
      // 150 ms of server time per call makes "in the middle of a poll" easy to hit.
      startSimulator({ tokens: [TOKEN, QUOTA_TOKEN], chatsPerHour: 12, seed: 33, latencyMs: 150 }),
      startRedisServer(),
    ])
  })

  // A test that fails before it stops its poller must not leave it polling the next test's token
  // (CI: a poller left by a failed assertion took the next test's slow call).
  afterEach(async () => {
    const running = processes.filter(
      (p) => p.process.exitCode === null && p.process.signalCode === null,
    )
    for (const p of running) p.kill('SIGKILL')
    await Promise.all(running.map((p) => p.exited))
  })

  afterAll(async () => {
    for (const p of processes) if (p.process.exitCode === null) p.kill('SIGKILL')
    // Nothing any of these runs wrote to Redis holds a token, error paths included.
    if (redis) {
      const dump = await dumpRedis(redis.url)
      for (const token of [TOKEN, QUOTA_TOKEN, BAD_TOKEN]) expect(dump.text).not.toContain(token)
    }
    for (const p of processes)
      for (const token of [TOKEN, QUOTA_TOKEN, BAD_TOKEN])
        expect(`${p.stdout()}${p.stderr()}`).not.toContain(token)
    await sim?.close()
    await redis?.stop()
  })

  const envFor = (server: string, token: string, extra: Record<string, string> = {}) =>
    pollerEnv({
      server,
      token,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl: redis.url,
      extra: { POLL_LOCK_TTL: '2s', POLL_SETTLE_LAG: '5s', POLL_LOOKBACK: '10s', ...extra },
    })

  const run = (env: Record<string, string>): PollerProcess => {
    const p = startPoller(['run'], env)
    processes.push(p)
    return p
  }

  const callsOf = (token: string) => sim.calls().filter((c) => c.token === tokenFingerprint(token))

  it('finishes the window in flight on SIGTERM, releases the token and loses nothing', async () => {
    const server = newServerCode()
    const port = await freePort()
    const env = envFor(server, TOKEN, {
      POLL_START: '10h',
      POLL_MAX_WINDOW: '30m',
      POLL_INTERVAL: '2s',
      POLL_SWEEP_INTERVAL: '0s',
      HTTP_PORT: String(port),
    })
    const startMs = Date.now() - 10 * HOUR
    const before = callsOf(TOKEN).length
    const poller = run(env)
    await waitFor(() => callsOf(TOKEN).length - before >= 3, {
      what: 'a long first poll under way',
      timeoutMs: 30_000,
      intervalMs: 50,
    })
    poller.kill('SIGTERM')
    // Taken right after the signal went out, on the clock the simulator stamps calls with (it runs
    // in this process, sub-millisecond).
    const signalledAt = performance.timeOrigin + performance.now()
    expect((await poller.exited).code, poller.stderr()).toBe(0)
    expect(Date.now() - signalledAt).toBeLessThan(5_000)
    const calls = callsOf(TOKEN).slice(before)
    expect(calls.length).toBeGreaterThanOrEqual(3)
    // The call in flight was finished, not cut off; no other started after the signal.
    expect(calls.filter((c) => c.outcome !== 'completed')).toEqual([])
    expect(calls.filter((c) => c.startedAtMs >= signalledAt)).toEqual([])

    const status = await runPoller(['status'], env)
    const doc = JSON.parse(status.stdout) as StatusDocument
    expect(doc.operations[0]!.lock.held).toBe(false)

    const rest = await runPoller(['once'], env)
    expect(rest.code, rest.stderr).toBe(0)
    const watermarkMs = Date.parse((JSON.parse(rest.stdout) as { watermark: string }).watermark)
    const truth = sim.truth({ from: new Date(startMs + 60_000), to: new Date(watermarkMs) })
    const diff = await topicDiffFromTruth(kafkaBrokers, server, truth)
    expect(diff.missing).toEqual([])
    expect(diff.repeated).toEqual([])
    expect(diff.wrong).toEqual([])
  })

  it('brings its schedulers and watermark back after Redis is flushed, and misses nothing', async () => {
    const server = newServerCode()
    const port = await freePort()
    const startMs = Math.floor(Date.now() / 1000) * 1000 - HOUR
    const env = envFor(server, TOKEN, {
      POLL_START: new Date(startMs).toISOString(),
      POLL_INTERVAL: '1s',
      POLL_SWEEP_INTERVAL: '0s',
      HTTP_PORT: String(port),
    })
    const poller = run(env)
    const url = `http://127.0.0.1:${port}/status`
    const statusOf = async () => (await getJson<StatusDocument>(url)).operations[0]!
    const first = await waitFor(async () => (await statusOf()).watermark, {
      what: 'a first watermark',
      timeoutMs: 30_000,
      intervalMs: 200,
    })

    const admin = createRedis(redis.url, { name: 'test-flusher' })
    // Flushed and counted in one transaction: the running poller writes again right after.
    const flushed = await admin.multi().flushall().dbsize().exec()
    const flushedAt = Date.now()
    expect(flushed).toEqual([
      [null, 'OK'],
      [null, 0],
    ])
    await admin.quit()

    const after = await waitFor(
      async () => {
        const s = await statusOf()
        const live = s.lastSuccess.live
        return s.schedule?.some((x) => x.kind === 'poll') &&
          live &&
          Date.parse(live.at) > flushedAt &&
          s.watermark &&
          Date.parse(s.watermark) > Date.parse(first)
          ? s
          : null
      },
      { what: 'schedulers and watermark back after the flush', timeoutMs: 40_000, intervalMs: 250 },
    )
    poller.kill('SIGTERM')
    expect((await poller.exited).code).toBe(0)
    // It went on from the watermark recovered from the checkpoint topic, not from POLL_START.
    const startStamp = localStamp(startMs)
    const since = callsOf(TOKEN).filter((c) => c.startedAtMs > flushedAt)
    expect(since.length).toBeGreaterThan(0)
    expect(since.every((c) => c.dateIni! > startStamp)).toBe(true)

    const truth = sim.truth({ from: new Date(startMs), to: new Date(after.watermark!) })
    const diff = await topicDiffFromTruth(kafkaBrokers, server, truth)
    // The published set went with the flush, so a re-read lookback may publish a message again
    // (subscribers de-duplicate by event_id); nothing may be missing or foreign.
    expect(diff.missing).toEqual([])
    expect(diff.unexpected).toEqual([])
    expect(diff.wrong).toEqual([])
  })

  it('abandons a window that outlives POLL_SHUTDOWN_TIMEOUT, keeping the token busy for the upstream', async () => {
    const server = newServerCode()
    const port = await freePort()
    const env = envFor(server, TOKEN, {
      POLL_START: '1h',
      POLL_INTERVAL: '2s',
      POLL_SWEEP_INTERVAL: '0s',
      // Long enough for a slow call to be under way when the shutdown gives up on it.
      POLL_LOCK_TTL: '20s',
      POLL_SHUTDOWN_TIMEOUT: '1s',
      HTTP_PORT: String(port),
    })
    const since = Date.now()
    sim.injectFaults({ kind: 'slow', chunkBytes: 64, intervalMs: 300, count: 1 })
    const poller = run(env)
    await waitFor(
      () => callsOf(TOKEN).some((c) => c.startedAtMs > since && c.outcome === 'in-flight'),
      { what: 'a slow call under way', timeoutMs: 30_000, intervalMs: 50 },
    )
    const signalledAt = Date.now()
    poller.kill('SIGTERM')
    expect((await poller.exited).code, poller.stderr()).toBe(0)
    expect(Date.now() - signalledAt).toBeLessThan(8_000)
    expect(poller.stderr()).toContain('POLL_SHUTDOWN_ABANDONED')
    await waitFor(
      () => callsOf(TOKEN).every((c) => c.startedAtMs < since || c.outcome === 'aborted'),
      { what: 'the slow call cut off', timeoutMs: 5_000 },
    )
    // The upstream may still be serving the abandoned call: no one may use the token for a while.
    const status = JSON.parse((await runPoller(['status'], env)).stdout) as StatusDocument
    expect(status.operations[0]!.lock.held).toBe(true)
    expect(status.operations[0]!.watermark).toBeNull()
  })

  it('stops a backfill at the quota reserve, which live polls can still use', async () => {
    const server = newServerCode()
    const env = envFor(server, QUOTA_TOKEN, {
      POLL_DAILY_QUOTA: '12',
      POLL_QUOTA_RESERVE: '5',
      POLL_START: '10m',
      POLL_BACKFILL_PAUSE: '50ms',
    })
    const to = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR
    const args = [
      'backfill',
      '--from',
      new Date(to - 10 * HOUR).toISOString(),
      '--to',
      new Date(to - 1000).toISOString(),
      '--window',
      '30m',
    ]
    const backfill = await runPoller(args, env)
    expect(backfill.code).toBe(1)
    expect(backfill.stderr).toContain('POLL_QUOTA_RESERVE_REACHED')
    expect(callsOf(QUOTA_TOKEN)).toHaveLength(7)
    expect(backfill.stdout.match(/"event":"window"/g)).toHaveLength(7)

    const again = await runPoller(args, env)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('POLL_QUOTA_RESERVE_REACHED')
    expect(callsOf(QUOTA_TOKEN)).toHaveLength(7)

    const live = await runPoller(['once'], env)
    expect(live.code, live.stderr).toBe(0)
    expect(callsOf(QUOTA_TOKEN)).toHaveLength(8)

    const status = JSON.parse(
      (await runPoller(['status', '--server', server], env)).stdout,
    ) as StatusDocument
    const op = status.operations[0]!
    expect(op.quota).toMatchObject({ used: 8, budget: 12, reserve: 5 })
    expect(op.backfills).toEqual([
      expect.objectContaining({ state: 'stopped', windowsDone: 7, windowsTotal: 20 }),
    ])
  })

  it('pauses an operation whose token is refused, instead of calling again on every tick', async () => {
    const server = newServerCode()
    const port = await freePort()
    const env = envFor(server, BAD_TOKEN, {
      POLL_STUCK_AFTER: '1',
      POLL_INTERVAL: '1s',
      POLL_SWEEP_INTERVAL: '0s',
      HTTP_PORT: String(port),
    })
    const poller = run(env)
    const paused = await waitFor(
      async () => {
        const op = (await getJson<StatusDocument>(`http://127.0.0.1:${port}/status`)).operations[0]!
        return op.paused ? op : null
      },
      { what: 'the operation paused', timeoutMs: 30_000, intervalMs: 200 },
    )
    expect(paused.paused!.reason).toBe('WOLKVOX_TOKEN_INVALID')
    expect(paused.lastError!.code).toBe('WOLKVOX_TOKEN_INVALID')
    expect(paused.stuckWindows).toEqual([
      expect.objectContaining({ purpose: 'live', failures: 1, code: 'WOLKVOX_TOKEN_INVALID' }),
    ])
    const metrics = await waitFor(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
        return /wolkvox_poller_jobs_total\{[^}]*outcome="POLL_OPERATION_PAUSED"[^}]*\} [1-9]/.test(
          text,
        )
          ? text
          : null
      },
      { what: 'a job skipped while paused', timeoutMs: 15_000, intervalMs: 250 },
    )
    expect(metrics).toMatch(
      new RegExp(
        `wolkvox_poller_operation_stopped\\{server="${server}",reason="WOLKVOX_TOKEN_INVALID"[^}]*\\} 1`,
      ),
    )
    // One refused call; every later tick found the pause and called nothing.
    expect(callsOf(BAD_TOKEN)).toHaveLength(1)
    poller.kill('SIGTERM')
    expect((await poller.exited).code).toBe(0)
  })
})
