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
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-fault-redis-token-80c4'
const HOUR = 3_600_000

describe('Redis losing its data while the poller and the aggregator run', () => {
  const pipeline = useFaultPipeline({
    // 100 ms per call: the backlog takes a few seconds, so the faults strike while it is polled.
    sim: { tokens: [TOKEN], chatsPerHour: 60, seed: 43, latencyMs: 100 },
  })
  let sampling = true

  afterAll(() => {
    sampling = false
  })

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
    await admin.flushall()
    await admin.quit()
    const flushedAt = Date.now()

    // The poller goes on from the watermark it finds in the checkpoint topic, and the aggregator
    // replays its input.
    const afterFlush = await waitFor(
      async () => {
        const op = await running.status()
        const live = op.lastSuccess.live
        return live && Date.parse(live.at) > flushedAt && op.watermark !== null
          ? Date.parse(op.watermark)
          : 0
      },
      { what: 'a poll after the flush', timeoutMs: 60_000, intervalMs: 200 },
    )
    expect(afterFlush).toBeGreaterThanOrEqual(flushAt)
    await waitFor(() => service.status().stats.rebuilds > rebuildsBefore, {
      what: 'the aggregator to rebuild after the flush',
    })

    // Then redis-server itself goes away and comes back empty (no persistence).
    const rebuildsAfterFlush = service.status().stats.rebuilds
    await stack.redis.stopProcess()
    await stack.redis.start()
    const restartedAt = Date.now()
    await waitFor(
      async () => {
        const live = (await running.status()).lastSuccess.live
        return live !== undefined && Date.parse(live.at) > restartedAt
      },
      { what: 'a poll after the restart', timeoutMs: 60_000, intervalMs: 200 },
    )
    await waitFor(() => service.status().stats.rebuilds > rebuildsAfterFlush, {
      what: 'the aggregator to rebuild after the restart',
    })

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
