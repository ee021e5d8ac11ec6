import { describe, expect, it } from 'vitest'
import { createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createTextMetrics } from './text-metrics.js'

describe('wolkvox_sentiment_text_scored_total', () => {
  it('counts what a chunk scored once it is stored, once however often it was handled', async () => {
    const registry = createMetricsRegistry({ collectDefaultMetrics: false })
    const metrics = createTextMetrics(registry)
    const line = async (sentiment: string): Promise<string | undefined> =>
      (await registry.metrics())
        .split('\n')
        .find((l) => l.startsWith(`wolkvox_sentiment_text_scored_total{sentiment="${sentiment}"`))
    expect(await line('negative')).toMatch(/ 0$/u)
    metrics.noted(3, [
      { offset: '10', sentiment: 'negative' },
      { offset: '12', sentiment: 'very_negative' },
    ])
    // The same chunk handled again (a retry): its notes are replaced, not added.
    metrics.noted(3, [{ offset: '10', sentiment: 'negative' }])
    metrics.stored(4, '100')
    expect(await line('negative')).toMatch(/ 0$/u)
    metrics.stored(3, '11')
    expect(await line('negative')).toMatch(/ 1$/u)
    expect(await line('very_negative')).toMatch(/ 0$/u)
    metrics.stored(3, '12')
    metrics.stored(3, '12')
    expect(await line('very_negative')).toMatch(/ 1$/u)
    expect(await line('negative')).toMatch(/ 1$/u)
  })
})
