import { describe, expect, it } from 'vitest'
import { dueRange, halve, splitRange } from './window.js'

const S = 1000
const DAY = 86_400 * S
const at = (iso: string): number => Date.parse(iso)
const settings = { lookbackMs: 0, settleLagMs: 60 * S, maxWindowMs: DAY }

describe('the edges of a poll window', () => {
  it('polls a single due second: a range whose two ends are the same second', () => {
    // Watermark 10:00:00, now 10:01:01.5 less a 1 min lag: only 10:00:01 is due (lookback 0).
    const range = dueRange({
      watermarkMs: at('2025-02-11T10:00:00Z'),
      startMs: 0,
      nowMs: at('2025-02-11T10:01:01.500Z'),
      settings,
    })
    expect(range).toEqual({
      fromMs: at('2025-02-11T10:00:01Z'),
      toMs: at('2025-02-11T10:00:01Z'),
    })
  })

  it('joins a short tail when the two together are exactly 31 days, the upstream limit', () => {
    // 30-day windows over 31 days: the 1-day tail is under a tenth of 30 days, and 30 + 1 days
    // is exactly the 31 days one call may ask for, so one call covers it all.
    const fromMs = at('2026-01-01T00:00:00Z')
    const range = { fromMs, toMs: fromMs + 31 * DAY - S }
    expect(splitRange(range, 30 * DAY)).toEqual([range])
    // One second more and the join would exceed 31 days: the tail is a call of its own.
    const longer = { fromMs, toMs: fromMs + 31 * DAY }
    expect(splitRange(longer, 30 * DAY)).toEqual([
      { fromMs, toMs: fromMs + 30 * DAY - S },
      { fromMs: fromMs + 30 * DAY, toMs: fromMs + 31 * DAY },
    ])
  })

  it('halves a capped window into its first and second half, the odd second in the second', () => {
    const fromMs = at('2025-02-11T00:00:00Z')
    // Three seconds: one, then two.
    expect(halve({ fromMs, toMs: fromMs + 2 * S })).toEqual([
      { fromMs, toMs: fromMs },
      { fromMs: fromMs + S, toMs: fromMs + 2 * S },
    ])
    // Two seconds: one each.
    expect(halve({ fromMs, toMs: fromMs + S })).toEqual([
      { fromMs, toMs: fromMs },
      { fromMs: fromMs + S, toMs: fromMs + S },
    ])
    // Six hours: 3 h each, 00:00:00-02:59:59 and 03:00:00-05:59:59.
    expect(halve({ fromMs, toMs: at('2025-02-11T05:59:59Z') })).toEqual([
      { fromMs, toMs: at('2025-02-11T02:59:59Z') },
      { fromMs: at('2025-02-11T03:00:00Z'), toMs: at('2025-02-11T05:59:59Z') },
    ])
  })
})
