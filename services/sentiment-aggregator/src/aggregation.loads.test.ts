/*
 * The module loads: imported inside the test, so a fault in its module-level tables (the index of
 * each counted metric) fails this test rather than only the loading of the files that import it,
 * which a test runner may report as no test at all (Stryker's Vitest runner does: README,
 * Mutation testing).
 */
import { describe, expect, it } from 'vitest'

describe('aggregation.ts', () => {
  it('loads, with one metric per sentiment, sender and text sentiment', async () => {
    const aggregation = await import('./aggregation.js')
    const counted = new Set(aggregation.metrics)
    for (const s of aggregation.sentiments) expect(counted.has(`s.${s}`), s).toBe(true)
    for (const s of aggregation.senders) expect(counted.has(`f.${s}`), s).toBe(true)
    for (const s of aggregation.textSentiments) expect(counted.has(`x.${s}`), s).toBe(true)
  })
})
