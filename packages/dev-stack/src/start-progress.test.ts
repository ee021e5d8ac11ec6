import { describe, expect, it } from 'vitest'
import {
  consumerFigures,
  parseMetrics,
  pollerFigures,
  progressLine,
  shortDuration,
  sumOf,
  type Snapshot,
} from './start-progress.js'

const pollerMetrics = `# HELP wolkvox_poller_events_published_total ChatMessage events acknowledged by Kafka.
# TYPE wolkvox_poller_events_published_total counter
wolkvox_poller_events_published_total{server="0010",service="poller"} 1000
wolkvox_poller_events_published_total{server="0020",service="poller"} 500
wolkvox_poller_requests_total{server="0010",outcome="ok",service="poller"} 7
wolkvox_poller_requests_total{server="0010",outcome="WOLKVOX_SERVER_ERROR",service="poller"} 2
`

const consumerMetrics = `wolkvox_consumer_messages_total{outcome="applied",service="sentiment-aggregator"} 1200
wolkvox_consumer_messages_total{outcome="duplicate",service="sentiment-aggregator"} 30
wolkvox_consumer_lag_messages{partition="0",service="sentiment-aggregator"} 40
wolkvox_consumer_lag_messages{partition="1",service="sentiment-aggregator"} 2
wolkvox_consumer_dead_letters_total{code="EVENT_DECODE_FAILED",service="sentiment-aggregator"} 1
wolkvox_consumer_retries_total{code="REDIS_UNAVAILABLE",service="sentiment-aggregator"} 3
`

describe('npm start progress', () => {
  it('parses the Prometheus text format, escaped label values included', () => {
    const metrics = parseMetrics(
      `${pollerMetrics}odd_metric{a="x\\"y,z",b="line\\nnext"} 2.5\nbroken line\n`,
    )
    expect(sumOf(metrics, 'wolkvox_poller_events_published_total')).toBe(1500)
    expect(metrics.get('odd_metric')).toEqual([
      { labels: { a: 'x"y,z', b: 'line\nnext' }, value: 2.5 },
    ])
    expect(sumOf(metrics, 'missing_total')).toBe(0)
  })

  it("reads the poller's figures from /metrics and the fleet summary of /status/servers", () => {
    // The summary as the poller answers it (more than is read here).
    const servers = {
      generatedAt: '2026-01-01T10:00:10.000Z',
      summary: {
        operations: 2,
        maxLag: { server: '0010', seconds: 130 },
        lastPollAt: '2026-01-01T10:00:05.000Z',
        lastError: {
          server: '0020',
          at: '2026-01-01T09:59:00.000Z',
          purpose: 'live',
          code: 'WOLKVOX_SERVER_ERROR',
        },
      },
      servers: [],
    }
    const figures = pollerFigures(pollerMetrics, servers)
    expect(figures).toEqual({
      published: 1500,
      failedRequests: 2,
      lagSeconds: 130,
      lastPollAt: '2026-01-01T10:00:05.000Z',
      lastError: { code: 'WOLKVOX_SERVER_ERROR', at: '2026-01-01T09:59:00.000Z' },
    })
    expect(
      pollerFigures('', { summary: { maxLag: null, lastPollAt: null, lastError: null } }),
    ).toEqual({
      published: 0,
      failedRequests: 0,
      lagSeconds: null,
      lastPollAt: null,
      lastError: null,
    })
  })

  it("reads a consumer's figures", () => {
    expect(consumerFigures(consumerMetrics)).toEqual({ applied: 1200, lagMessages: 42, errors: 4 })
  })

  it('shows rates since the previous line, lag, last poll and errors in one line', () => {
    const start = Date.parse('2026-01-01T10:00:00.000Z')
    const before: Snapshot = {
      atMs: start + 10_000,
      poller: {
        published: 0,
        failedRequests: 0,
        lagSeconds: null,
        lastPollAt: null,
        lastError: null,
      },
      consumers: {
        sentiment: { applied: 0, lagMessages: 0, errors: 0 },
        classifier: null,
        quality: { applied: 0, lagMessages: 0, errors: 0 },
      },
    }
    expect(progressLine(before, undefined, start)).toBe(
      '10s │ poller … ev/s, no watermark yet, first poll running │ sentiment … msg/s, lag 0 │ classifier not answering │ quality … msg/s, lag 0 │ errors 0',
    )
    const after: Snapshot = {
      atMs: start + 20_000,
      poller: {
        published: 15_000,
        failedRequests: 1,
        lagSeconds: 125,
        lastPollAt: '2026-01-01T10:00:16.000Z',
        lastError: null,
      },
      consumers: {
        sentiment: { applied: 12_000, lagMessages: 3_000, errors: 2 },
        classifier: { applied: 9_000, lagMessages: 6_000, errors: 0 },
        quality: { applied: 10_000, lagMessages: 500, errors: 1 },
      },
    }
    expect(progressLine(after, before, start)).toBe(
      '20s │ poller 1,500 ev/s, lag 2m05s, last poll 4s ago │ sentiment 1,200 msg/s, lag 3,000 │ classifier … msg/s, lag 6,000 │ quality 1,000 msg/s, lag 500 │ errors 4',
    )
  })

  it('writes short durations', () => {
    expect([0, 42_000, 185_000, 7_800_000].map(shortDuration)).toEqual([
      '0s',
      '42s',
      '3m05s',
      '2h10m',
    ])
  })
})
