import { describe, expect, it } from 'vitest'
import { createMetricsRegistry } from './metrics.js'

const code = (fn: () => unknown): unknown => {
  try {
    fn()
  } catch (error) {
    return (error as { code?: unknown }).code
  }
  return undefined
}

describe('createMetricsRegistry', () => {
  it('renders counters, gauges and histograms with default labels', async () => {
    const metrics = createMetricsRegistry({
      collectDefaultMetrics: false,
      defaultLabels: { service: 'collector' },
    })
    const published = metrics.counter({
      name: 'wolkvox_messages_published_total',
      help: 'Messages written to Kafka.',
      labelNames: ['topic'],
    })
    const lag = metrics.gauge({ name: 'wolkvox_poll_lag_seconds', help: 'Lag.' })
    const latency = metrics.histogram({
      name: 'wolkvox_poll_duration_seconds',
      help: 'Poll time.',
      buckets: [0.1, 1],
    })
    published.inc({ topic: 'chat' }, 2)
    lag.set(4)
    latency.observe(0.5)

    const text = await metrics.metrics()
    expect(text).toContain('# HELP wolkvox_messages_published_total Messages written to Kafka.')
    expect(text).toContain('# TYPE wolkvox_messages_published_total counter')
    expect(text).toContain('wolkvox_messages_published_total{topic="chat",service="collector"} 2')
    expect(text).toContain('wolkvox_poll_lag_seconds{service="collector"} 4')
    expect(text).toContain('wolkvox_poll_duration_seconds_bucket{le="0.1",service="collector"} 0')
    expect(text).toContain('wolkvox_poll_duration_seconds_bucket{le="1",service="collector"} 1')
    expect(metrics.contentType).toMatch(/^text\/plain/)
  })

  it('computes a gauge at scrape time with collect', async () => {
    const metrics = createMetricsRegistry({ collectDefaultMetrics: false })
    let depth = 7
    metrics.gauge({
      name: 'wolkvox_queue_depth',
      help: 'Depth.',
      collect() {
        this.set(depth)
      },
    })
    expect(await metrics.metrics()).toContain('wolkvox_queue_depth 7')
    depth = 9
    expect(await metrics.metrics()).toContain('wolkvox_queue_depth 9')
  })

  it('exports process metrics under the prefix by default', async () => {
    const metrics = createMetricsRegistry()
    expect(await metrics.metrics()).toContain('wolkvox_process_cpu_seconds_total')
  })

  it('rejects malformed or duplicate names with METRICS_NAME_INVALID', () => {
    const metrics = createMetricsRegistry({ collectDefaultMetrics: false })
    const counter = (name: string, labelNames: string[] = []) =>
      code(() => metrics.counter({ name, help: 'h', labelNames }))
    expect(counter('messages_total')).toBe('METRICS_NAME_INVALID')
    expect(counter('wolkvox_Messages_total')).toBe('METRICS_NAME_INVALID')
    expect(counter('wolkvox_')).toBe('METRICS_NAME_INVALID')
    expect(counter('wolkvox_ok_total', ['Topic'])).toBe('METRICS_NAME_INVALID')
    expect(counter('wolkvox_ok_total', ['__reserved'])).toBe('METRICS_NAME_INVALID')
    expect(counter('wolkvox_ok_total', ['topic'])).toBeUndefined()
    expect(counter('wolkvox_ok_total')).toBe('METRICS_NAME_INVALID')
    expect(code(() => createMetricsRegistry({ prefix: 'app_' }))).toBe('METRICS_NAME_INVALID')
    expect(
      code(() =>
        createMetricsRegistry({ collectDefaultMetrics: false, defaultLabels: { 'a-b': 'x' } }),
      ),
    ).toBe('METRICS_NAME_INVALID')
  })

  it('rejects a label that would replace a default label', () => {
    const metrics = createMetricsRegistry({
      collectDefaultMetrics: false,
      defaultLabels: { service: 'dashboard' },
    })
    expect(
      code(() => metrics.counter({ name: 'wolkvox_a_total', help: 'h', labelNames: ['service'] })),
    ).toBe('METRICS_NAME_INVALID')
    expect(
      code(() => metrics.counter({ name: 'wolkvox_a_total', help: 'h', labelNames: ['upstream'] })),
    ).toBeUndefined()
  })

  it('requires names to carry a custom prefix', () => {
    const metrics = createMetricsRegistry({
      prefix: 'wolkvox_collector_',
      collectDefaultMetrics: false,
    })
    expect(code(() => metrics.gauge({ name: 'wolkvox_other', help: 'h' }))).toBe(
      'METRICS_NAME_INVALID',
    )
    expect(code(() => metrics.gauge({ name: 'wolkvox_collector_up', help: 'h' }))).toBeUndefined()
  })

  it('keeps registries apart', async () => {
    const a = createMetricsRegistry({ collectDefaultMetrics: false })
    const b = createMetricsRegistry({ collectDefaultMetrics: false })
    a.counter({ name: 'wolkvox_shared_total', help: 'h' })
    b.counter({ name: 'wolkvox_shared_total', help: 'h' }).inc()
    expect(await a.metrics()).toContain('wolkvox_shared_total 0')
    expect(await b.metrics()).toContain('wolkvox_shared_total 1')
  })
})
