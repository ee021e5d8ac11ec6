import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startRedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createRedis } from '@wolkvox-chat-stream/redis'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  chatMessagesOf,
  expectedMessages,
  newServerCode,
  pollerEnv,
  topicDiffFromTruth,
} from '../support/poller-harness.js'
import {
  callWindow,
  checkpointWatermarksOf,
  startPoller,
} from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-poller-process-token-93af'
const kafkaBrokers = inject('kafkaBrokers')

interface OnceRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** `npm run poller -- once` as its own process; `kill` may end it early. */
function once(
  env: Record<string, string>,
  args: string[] = [],
): { done: Promise<OnceRun>; kill(signal: NodeJS.Signals): void } {
  const run = startPoller(['once', ...args], env)
  return {
    done: run.exited.then(({ code, signal }) => ({
      code,
      signal,
      stdout: run.stdout(),
      stderr: run.stderr(),
    })),
    kill: (signal) => run.kill(signal),
  }
}

describe('poller once as separate processes', () => {
  let sim: RunningSimulator

  beforeAll(async () => {
    // 150 ms of server time per call makes "in the middle of a poll" easy to hit.
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 12, seed: 21, latencyMs: 150 })
  })

  afterAll(async () => {
    await sim.close()
  })

  it('prints one JSON line on success, and a clear error with a non-zero exit otherwise', async () => {
    const server = newServerCode()
    const env = pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl: inject('redisUrl'),
    })
    const ok = await once({ ...env, POLL_START: '1h' }).done
    expect(ok.code).toBe(0)
    const lines = ok.stdout.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({
      server,
      fetched: expect.any(Number),
      published: expect.any(Number),
      duplicates: 0,
      deadLettered: 0,
      splits: 0,
      durationMs: expect.any(Number),
    })
    const bad = await once({ ...env, WOLKVOX_SERVER: '1.evil.com#' }).done
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('CONFIG_INVALID')
    expect(bad.stderr).toContain('WOLKVOX_SERVER')
    expect(`${ok.stdout}${ok.stderr}${bad.stdout}${bad.stderr}`).not.toContain(TOKEN)
  })

  it('loses nothing when killed with SIGKILL in the middle of a poll', async () => {
    const server = newServerCode()
    // An absolute start, so the truth below covers exactly what the two runs had to publish.
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 10 * 3_600_000
    const env = {
      ...pollerEnv({
        server,
        token: TOKEN,
        simulatorUrl: sim.url,
        kafkaBrokers,
        redisUrl: inject('redisUrl'),
      }),
      POLL_START: new Date(startMs).toISOString(),
      POLL_MAX_WINDOW: '30m',
    }
    sim.clearCalls()
    const victim = once(env)
    await waitFor(() => sim.calls().filter((c) => c.outcome === 'completed').length >= 4, {
      what: 'a few windows done',
      timeoutMs: 60_000,
    })
    victim.kill('SIGKILL')
    expect((await victim.done).signal).toBe('SIGKILL')
    const before = await chatMessagesOf(kafkaBrokers, server)
    expect(before.length).toBeGreaterThan(0)

    const rerun = await once(env).done
    expect(rerun.code).toBe(0)
    const summary = JSON.parse(rerun.stdout) as { watermark: string }
    const truth = sim.truth({ from: new Date(startMs), to: new Date(summary.watermark) })
    const diff = await topicDiffFromTruth(kafkaBrokers, server, truth)
    expect(diff.missing).toEqual([])
    expect(diff.unexpected).toEqual([])
    expect(diff.wrong).toEqual([])
  })

  it('six processes on one token and one window: no overlapping calls, the window on the topic once', async () => {
    const server = newServerCode()
    const env = pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl: inject('redisUrl'),
    })
    const end = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 2 * 3_600_000
    const from = new Date(end - 3 * 3_600_000).toISOString()
    const to = new Date(end - 1000).toISOString()
    sim.clearCalls()
    const runs = await Promise.all(
      Array.from({ length: 6 }, () => once(env, ['--from', from, '--to', to]).done),
    )
    // On failure, show each process's last lines (a CI run saw all six exit 1 under load).
    expect(
      runs.map((r) => r.code),
      runs.map((r, i) => `#${i}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`).join('\n'),
    ).toEqual([0, 0, 0, 0, 0, 0])
    expect(sim.calls()).toHaveLength(6)
    expect(sim.overlaps()).toEqual([])
    const truth = sim.truth({ from: new Date(from), to: new Date(to) })
    const diff = await topicDiffFromTruth(kafkaBrokers, server, truth)
    expect(diff).toEqual({ missing: [], unexpected: [], repeated: [], wrong: [] })
  })

  it('recovers the watermark from the checkpoint topic after Redis is flushed, and misses nothing', async () => {
    const redis = await startRedisServer()
    try {
      const server = newServerCode()
      const env = {
        ...pollerEnv({
          server,
          token: TOKEN,
          simulatorUrl: sim.url,
          kafkaBrokers,
          redisUrl: redis.url,
        }),
        POLL_START: '4h',
      }
      const first = await once(env).done
      expect(first.code, first.stderr).toBe(0)
      const before = JSON.parse(first.stdout) as { watermark: string; window: { from: string } }
      const beforeMs = Date.parse(before.watermark)
      // The value to come back is on the checkpoint topic: the last checkpoint of the first run.
      expect((await checkpointWatermarksOf(kafkaBrokers, server)).at(-1)).toBe(beforeMs)
      const admin = createRedis(redis.url, { name: 'flusher' })
      const flushed = await admin.multi().flushall().dbsize().exec()
      await admin.quit()
      expect(flushed).toEqual([
        [null, 'OK'],
        [null, 0],
      ])
      const callsBefore = sim.calls().length

      const second = await once(env).done
      expect(second.code, second.stderr).toBe(0)
      const after = JSON.parse(second.stdout) as {
        watermark: string
        recovered: boolean
        window: { from: string }
      }
      expect(after.recovered).toBe(true)
      // Redis held nothing, so the watermark came from the checkpoint topic: the second run's
      // calls start exactly at that watermark + 1 s - POLL_LOOKBACK (10 min by default), so it
      // was recovered as exactly the value it had before the flush. A re-poll from POLL_START
      // (4 h back) or any other watermark asks for other windows.
      const resumedFromMs = beforeMs + 1000 - 10 * 60_000
      const windows = sim
        .calls()
        .slice(callsBefore)
        .filter((c) => c.server === server)
        .map(callWindow)
      expect(windows.length).toBeGreaterThan(0)
      expect(windows[0]!.fromMs).toBe(resumedFromMs)
      expect(windows.filter((w) => w.fromMs < resumedFromMs)).toEqual([])
      expect(Date.parse(after.window.from)).toBe(resumedFromMs)
      // It moved on from there to the end of the last window it asked for.
      expect(windows.at(-1)!.toMs).toBe(Date.parse(after.watermark))
      expect(Date.parse(after.watermark)).toBeGreaterThanOrEqual(beforeMs)
      const truth = sim.truth({ from: new Date(before.window.from), to: new Date(after.watermark) })
      const diff = await topicDiffFromTruth(kafkaBrokers, server, truth)
      expect(diff.missing).toEqual([])
      expect(diff.unexpected).toEqual([])
      expect(diff.wrong).toEqual([])
      // The published set went with the flush: exactly the re-read lookback went out again.
      const reread = sim.truth({ from: new Date(resumedFromMs), to: new Date(beforeMs) })
      expect(diff.repeated.sort()).toEqual([...expectedMessages(reread, server).keys()].sort())
    } finally {
      await redis.stop()
    }
  })
})
