import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { assertTimeZone, upstreamDateToEpochMs } from './zoned-time.js'

const iso = (date: string, zone: string): string | undefined => {
  const ms = upstreamDateToEpochMs(date, zone)
  return ms === undefined ? undefined : new Date(ms).toISOString()
}

interface ZoneCase {
  zone: string
  local: string
  utc: string
  what: string
}

// The same cases run through java.time in test/integration/events-java-interop.test.ts.
const { cases } = JSON.parse(
  readFileSync(new URL('../test-fixtures/zone-cases.json', import.meta.url), 'utf8'),
) as { cases: ZoneCase[] }

describe('upstream dates read in the operation zone', () => {
  it.each(cases)('$zone $local -> $utc ($what)', ({ zone, local, utc }) => {
    expect(iso(local, zone)).toBe(utc)
  })

  it.each([
    '2025-02-30 10:00:00',
    '2025-13-01 10:00:00',
    '2025-02-11 24:00:00',
    '2025-02-11 10:60:00',
    '2025-02-11T10:22:33',
    '2025-02-11 10:22',
    ' 2025-02-11 10:22:33',
    '20250211102233',
    '0000-01-01 00:00:00',
    '',
  ])('refuses %j', (text) => {
    expect(upstreamDateToEpochMs(text, 'America/Bogota')).toBeUndefined()
  })

  it('gives the same answer from the per-day cache as from a cold start', () => {
    const first = upstreamDateToEpochMs('2024-11-03 01:59:59', 'America/New_York')
    for (let i = 0; i < 3; i++) {
      expect(upstreamDateToEpochMs('2024-11-03 01:59:59', 'America/New_York')).toBe(first)
    }
    expect(new Date(first!).toISOString()).toBe('2024-11-03T05:59:59.000Z')
    expect(iso('2024-11-03 02:00:00', 'America/New_York')).toBe('2024-11-03T07:00:00.000Z')
  })

  it('refuses an unknown zone with EVENT_TIME_ZONE_INVALID', () => {
    expect(() => assertTimeZone('Mars/Olympus')).toThrow(
      expect.objectContaining({ code: 'EVENT_TIME_ZONE_INVALID' }),
    )
    expect(() => upstreamDateToEpochMs('2025-02-11 10:22:33', 'Mars/Olympus')).toThrow(
      expect.objectContaining({ code: 'EVENT_TIME_ZONE_INVALID' }),
    )
  })
})
