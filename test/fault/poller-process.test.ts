/*
 * Faults of the poller's own process, with the sentiment aggregator consuming what it publishes:
 * - killed with SIGKILL after part of a window is on the topic (QUALITY.md: "restart re-polls;
 *   consumers see no double counts");
 * - 20 pollers racing for one token (QUALITY.md: "zero overlapping calls; every window published
 *   once");
 * - paused with SIGSTOP past its lease while another poller takes over (QUALITY.md: "resumed
 *   holder makes no call and cannot move the watermark").
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { topics } from '@wolkvox-chat-stream/events'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import { tokenFingerprint } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  expectExactPipeline,
  stopPollerRun,
  useFaultPipeline,
  waitForWatermark,
} from '../support/fault-pipeline.js'
import { topicEndOffsets } from '../support/fault-stack.js'
import { chatMessagesOf, newServerCode, pollerEnv } from '../support/poller-harness.js'
import {
  callWindow,
  runPoller,
  startPoller,
  type StatusDocument,
} from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-fault-poller-token-1f6d'
const SLOW_TOKEN = 'canary-fault-paused-token-c07a'
const HOUR = 3_600_000

describe('the poller process killed or paused mid-window', () => {
  const pipeline = useFaultPipeline({
    /** Dense history: one window of tens of thousands of messages takes seconds to produce. */
    dense: { tokens: [TOKEN], chatsPerHour: 400, seed: 45 },
    /** Sparse and slow: many small windows, each call 150 ms on the server. */
    slow: { tokens: [SLOW_TOKEN], chatsPerHour: 12, seed: 46, latencyMs: 150 },
  })
  let aggregator: ConsumerService

  beforeAll(async () => {
    aggregator = await pipeline.startAggregator()
  })

  it('SIGKILL after part of a window is published: the restart re-polls it, and nothing is counted twice', async () => {
    const { stack } = pipeline
    const { dense } = pipeline.sims
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 10 * HOUR
    // One window for the whole backlog, so the kill lands inside it.
    const extra = { POLL_MAX_WINDOW: '12h' }
    const base = await topicEndOffsets(stack.kafka, topics.chatMessage.name)
    const first = await pipeline.startPollerRun({
      sim: dense,
      token: TOKEN,
      startMs,
      extra,
    })
    const backlog = dense.truth({ from: new Date(startMs), to: new Date(Date.now() - 10_000) })
    const written = await waitFor(
      async () => {
        const n = (await topicEndOffsets(stack.kafka, topics.chatMessage.name)) - base
        return n > 0 ? n : 0
      },
      { what: 'the first records of the window', timeoutMs: 60_000, intervalMs: 20 },
    )
    first.process.kill('SIGKILL')
    expect((await first.process.exited).signal).toBe('SIGKILL')
    expect(written).toBeLessThan(backlog.messageCount)
    // The window was not finished: no watermark was written.
    const before = JSON.parse((await runPoller(['status'], first.env)).stdout) as StatusDocument
    expect(before.operations[0]!.watermark).toBeNull()
    // What the killed run got onto the topic, each once.
    const killedRun = await chatMessagesOf(stack.brokers, first.server)
    const writtenIds = new Set(killedRun.map((e) => e.event_id))
    expect(writtenIds.size).toBe(killedRun.length)
    expect(writtenIds.size).toBeGreaterThan(0)
    const callsBefore = dense.calls().length

    const second = await pipeline.startPollerRun({
      sim: dense,
      token: TOKEN,
      startMs,
      server: first.server,
      extra,
    })
    await waitForWatermark(second, Date.now() - 10_000)
    const watermarkMs = await stopPollerRun(second)
    // The restart polled the killed window again, from POLL_START (there was no watermark)...
    const restartCalls = dense
      .calls()
      .slice(callsBefore)
      .filter((c) => c.server === first.server)
    expect(restartCalls.length).toBeGreaterThan(0)
    expect(callWindow(restartCalls[0]!).fromMs).toBe(startMs)
    // ...and published part of it again: the records the killed run had sent but not yet recorded
    // in the published set (a chunk is recorded only after its acks, and the next chunk is sent
    // before that, so the kill always finds one unrecorded). Those ids are on the topic twice,
    // and only those: so "nothing counted twice" below is about real duplicates.
    const counts = new Map<string, number>()
    for (const e of await chatMessagesOf(stack.brokers, first.server))
      counts.set(e.event_id, (counts.get(e.event_id) ?? 0) + 1)
    const repeated = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
    expect(repeated.length).toBeGreaterThan(0)
    expect(repeated.filter((id) => !writtenIds.has(id))).toEqual([])
    expect([...counts.values()].filter((n) => n > 2)).toEqual([])
    const outcome = await expectExactPipeline({
      stack,
      sim: dense,
      server: first.server,
      fromMs: startMs,
      toMs: watermarkMs,
      aggregators: [aggregator],
    })
    expect(outcome.expected).toBeGreaterThanOrEqual(backlog.messageCount)
  })

  it('20 pollers race for one token: no overlapping call, every message published once', async () => {
    const { stack } = pipeline
    const { slow } = pipeline.sims
    const server = newServerCode()
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 6 * HOUR
    const env = pollerEnv({
      server,
      token: SLOW_TOKEN,
      simulatorUrl: slow.url,
      kafkaBrokers: stack.brokers,
      redisUrl: stack.redisUrl,
      extra: {
        POLL_START: new Date(startMs).toISOString(),
        POLL_MAX_WINDOW: '1h',
        POLL_LOCK_WAIT: '120s',
        POLL_SETTLE_LAG: '5s',
        POLL_LOOKBACK: '10s',
      },
    })
    slow.clearCalls()
    const racers = Array.from({ length: 20 }, () => startPoller(['once'], env))
    pipeline.track(...racers)
    const exits = await Promise.all(racers.map((p) => p.exited))
    expect(
      exits.map((e) => e.code),
      racers.map((p) => p.stderr()).join(''),
    ).toEqual(Array(20).fill(0))
    // Each took the token in turn: the first polled the backlog, the others what was new. The
    // backlog is 6 h less the 5 s settle lag, plus the seconds the first racer took to start: five
    // 1 h windows and a last one of about 1 h (a tail under 6 min joins it), so 6 calls. Each of
    // the 19 others finds a due range (the 10 s lookback reaches back past its predecessor's
    // watermark) of a few seconds, 1 call: at least 6 + 19 = 25 (more only after a retry).
    expect(slow.calls().length).toBeGreaterThanOrEqual(25)
    expect(slow.overlaps()).toEqual([])
    const watermarks = racers.map((p) => Date.parse(String(p.lines[0]?.watermark)))
    const last = Math.max(...watermarks)
    const outcome = await expectExactPipeline({
      stack,
      sim: slow,
      server,
      fromMs: startMs,
      toMs: last,
      aggregators: [aggregator],
    })
    expect(outcome.repeated).toBe(0)
  })

  it('SIGSTOP past its lease: the resumed poller makes no call and cannot move the watermark', async () => {
    const { stack } = pipeline
    const { slow } = pipeline.sims
    const server = newServerCode()
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 10 * HOUR
    const env = pollerEnv({
      server,
      token: SLOW_TOKEN,
      simulatorUrl: slow.url,
      kafkaBrokers: stack.brokers,
      redisUrl: stack.redisUrl,
      extra: {
        POLL_START: new Date(startMs).toISOString(),
        POLL_MAX_WINDOW: '30m',
        POLL_LOCK_TTL: '2s',
        POLL_LOCK_WAIT: '30s',
        POLL_SETTLE_LAG: '5s',
        POLL_LOOKBACK: '10s',
      },
    })
    const token = tokenFingerprint(SLOW_TOKEN)
    const callsOf = () => slow.calls().filter((c) => c.token === token)
    slow.clearCalls()

    const paused = startPoller(['once'], env)
    pipeline.track(paused)
    await waitFor(() => callsOf().filter((c) => c.outcome === 'completed').length >= 3, {
      what: 'a few windows polled',
      timeoutMs: 60_000,
      intervalMs: 20,
    })
    paused.kill('SIGSTOP')
    const pausedAt = Date.now()

    // Another poller takes the token once the paused one's lease has run out, and finishes.
    const takeover = await runPoller(['once'], env)
    expect(takeover.code, takeover.stderr).toBe(0)
    const { watermark } = JSON.parse(takeover.stdout) as { watermark: string }
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(2_000)
    const callsBefore = callsOf().length

    paused.kill('SIGCONT')
    const resumed = await paused.exited
    // It finds its lease gone and stops, saying so: before its next call or by aborting the call
    // it was paused in (both LOCK_LEASE_LOST), or at its fenced watermark write, refused.
    expect(resumed.code).toBe(1)
    expect(paused.stderr()).toMatch(/LOCK_LEASE_LOST|POLL_WATERMARK_REJECTED/)
    expect(callsOf()).toHaveLength(callsBefore)
    expect(slow.overlaps()).toEqual([])
    const status = JSON.parse((await runPoller(['status'], env)).stdout) as StatusDocument
    expect(status.operations[0]!.watermark).toBe(watermark)

    await expectExactPipeline({
      stack,
      sim: slow,
      server,
      fromMs: startMs,
      toMs: Date.parse(watermark),
      aggregators: [aggregator],
    })
  })
})
