/*
 * Regression (issue 26): `npm run poller -- once --from 5h --to <9 minutes from now>` moved the
 * watermark nine minutes into the future (`/status` showed lag 0 and coverage past now) and the
 * next scheduled poll ran with `"window": null`. An explicit range must never move the watermark
 * past what the upstream can already answer: now less POLL_SETTLE_LAG. `once` and `backfill`
 * refuse such a `--to` with POLL_RANGE_NOT_SETTLED, and so does the core for any caller.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createPollerRuntime, readPollerConfig } from '@wolkvox-chat-stream/poller'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { newServerCode, pollerEnv, topicDiffFromTruth } from '../support/poller-harness.js'
import { runPoller, type StatusDocument } from '../support/poller-service-harness.js'

const TOKEN = 'canary-poller-future-token-6a13'
const MINUTE = 60_000
const SETTLE_LAG_MS = 2 * MINUTE
const kafkaBrokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')

interface OnceLine {
  window: { from: string; to: string } | null
  watermark: string | null
  published: number
}

describe('an explicit range never claims the future', () => {
  let sim: RunningSimulator

  beforeAll(async () => {
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 30, seed: 26, latencyMs: 10 })
  })

  afterAll(async () => {
    await sim?.close()
  })

  it('once and backfill refuse a --to after now less POLL_SETTLE_LAG; the watermark stays where the upstream can answer', async () => {
    const server = newServerCode()
    const startMs = Math.floor(Date.now() / 1000) * 1000 - 60 * MINUTE
    const env = pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers,
      redisUrl,
      extra: {
        POLL_START: new Date(startMs).toISOString(),
        POLL_SETTLE_LAG: '2m',
        POLL_LOOKBACK: '10s',
      },
    })
    const status = async (): Promise<StatusDocument['operations'][number]> => {
      const out = await runPoller(['status'], env)
      expect(out.code, out.stderr).toBe(0)
      return (JSON.parse(out.stdout) as StatusDocument).operations[0]!
    }

    // A first poll starts the operation at POLL_START and ends at now less the settle lag.
    const first = await runPoller(['once'], env)
    expect(first.code, first.stderr).toBe(0)
    const started = JSON.parse(first.stdout) as OnceLine
    expect(started.published).toBeGreaterThan(0)
    const watermarkMs = Date.parse(started.watermark!)
    expect(watermarkMs).toBeLessThanOrEqual(Date.now() - SETTLE_LAG_MS)

    // The report of the issue: nine minutes into the future.
    const future = new Date(Date.now() + 9 * MINUTE).toISOString()
    const once = await runPoller(['once', '--from', '5h', '--to', future], env)
    expect(once.code).toBe(1)
    expect(once.stderr).toMatch(
      /poller: POLL_RANGE_NOT_SETTLED: once --to .* is after now less POLL_SETTLE_LAG/,
    )
    expect(once.stdout).toBe('')

    // Also a --to only a minute ago, inside the settle lag: still not answerable.
    const recent = new Date(Date.now() - MINUTE).toISOString()
    const inLag = await runPoller(['once', '--from', '30m', '--to', recent], env)
    expect(inLag.code).toBe(1)
    expect(inLag.stderr).toContain('POLL_RANGE_NOT_SETTLED')

    const backfill = await runPoller(
      ['backfill', '--server', server, '--from', '3h', '--to', future],
      env,
    )
    expect(backfill.code).toBe(1)
    expect(backfill.stderr).toMatch(/poller: POLL_RANGE_NOT_SETTLED: backfill --to/)

    // The core refuses too, whoever calls it: nothing fetched, the watermark untouched.
    const config = readPollerConfig(env)
    const runtime = await createPollerRuntime(
      config,
      createLogger({ name: 'poller-test', level: 'fatal' }),
      createMetricsRegistry({ collectDefaultMetrics: false }),
    )
    const callsBefore = sim.calls().length
    try {
      await expect(
        runtime.poll(config.operations[0]!, {
          fromMs: watermarkMs - 10 * MINUTE,
          toMs: Math.floor((Date.now() + 9 * MINUTE) / 1000) * 1000,
        }),
      ).rejects.toMatchObject({ code: 'POLL_RANGE_NOT_SETTLED', retriable: false })
    } finally {
      await runtime.close()
    }
    expect(sim.calls().length).toBe(callsBefore)

    const after = await status()
    expect(after.watermark).toBe(started.watermark)
    expect(Date.parse(after.coverage.to!)).toBeLessThanOrEqual(Date.now() - SETTLE_LAG_MS)

    // A range that ends by now less the settle lag still works, and the next scheduled-style poll
    // has a window (it is not stuck behind a watermark in the future).
    const earlierMs = startMs - 60 * MINUTE
    const settled = new Date(Date.now() - SETTLE_LAG_MS - 5_000).toISOString()
    const ok = await runPoller(
      ['once', '--from', new Date(earlierMs).toISOString(), '--to', settled],
      env,
    )
    expect(ok.code, ok.stderr).toBe(0)
    const next = await runPoller(['once'], env)
    expect(next.code, next.stderr).toBe(0)
    const nextLine = JSON.parse(next.stdout) as OnceLine
    expect(nextLine.window).not.toBeNull()
    const finalMs = Date.parse(nextLine.watermark!)
    expect(finalMs).toBeLessThanOrEqual(Date.now() - SETTLE_LAG_MS)

    // What is on the topic is exactly the upstream's truth from the explicit range's start to
    // the watermark: nothing missing, nothing foreign, every field exact.
    const diff = await topicDiffFromTruth(
      kafkaBrokers,
      server,
      sim.truth({ from: new Date(earlierMs), to: new Date(finalMs) }),
    )
    expect(diff).toEqual({ missing: [], unexpected: [], repeated: [], wrong: [] })
  })
})
