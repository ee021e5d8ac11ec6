import { describe, expect, it } from 'vitest'
import { createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createConsumerMetrics } from './metrics.js'

describe('createConsumerMetrics', () => {
  it('starts every message outcome at zero, so the first dead letter is an increase', async () => {
    const registry = createMetricsRegistry({
      collectDefaultMetrics: false,
      defaultLabels: { service: 'demo' },
    })
    createConsumerMetrics(registry)
    const text = await registry.metrics()
    for (const outcome of ['applied', 'duplicate', 'dead_lettered'])
      expect(text).toContain(
        `wolkvox_consumer_messages_total{outcome="${outcome}",service="demo"} 0`,
      )
  })
})
