/*
 * Fault: the Kafka broker stops while the poller is producing a big backlog, and starts again.
 * QUALITY.md: "broker restart mid-produce: no message missing after recovery". The poller's next
 * poll completes the backlog; the topic holds the ground truth once per event_id, and the sentiment
 * aggregator, consuming throughout, ends equal to the reference.
 */
import { describe, expect, it } from 'vitest'
import { topics } from '@wolkvox-chat-stream/events'
import {
  expectExactPipeline,
  stopPollerRun,
  useFaultPipeline,
  waitForWatermark,
} from '../support/fault-pipeline.js'
import { topicEndOffsets } from '../support/fault-stack.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-fault-broker-token-5e21'
const HOUR = 3_600_000

describe('the broker stopped and restarted while the poller produces', () => {
  const pipeline = useFaultPipeline({
    // About 4,000 messages per hour of history: a 10-hour backlog takes the poller a few seconds.
    sim: { tokens: [TOKEN], chatsPerHour: 400, seed: 41 },
  })

  it('loses no message: the next poll completes the backlog, and the aggregates are exact', async () => {
    const { stack } = pipeline
    const { sim } = pipeline.sims
    const aggregator = await pipeline.startAggregator()
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 10 * HOUR
    const backlogEndMs = Date.now() - 10_000
    const backlog = sim.truth({ from: new Date(startMs), to: new Date(backlogEndMs) })
    const base = await topicEndOffsets(stack.kafka, topics.chatMessage.name)
    const running = await pipeline.startPollerRun({
      sim,
      token: TOKEN,
      startMs,
      extra: { POLL_MAX_WINDOW: '1h' },
    })

    // Stop the broker as soon as the first records of the backlog are on the topic.
    const before = await waitFor(
      async () => {
        const written = (await topicEndOffsets(stack.kafka, topics.chatMessage.name)) - base
        return written > 0 ? written : 0
      },
      { what: 'the first records of the backlog', timeoutMs: 60_000, intervalMs: 20 },
    )
    await stack.broker.stopProcess()
    // The fault struck mid-produce: most of the backlog was not written yet.
    expect(before).toBeLessThan(backlog.messageCount)

    // The poller notices: its poll fails as retriable (a refused connection was once reported as
    // KAFKA_REQUEST_FAILED, not retriable), and the watermark stays behind.
    const failed = await waitFor(
      async () => {
        const op = await running.status()
        return op.lastError?.code.startsWith('KAFKA_') ? op : null
      },
      { what: 'the poll to fail on the stopped broker', timeoutMs: 90_000, intervalMs: 250 },
    )
    expect(failed.lastError!.code).toBe('KAFKA_UNAVAILABLE')
    expect(failed.watermark === null || Date.parse(failed.watermark) < backlogEndMs).toBe(true)

    await stack.broker.start()
    const restartedAt = Date.now()
    await waitForWatermark(running, restartedAt - 10_000)
    const watermarkMs = await stopPollerRun(running)

    const outcome = await expectExactPipeline({
      stack,
      sim,
      server: running.server,
      fromMs: startMs,
      toMs: watermarkMs,
      aggregators: [aggregator],
    })
    expect(outcome.expected).toBeGreaterThanOrEqual(backlog.messageCount)
  })
})
