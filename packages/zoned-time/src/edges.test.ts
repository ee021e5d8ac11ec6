/*
 * The edges the other tests pass by: each value below is computed by hand (or by Date.parse on
 * an ISO text), and each case fails when one comparison, bound or slice of index.ts is changed
 * (found by mutation testing, README: Mutation testing).
 */
import { describe, expect, it } from 'vitest'
import { hourWindow, parseTimeBound, parseWallClock, type ParsedTime } from './index.js'

const HOUR_MS = 3_600_000
const read = (text: string, zone = 'UTC', nowMs = 0): ParsedTime =>
  parseTimeBound(text, zone, { nowMs })
const at = (iso: string): ParsedTime => ({ ok: true, ms: Date.parse(iso) })

describe('parseWallClock: every field in its range, each checked on its own', () => {
  it('refuses a minute or second of 60 (which Date would roll into the next hour or minute)', () => {
    expect(parseWallClock('2025-02-11 10:60:00')).toBeUndefined()
    expect(parseWallClock('2025-02-11 10:00:60')).toBeUndefined()
    expect(parseWallClock('2025-02-11 10:59:59')).toEqual({
      year: 2025,
      month: 2,
      day: 11,
      hour: 10,
      minute: 59,
      second: 59,
    })
  })

  it('refuses the year 0, month 0 or 13 and day 0, and takes the last day of each kind of month', () => {
    for (const text of [
      '0000-06-15 12:00:00',
      '2025-00-10 12:00:00',
      '2025-13-10 12:00:00',
      '2025-02-00 12:00:00',
      '2025-04-31 12:00:00',
      '2100-02-29 12:00:00',
    ])
      expect(parseWallClock(text), text).toBeUndefined()
    for (const text of ['2024-02-29 23:59:59', '2000-02-29 00:00:00', '2025-12-31 23:59:59'])
      expect(parseWallClock(text), text).toBeDefined()
  })
})

describe('hourWindow', () => {
  it('is the hour from its start to the next hour, whatever the minute', () => {
    const start = Date.parse('2025-03-30T12:00:00Z')
    for (const ms of [start, start + 1, start + HOUR_MS - 1])
      expect(hourWindow(ms)).toEqual({ startMs: start, endMs: start + HOUR_MS })
  })
})

describe('parseTimeBound edges', () => {
  it('shows a long text cut to its first 64 characters in the error, a text of 64 whole', () => {
    const long = `${'9'.repeat(60)}abcdXYZ`
    expect(read(long)).toEqual({
      ok: false,
      error: expect.stringMatching(new RegExp(`^"${'9'.repeat(60)}abcd…" is not a time: `)),
    })
    const exact = 'x'.repeat(64)
    expect(read(exact)).toEqual({
      ok: false,
      error: expect.stringMatching(new RegExp(`^"${exact}" is not a time: `)),
    })
  })

  it('keeps milliseconds of a longer fraction and drops the rest', () => {
    expect(read('2026-12-04T10:15:30.123456Z')).toEqual(at('2026-12-04T10:15:30.123Z'))
    expect(read('2026-12-04T10:15:30.999999999Z')).toEqual(at('2026-12-04T10:15:30.999Z'))
    expect(read('2026-12-04 10:15:30.0409', 'America/Bogota')).toEqual(
      at('2026-12-04T15:15:30.040Z'),
    )
  })

  it('takes offsets up to ±23:59 and refuses hours over 23 or minutes over 59', () => {
    expect(read('2026-12-04T23:00:00+23:00')).toEqual(at('2026-12-04T00:00:00Z'))
    expect(read('2026-12-04T10:00:00-23:59')).toEqual(at('2026-12-05T09:59:00Z'))
    expect(read('2026-12-04T10:00:00+05:59')).toEqual(at('2026-12-04T04:01:00Z'))
    expect(read('2026-12-04T10:00:00+0559')).toEqual(at('2026-12-04T04:01:00Z'))
    expect(read('2026-12-04T10:00:00-00:00')).toEqual(at('2026-12-04T10:00:00Z'))
    for (const text of [
      '2026-12-04T10:00:00+05:60',
      '2026-12-04T10:00:00-24',
      '2026-12-04T10:00:00+99:00',
    ])
      expect(read(text).ok, text).toBe(false)
  })

  it('refuses, without throwing, a duration that reaches before the first date a Date holds', () => {
    // 100,000,001 days is 8.64000000864e15 ms: a safe integer, past Date's ±8.64e15.
    expect(read('100000001d')).toEqual({
      ok: false,
      error: '"100000001d" is too long ago to be a time',
    })
    // 2,000 years back from 2026 is still the year 26.
    expect(read('730000d', 'UTC', Date.parse('2026-01-01T00:00:00Z'))).toEqual({
      ok: true,
      ms: Date.parse('2026-01-01T00:00:00Z') - 730_000 * 86_400_000,
    })
  })

  it('reads a text only when all of it is a time: nothing before it, nothing after it', () => {
    for (const text of [
      'x2026-12-04',
      '2026-12-04x',
      'x20261204',
      'x2026-12-04T10:00',
      '2026-12-04T10:00:00Zjunk',
      '2026-12-04T10:00:00-05:00:00',
      'x20261204101530',
      '202612041015301',
      '3hours',
      'x3h',
    ])
      expect(read(text).ok, text).toBe(false)
  })
})

describe('parseWallClock reads the whole text', () => {
  it('refuses anything before or after the time', () => {
    for (const text of [
      'x20250211100000',
      '20250211100000x',
      '2025-02-11 10:00:00 ',
      ' 2025-02-11 10:00:00',
    ])
      expect(parseWallClock(text), text).toBeUndefined()
  })
})
