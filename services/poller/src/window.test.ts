import { describe, expect, it } from 'vitest'
import { instantsOf, parseLocal, toWolkvoxStamp } from './local-time.js'
import { dueRange, halve, splitRange, widenForAmbiguity, type Range } from './window.js'

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const at = (iso: string): number => Date.parse(iso)
const settings = { lookbackMs: 10 * MIN, settleLagMs: 2 * MIN, maxWindowMs: 6 * HOUR }

describe('dueRange', () => {
  it('starts a new operation at POLL_START and ends at now less the settle lag', () => {
    const range = dueRange({
      watermarkMs: null,
      startMs: at('2025-02-11T00:00:00Z'),
      nowMs: at('2025-02-11T10:00:30.750Z'),
      settings,
    })
    expect(range).toEqual({ fromMs: at('2025-02-11T00:00:00Z'), toMs: at('2025-02-11T09:58:30Z') })
  })

  it('restarts one second after the watermark, less the lookback', () => {
    const range = dueRange({
      watermarkMs: at('2025-02-11T09:00:00Z'),
      startMs: 0,
      nowMs: at('2025-02-11T09:10:00Z'),
      settings,
    })
    expect(range).toEqual({ fromMs: at('2025-02-11T08:50:01Z'), toMs: at('2025-02-11T09:08:00Z') })
  })

  it('has nothing due inside the settle lag', () => {
    expect(
      dueRange({
        watermarkMs: null,
        startMs: at('2025-02-11T09:59:00Z'),
        nowMs: at('2025-02-11T10:00:00Z'),
        settings,
      }),
    ).toBeNull()
  })
})

describe('splitRange and halve', () => {
  const covers = (pieces: Range[], range: Range): void => {
    expect(pieces[0]!.fromMs).toBe(range.fromMs)
    expect(pieces.at(-1)!.toMs).toBe(range.toMs)
    for (let i = 1; i < pieces.length; i++)
      expect(pieces[i]!.fromMs).toBe(pieces[i - 1]!.toMs + 1000)
  }

  it('cuts a range into contiguous inclusive pieces no longer than the maximum', () => {
    const range = { fromMs: at('2025-02-10T00:00:00Z'), toMs: at('2025-02-11T01:00:00Z') }
    const pieces = splitRange(range, 6 * HOUR)
    expect(pieces).toHaveLength(5)
    covers(pieces, range)
    for (const p of pieces) expect(p.toMs - p.fromMs).toBeLessThan(6 * HOUR)
  })

  it('never exceeds 31 days, whatever the maximum says', () => {
    const range = { fromMs: at('2025-01-01T00:00:00Z'), toMs: at('2025-03-31T23:59:59Z') }
    const pieces = splitRange(range, 365 * DAY)
    covers(pieces, range)
    for (const p of pieces) expect(p.toMs - p.fromMs).toBeLessThan(31 * DAY)
  })

  it('joins a tail shorter than a tenth of a window to the window before it', () => {
    // Three whole days and one second, in 6 h windows: 12 calls, not a 13th for the last second.
    const range = { fromMs: at('2026-11-29T05:00:00Z'), toMs: at('2026-12-02T05:00:00Z') }
    const pieces = splitRange(range, 6 * HOUR)
    covers(pieces, range)
    expect(pieces).toHaveLength(12)
    expect(pieces.at(-1)).toEqual({ fromMs: at('2026-12-01T23:00:00Z'), toMs: range.toMs })
    // A tail of a tenth or more is a window of its own.
    const tenth = { fromMs: range.fromMs, toMs: range.toMs - 1000 + 36 * MIN }
    expect(splitRange(tenth, 6 * HOUR)).toHaveLength(13)
    // Never over 31 days: 31-day windows keep even a one-second tail apart.
    const month = { fromMs: range.fromMs, toMs: range.fromMs + 31 * DAY }
    expect(splitRange(month, 365 * DAY)).toHaveLength(2)
  })

  it('makes the fewest calls the rule allows, over many ranges', () => {
    // The definition, independent of the code: the least n such that n pieces, each at most a
    // window (31 days at most), the last one allowed a tail under a tenth of a window more while
    // it stays within 31 days, cover the range.
    const fewest = (seconds: number, step: number): number => {
      const stepS = step / 1000
      const maxS = (31 * DAY) / 1000
      for (let n = 1; ; n++) {
        const lastMax = Math.min(maxS, stepS + Math.ceil(stepS / 10) - 1)
        if (seconds <= (n - 1) * stepS + Math.max(stepS, lastMax)) return n
      }
    }
    let seed = 11
    const next = (): number => {
      seed = (seed * 48271) % 2147483647
      return seed / 2147483647
    }
    for (let round = 0; round < 600; round++) {
      const step = [MIN, 30 * MIN, 6 * HOUR, DAY, 40 * DAY][Math.floor(next() * 5)]!
      const seconds = 1 + Math.floor((next() * next() * (5 * step + 5 * DAY)) / 1000)
      const fromMs = at('2026-01-01T00:00:00Z') + Math.floor(next() * 1e6) * 1000
      const range = { fromMs, toMs: fromMs + (seconds - 1) * 1000 }
      const pieces = splitRange(range, step)
      covers(pieces, range)
      for (const p of pieces) expect(p.toMs - p.fromMs + 1000).toBeLessThanOrEqual(31 * DAY)
      expect(pieces.length, JSON.stringify({ step, seconds })).toBe(
        fewest(seconds, Math.min(step, 31 * DAY)),
      )
    }
  })

  it('halves down to single seconds and no further', () => {
    const range = { fromMs: at('2025-02-11T00:00:00Z'), toMs: at('2025-02-11T00:00:02Z') }
    const [a, b] = halve(range)!
    covers([a, b], range)
    expect(halve({ fromMs: range.fromMs, toMs: range.fromMs })).toBeNull()
  })
})

describe('requests around daylight-saving changes', () => {
  const zone = 'America/New_York'

  it('leaves a range alone in a zone without DST (Bogotá)', () => {
    const range = { fromMs: at('2025-02-11T05:00:00Z'), toMs: at('2025-02-12T04:59:59Z') }
    expect(widenForAmbiguity(range, 'America/Bogota')).toEqual(range)
    expect(toWolkvoxStamp(range.fromMs, 'America/Bogota')).toBe('20250211000000')
    expect(toWolkvoxStamp(range.toMs, 'America/Bogota')).toBe('20250211235959')
  })

  it('widens a bound in a repeated hour to cover the whole ambiguous span', () => {
    // New York falls back at 2025-11-02 02:00 EDT -> 01:00 EST; 01:00-01:59:59 happens twice.
    const firstOccurrence = at('2025-11-02T05:50:00Z') // 01:50 EDT
    const secondOccurrence = at('2025-11-02T06:30:00Z') // 01:30 EST
    const widened = widenForAmbiguity(
      { fromMs: secondOccurrence, toMs: firstOccurrence + 60_000 },
      zone,
    )
    // Each bound is in the repeated hour (a shift of 1 h), so each moves out by 2 h: 06:30Z - 2 h
    // is 04:30Z, 00:30 EDT (before the first 01:00); 05:51Z + 2 h is 07:51Z, 02:51 EST (after
    // the second 01:59:59). Exact: a widening by one shift, or the wrong way, fails.
    expect(widened).toEqual({
      fromMs: at('2025-11-02T04:30:00Z'),
      toMs: at('2025-11-02T07:51:00Z'),
    })
    expect(toWolkvoxStamp(widened.fromMs, zone)).toBe('20251102003000')
    expect(toWolkvoxStamp(widened.toMs, zone)).toBe('20251102025100')
    expect(instantsOf(parseLocal('20251102013000')!, zone)).toHaveLength(2)
  })

  it('needs nothing special across a skipped hour', () => {
    const range = { fromMs: at('2025-03-09T06:30:00Z'), toMs: at('2025-03-09T07:30:00Z') }
    expect(widenForAmbiguity(range, zone)).toEqual(range)
    expect(toWolkvoxStamp(range.toMs, zone)).toBe('20250309033000')
    expect(instantsOf(parseLocal('20250309023000')!, zone)).toEqual([])
  })
})
