/*
 * Fault: Redis loses all its data while the whole pipeline runs, twice: a FLUSHALL, then a
 * restart of redis-server without persistence. QUALITY.md: "watermark recovered from the topic;
 * aggregates and counts rebuilt by replay; equal to a run without the fault", and for the lock:
 * "no loss; watermark never goes back".
 */
import { afterAll, describe, expect, it } from 'vitest'
import { createRedis } from '@wolkvox-chat-stream/redis'
import {
  expectExactPipeline,
  stopPollerRun,
  useFaultPipeline,
  waitForWatermark,
} from '../support/fault-pipeline.js'
import { callWindow, checkpointWatermarksOf } from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-fault-redis-token-80c4'
const HOUR = 3_600_000
/** The pipeline's POLL_LOOKBACK (fault-pipeline.ts, startPollerRun). */
const LOOKBACK_MS = 10_000
const watermarkKey = (server: string): string => `wcs:{${server}}:state:watermark.chat_2`

describe('Redis losing its data while the poller and the aggregator run', () => {
  const pipeline = useFaultPipeline({
    // 100 ms per call: the backlog takes a few seconds, so the faults strike while it is polled.
    sim: { tokens: [TOKEN], chatsPerHour: 60, seed: 43, latencyMs: 100 },
  })
  let sampling = true

  afterAll(() => {
    sampling = false
  })

  /**
   * After Redis lost the watermark (at least `lostMs`) at `lostAt`: no call asks for anything
   * before `lostMs` + 1 s - POLL_LOOKBACK (10 s), so polling did not start over from POLL_START
   * (8 h back); and the first poll after the loss (its first window re-reads the lookback, where
   * the polls cut short by the loss only asked for the window after the last one) resumed from a
   * watermark that is exactly a checkpoint of the operation on the checkpoint topic, not below
   * `lostMs`, and not past the end of the last window asked before it. (It may be past `lostMs`:
   * the poll in flight during the loss writes its window's checkpoint before its watermark write
   * is refused.)
   */
  async function expectResumedFrom(lostMs: number, lostAt: number): Promise<void> {
    const { sim } = pipeline.sims
    const calls = sim.calls().filter((c) => c.server === serverOf())
    const since = calls.filter((c) => c.startedAtMs > lostAt).map(callWindow)
    const resumeFloorMs = lostMs + 1000 - LOOKBACK_MS
    expect(since.length).toBeGreaterThan(0)
    expect(since.filter((w) => w.fromMs < resumeFloorMs)).toEqual([])
    const windows = calls.map(callWindow)
    const firstSince = windows.length - since.length
    const resumed = windows.findIndex(
      (w, i) => i >= firstSince && i > 0 && w.fromMs <= windows[i - 1]!.toMs,
    )
    expect(resumed).toBeGreaterThan(0)
    const recoveredMs = windows[resumed]!.fromMs - 1000 + LOOKBACK_MS
    expect(recoveredMs).toBeGreaterThanOrEqual(lostMs)
    expect(recoveredMs).toBeLessThanOrEqual(windows[resumed - 1]!.toMs)
    const checkpoints = await checkpointWatermarksOf(pipeline.stack.brokers, serverOf())
    expect(checkpoints).toContain(recoveredMs)
  }
  let server: string | undefined
  const serverOf = (): string => server!

  /**
   * Waits until a poll that started after `t` has succeeded: a call after `t` that re-reads the
   * window before it (each poll's first window reaches back POLL_LOOKBACK), and a live success
   * after that call began. A success alone is not enough: the poll in flight at `t` also ends with
   * one, having made no call after `t` (regression: CI, the restart case read no call at all).
   */
  async function waitForPollAfter(
    t: number,
    status: () => Promise<{ lastSuccess: { live?: { at: string } } }>,
    what: string,
  ): Promise<void> {
    const { sim } = pipeline.sims
    await waitFor(
      async () => {
        const calls = sim.calls().filter((c) => c.server === serverOf())
        const windows = calls.map(callWindow)
        const first = calls.find(
          (c, i) => i > 0 && c.startedAtMs > t && windows[i]!.fromMs <= windows[i - 1]!.toMs,
        )
        if (first === undefined) return false
        const live = (await status()).lastSuccess.live
        return live !== undefined && Date.parse(live.at) > first.startedAtMs
      },
      { what, timeoutMs: 60_000, intervalMs: 200 },
    )
  }

  it('recovers the watermark from the topic, rebuilds the aggregates by replay, and ends equal to a run without the fault', async () => {
    const { stack } = pipeline
    const { sim } = pipeline.sims
    const service = await pipeline.startAggregator()
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 8 * HOUR
    const running = await pipeline.startPollerRun({
      sim,
      token: TOKEN,
      startMs,
      extra: { POLL_MAX_WINDOW: '15m' },
    })
    server = running.server

    // Every watermark the poller reports, to prove it never goes back.
    const seen: number[] = []
    const sampler = (async () => {
      while (sampling) {
        const watermark = await running.status().then(
          (op) => op.watermark,
          () => null,
        )
        if (watermark !== null) seen.push(Date.parse(watermark))
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    })()

    const flushAt = await waitForWatermark(running, startMs + 2 * HOUR)
    const rebuildsBefore = service.status().stats.rebuilds
    const admin = createRedis(stack.redisUrl, { name: 'fault-flusher' })
    // The watermark read and the flush in one transaction: exactly the value that was lost.
    const [[, lost], [, flushReply]] = (await admin
      .multi()
      .hget(watermarkKey(running.server), 'value')
      .flushall()
      .exec()) as [[null, string | null], [null, string]]
    await admin.quit()
    const flushedAt = Date.now()
    expect(flushReply).toBe('OK')
    const lostMs = Number(lost)
    expect(lostMs).toBeGreaterThanOrEqual(flushAt)

    // The poller goes on from the watermark it finds in the checkpoint topic, and the aggregator
    // replays its input.
    await waitForPollAfter(flushedAt, () => running.status(), 'a poll after the flush').catch(
      (error: unknown) => {
        throw new Error(`${String(error)}; poller stderr: ${running.process.stderr().slice(-3000)}`)
      },
    )
    const afterFlush = Date.parse(String((await running.status()).watermark))
    expect(afterFlush).toBeGreaterThanOrEqual(lostMs)
    await expectResumedFrom(lostMs, flushedAt)
    await waitFor(() => service.status().stats.rebuilds > rebuildsBefore, {
      what: 'the aggregator to rebuild after the flush',
    })

    // Then redis-server itself goes away and comes back empty (no persistence).
    const rebuildsAfterFlush = service.status().stats.rebuilds
    // Read just before the stop: the watermark lost with the process is at least this.
    const beforeStop = createRedis(stack.redisUrl, { name: 'fault-reader' })
    const lostAtLeastMs = Number(await beforeStop.hget(watermarkKey(running.server), 'value'))
    await beforeStop.quit()
    expect(lostAtLeastMs).toBeGreaterThanOrEqual(afterFlush)
    await stack.redis.stopProcess()
    await stack.redis.start()
    const restartedAt = Date.now()
    await waitForPollAfter(restartedAt, () => running.status(), 'a poll after the restart')
    await waitFor(() => service.status().stats.rebuilds > rebuildsAfterFlush, {
      what: 'the aggregator to rebuild after the restart',
    })
    await expectResumedFrom(lostAtLeastMs, restartedAt)

    await waitForWatermark(running, Date.now() - 10_000)
    sampling = false
    await sampler
    const watermarkMs = await stopPollerRun(running)
    expect(seen.length).toBeGreaterThan(10)
    expect(seen.filter((ms, i) => i > 0 && ms < seen[i - 1]!)).toEqual([])

    await expectExactPipeline({
      stack,
      sim,
      server: running.server,
      fromMs: startMs,
      toMs: watermarkMs,
      aggregators: [service],
    })
  })
})
