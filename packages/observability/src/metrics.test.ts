import { describe, expect, it } from 'vitest'
import { createMetricsRegistry, mergeExpositions, withMetricsOf } from './metrics.js'

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

describe('withMetricsOf', () => {
  it('renders two registries with the same metric names as one valid exposition', async () => {
    const main = createMetricsRegistry({
      defaultLabels: { service: 'main' },
      collectDefaultMetrics: false,
    })
    const companion = createMetricsRegistry({
      defaultLabels: { service: 'companion' },
      collectDefaultMetrics: false,
    })
    for (const [registry, n] of [
      [main, 2],
      [companion, 5],
    ] as const) {
      registry
        .counter({ name: 'wolkvox_x_total', help: 'X.', labelNames: ['outcome'] })
        .inc({ outcome: 'ok' }, n)
      registry.histogram({ name: 'wolkvox_y_seconds', help: 'Y.', buckets: [1] }).observe(n / 4)
    }
    main.gauge({ name: 'wolkvox_only_main', help: 'Only main.' }).set(7)
    const text = await withMetricsOf(main, () => [companion]).metrics()
    const lines = text.trim().split('\n')
    // One HELP and one TYPE per family, each family's samples together under them.
    expect(lines.filter((l) => l.startsWith('# HELP wolkvox_x_total'))).toHaveLength(1)
    expect(lines.filter((l) => l.startsWith('# TYPE wolkvox_y_seconds'))).toHaveLength(1)
    const x = lines.indexOf('# TYPE wolkvox_x_total counter')
    expect(lines.slice(x + 1, x + 3)).toEqual([
      'wolkvox_x_total{outcome="ok",service="main"} 2',
      'wolkvox_x_total{outcome="ok",service="companion"} 5',
    ])
    const y = lines.indexOf('# TYPE wolkvox_y_seconds histogram')
    expect(lines.slice(y + 1, y + 9).map((l) => l.replace(/\{.*\}/u, '{}'))).toEqual([
      'wolkvox_y_seconds_bucket{} 1',
      'wolkvox_y_seconds_bucket{} 1',
      'wolkvox_y_seconds_sum{} 0.5',
      'wolkvox_y_seconds_count{} 1',
      'wolkvox_y_seconds_bucket{} 0',
      'wolkvox_y_seconds_bucket{} 1',
      'wolkvox_y_seconds_sum{} 1.25',
      'wolkvox_y_seconds_count{} 1',
    ])
    expect(text).toContain('wolkvox_only_main{service="main"} 7')
  })

  it('keeps a text that has families of its own whole', () => {
    expect(
      mergeExpositions([
        '# HELP a A.\n# TYPE a gauge\na 1\n',
        '# HELP b B.\n# TYPE b gauge\nb 2\n',
      ]),
    ).toBe('# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 2\n')
    expect(mergeExpositions([''])).toBe('')
  })
})
