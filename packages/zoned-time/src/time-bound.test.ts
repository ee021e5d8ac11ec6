import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import {
  dayStart,
  formatWallClock,
  localDate,
  parseTimeBound,
  type ParsedTime,
  type TimeBound,
} from './index.js'

const NOW_MS = Date.parse('2026-12-06T13:00:00Z')
const HOUR_MS = 3_600_000
const at = (iso: string): ParsedTime => ({ ok: true, ms: Date.parse(iso) })
const read = (text: string, zone: string, bound: TimeBound = 'instant'): ParsedTime =>
  parseTimeBound(text, zone, { nowMs: NOW_MS, bound })

describe('parseTimeBound: a bare date is the whole local day', () => {
  it('gives the day start as from, the next day start as to, its last millisecond as through', () => {
    for (const text of ['2026-11-29', '20261129', ' 2026-11-29 ']) {
      expect(read(text, 'America/Bogota', 'from')).toEqual(at('2026-11-29T05:00:00Z'))
      expect(read(text, 'America/Bogota', 'instant')).toEqual(at('2026-11-29T05:00:00Z'))
      expect(read(text, 'America/Bogota', 'to')).toEqual(at('2026-11-30T05:00:00Z'))
      expect(read(text, 'America/Bogota', 'through')).toEqual(at('2026-11-30T04:59:59.999Z'))
    }
  })

  it('--from 2026-11-29 --to 2026-12-01 covers both days and nothing more', () => {
    expect(read('2026-11-29', 'America/Bogota', 'from')).toEqual(at('2026-11-29T05:00:00Z'))
    expect(read('2026-11-30', 'America/Bogota', 'through')).toEqual(at('2026-12-01T04:59:59.999Z'))
    expect(read('2026-11-30', 'America/Bogota', 'to')).toEqual(
      read('2026-12-01', 'America/Bogota', 'from'),
    )
  })

  it("uses the zone's real days at DST: 23 and 25 hours, and a skipped midnight", () => {
    expect(read('2026-03-08', 'America/New_York', 'from')).toEqual(at('2026-03-08T05:00:00Z'))
    expect(read('2026-03-08', 'America/New_York', 'to')).toEqual(at('2026-03-09T04:00:00Z'))
    expect(read('2026-11-01', 'America/New_York', 'from')).toEqual(at('2026-11-01T04:00:00Z'))
    expect(read('2026-11-01', 'America/New_York', 'to')).toEqual(at('2026-11-02T05:00:00Z'))
    // Santiago skips 00:00 to 01:00 on 2026-09-06: the day starts at the jump.
    expect(read('2026-09-06', 'America/Santiago', 'from')).toEqual(at('2026-09-06T04:00:00Z'))
    expect(read('2026-09-06', 'America/Santiago', 'to')).toEqual(at('2026-09-07T03:00:00Z'))
  })

  it('refuses a day the zone skipped entirely, and a day that is not in the calendar', () => {
    expect(read('2011-12-30', 'Pacific/Apia', 'from')).toEqual({
      ok: false,
      error: '"2011-12-30" does not exist in Pacific/Apia (skipped by a time-zone change)',
    })
    expect(read('2011-12-29', 'Pacific/Apia', 'to')).toEqual(
      read('2011-12-31', 'Pacific/Apia', 'from'),
    )
    expect(read('2026-02-29', 'UTC', 'from').ok).toBe(false)
    expect(read('2026-13-01', 'UTC', 'from').ok).toBe(false)
  })
})

describe('parseTimeBound: times and durations are instants, whatever the bound', () => {
  const cases: [string, string][] = [
    ['2026-12-04T10:15:30-05:00', '2026-12-04T15:15:30Z'],
    ['2026-12-04T10:15:30.250Z', '2026-12-04T10:15:30.250Z'],
    ['2026-12-04t10:15z', '2026-12-04T10:15:00Z'],
    ['2026-12-04T10:15:30+0530', '2026-12-04T04:45:30Z'],
    ['2026-12-04T10:15+01', '2026-12-04T09:15:00Z'],
    ['2026-12-04 10:15', '2026-12-04T15:15:00Z'],
    ['2026-12-04 10:15:30', '2026-12-04T15:15:30Z'],
    ['2026-12-04T10:15:30.5', '2026-12-04T15:15:30.500Z'],
    ['20261204101530', '2026-12-04T15:15:30Z'],
    ['90s', '2026-12-06T12:58:30Z'],
    ['30m', '2026-12-06T12:30:00Z'],
    ['3h', '2026-12-06T10:00:00Z'],
    ['1d', '2026-12-05T13:00:00Z'],
    ['500ms', '2026-12-06T12:59:59.500Z'],
  ]
  it.each(cases)('reads %s in America/Bogota as %s', (text, iso) => {
    for (const bound of ['instant', 'from', 'to', 'through'] as const)
      expect(read(text, 'America/Bogota', bound)).toEqual(at(iso))
  })

  it('reads a time shown twice (fall-back) as its first occurrence and refuses one skipped', () => {
    expect(read('2026-11-01 01:30', 'America/New_York')).toEqual(at('2026-11-01T05:30:00Z'))
    expect(read('2026-03-08 02:30', 'America/New_York')).toEqual({
      ok: false,
      error:
        '"2026-03-08 02:30" does not exist in America/New_York (skipped by a daylight-saving change)',
    })
  })

  it('refuses other text with the accepted forms, and times out of the years 1 to 9999', () => {
    expect(read('yesterday', 'America/Bogota')).toEqual({
      ok: false,
      error:
        '"yesterday" is not a time: use a day (YYYY-MM-DD or YYYYmmdd: the whole day in America/Bogota), a time in America/Bogota (YYYY-MM-DD HH:MM[:SS], YYYYmmddHHiiss or ISO 8601 without an offset), ISO 8601 with an offset (2026-12-04T10:00:00-05:00) or a duration ago (90s, 30m, 3h, 1d)',
    })
    for (const text of [
      '',
      '2026-12-04T24:00',
      '2026-12-04T10:00+24:00',
      '2026-12-04 10',
      '2026-1204',
      '1.5h',
      '-3h',
      '3 h',
    ])
      expect(read(text, 'UTC').ok, text).toBe(false)
    expect(read('800000000d', 'UTC')).toEqual({
      ok: false,
      error: '"800000000d" is too long ago to be a time',
    })
    expect(read('0001-01-01T00:00:00+14:00', 'UTC')).toEqual({
      ok: false,
      error: '"0001-01-01T00:00:00+14:00" is outside the years 1 to 9999',
    })
    expect(read('9999-12-31T23:00:00-12:00', 'UTC').ok).toBe(false)
  })
})

const zones = [
  'UTC',
  'America/Bogota',
  'America/New_York',
  'Europe/Madrid',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Apia',
  'Africa/Casablanca',
] as const
const zone = fc.constantFrom(...zones)
/** Days from 1900 to 2100, as YYYY-MM-DD. */
const dayText = fc
  .integer({ min: Date.UTC(1900, 0, 1) / 86_400_000, max: Date.UTC(2100, 0, 1) / 86_400_000 })
  .map((day) => new Date(day * 86_400_000).toISOString().slice(0, 10))

describe('parseTimeBound properties', () => {
  it('a day is [from, to): it starts a local day, holds 23 to 25 hours, and the next starts at to', () => {
    fc.assert(
      fc.property(dayText, zone, (text, z) => {
        const from = read(text, z, 'from')
        if (!from.ok) {
          expect(from.error).toMatch(/does not exist/)
          return
        }
        const to = read(text, z, 'to')
        const through = read(text, z, 'through')
        if (!to.ok || !through.ok) throw new Error(`${text} read as from but not as to`)
        expect(localDate(from.ms, z)).toBe(text)
        expect(localDate(through.ms, z)).toBe(text)
        expect(dayStart(from.ms, z)).toBe(from.ms)
        expect(through.ms).toBe(to.ms - 1)
        expect(to.ms - from.ms).toBeGreaterThanOrEqual(23 * HOUR_MS)
        expect(to.ms - from.ms).toBeLessThanOrEqual(25 * HOUR_MS)
        expect(read(text.replaceAll('-', ''), z, 'to')).toEqual(to)
        // The next day that exists starts where this one ends: days tile without gap or overlap.
        expect(read(localDate(to.ms, z), z, 'from')).toEqual(to)
      }),
      { numRuns: 2_000 },
    )
  })

  it('never throws, answers fast, and reads the same instant for every bound unless given a day', () => {
    const text = fc.oneof(
      fc.constantFrom(...hostileStrings),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.stringMatching(
        /^\d{4}-\d\d-\d\d([ Tt]\d\d:\d\d(:\d\d(\.\d{1,9})?)?)?([Zz]|[+-]\d\d(:?\d\d)?)?$/,
      ),
      fc.stringMatching(/^\s?\d{1,25}(ms|s|m|h|d)\s?$|^\d{8}$|^\d{14}$/),
    )
    fc.assert(
      fc.property(text, zone, (t, z) => {
        const results = (['instant', 'from', 'to', 'through'] as const).map((bound) =>
          withinMs(() => read(t, z, bound), undefined, t),
        )
        for (const result of results)
          if (result.ok) expect(Number.isSafeInteger(result.ms)).toBe(true)
          else expect(result.error.length).toBeGreaterThan(0)
        if (!/^\s*(\d{8}|\d{4}-\d\d-\d\d)\s*$/u.test(t)) {
          expect(results[1]).toEqual(results[0])
          expect(results[2]).toEqual(results[0])
          expect(results[3]).toEqual(results[0])
        }
      }),
      { numRuns: 3_000 },
    )
  })

  it('round-trip: a wall clock written in the zone reads back to the same wall clock', () => {
    const instant = fc
      .integer({ min: Date.UTC(1000, 0, 2), max: Date.UTC(9999, 11, 30) })
      .map((ms) => Math.floor(ms / 1000) * 1000)
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        const wall = formatWallClock(ms, z)
        const dashed = `${wall.slice(0, 4)}-${wall.slice(4, 6)}-${wall.slice(6, 8)} ${wall.slice(8, 10)}:${wall.slice(10, 12)}:${wall.slice(12)}`
        const back = read(wall, z)
        if (!back.ok) throw new Error(back.error)
        expect(formatWallClock(back.ms, z)).toBe(wall)
        expect(read(dashed, z)).toEqual(back)
        expect(read(dashed.replace(' ', 'T'), z)).toEqual(back)
        expect(read(new Date(ms).toISOString(), z)).toEqual({ ok: true, ms })
      }),
      { numRuns: 1_500 },
    )
  })
})
