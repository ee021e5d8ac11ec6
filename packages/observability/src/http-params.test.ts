import { describe, expect, it } from 'vitest'
import { InputError } from './http-router.js'
import { queryTimeParser } from './http-params.js'

const zone = 'America/Bogota'
const now = (): number => Date.parse('2026-12-06T13:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString()

describe('queryTimeParser', () => {
  it('from=D&to=D is the local day D: [its start, the next day start)', () => {
    const from = queryTimeParser(zone, { bound: 'from', now })
    const to = queryTimeParser(zone, { bound: 'to', now })
    expect(iso(from('2026-12-04'))).toBe('2026-12-04T05:00:00.000Z')
    expect(iso(to('2026-12-04'))).toBe('2026-12-05T05:00:00.000Z')
    expect(iso(to('20261204'))).toBe('2026-12-05T05:00:00.000Z')
  })

  it('reads times and durations ago as instants, whatever the bound', () => {
    for (const bound of ['instant', 'from', 'to'] as const) {
      const time = queryTimeParser(zone, { bound, now })
      expect(iso(time('2026-12-04T10:00:00-05:00'))).toBe('2026-12-04T15:00:00.000Z')
      expect(iso(time('2026-12-04 10:00'))).toBe('2026-12-04T15:00:00.000Z')
      expect(iso(time('20261204100000'))).toBe('2026-12-04T15:00:00.000Z')
      expect(iso(time('3h'))).toBe('2026-12-06T10:00:00.000Z')
    }
    expect(iso(queryTimeParser(zone, { now })('2026-12-04'))).toBe('2026-12-04T05:00:00.000Z')
  })

  it('refuses other text with an InputError (HTTP 400) listing the accepted forms', () => {
    const time = queryTimeParser(zone, { bound: 'to', now })
    expect(() => time('yesterday')).toThrow(InputError)
    expect(() => time('yesterday')).toThrow(
      '"yesterday" is not a time: use a day (YYYY-MM-DD or YYYYmmdd: the whole day in America/Bogota), a time in America/Bogota (YYYY-MM-DD HH:MM[:SS], YYYYmmddHHiiss or ISO 8601 without an offset), ISO 8601 with an offset (2026-12-04T10:00:00-05:00) or a duration ago (90s, 30m, 3h, 1d)',
    )
    expect(() => queryTimeParser('America/New_York', { now })('2026-03-08 02:30')).toThrow(
      '"2026-03-08 02:30" does not exist in America/New_York (skipped by a daylight-saving change)',
    )
  })
})
