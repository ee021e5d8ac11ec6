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
    expect(toWolkvoxStamp(widened.fromMs, zone) <= '20251102010000').toBe(true)
    expect(toWolkvoxStamp(widened.toMs, zone) >= '20251102015959').toBe(true)
    expect(instantsOf(parseLocal('20251102013000')!, zone)).toHaveLength(2)
  })

  it('needs nothing special across a skipped hour', () => {
    const range = { fromMs: at('2025-03-09T06:30:00Z'), toMs: at('2025-03-09T07:30:00Z') }
    expect(widenForAmbiguity(range, zone)).toEqual(range)
    expect(toWolkvoxStamp(range.toMs, zone)).toBe('20250309033000')
    expect(instantsOf(parseLocal('20250309023000')!, zone)).toEqual([])
  })
})
