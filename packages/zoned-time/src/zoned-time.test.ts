import { describe, expect, it } from 'vitest'
import {
  dayWindow,
  formatWallClock,
  hourWindow,
  localDate,
  parseTimeBound,
  instantsOfWall,
  isTimeZone,
  offsetAt,
  parseWallClock,
  wallClockToEpochMs,
  wallOf,
  wallTimeToEpochMs,
} from './index.js'

const at = (iso: string): number => Date.parse(iso)

describe('zoned time', () => {
  it('formats and reads Bogotá wall-clock time (UTC-5, no DST)', () => {
    expect(formatWallClock(at('2025-02-11T15:22:33.900Z'), 'America/Bogota')).toBe('20250211102233')
    expect(wallClockToEpochMs('2025-02-11 10:22:33', 'America/Bogota')).toBe(
      at('2025-02-11T15:22:33Z'),
    )
    expect(wallClockToEpochMs('20250211102233', 'America/Bogota')).toBe(at('2025-02-11T15:22:33Z'))
    expect(offsetAt(at('2025-06-01T00:00:00Z'), 'America/Bogota')).toBe(-5 * 3_600_000)
  })

  it('gives both instants of a repeated hour and none of a skipped one', () => {
    const zone = 'America/New_York'
    expect(instantsOfWall(wallOf(parseWallClock('2025-11-02 01:30:00')!), zone)).toEqual([
      at('2025-11-02T05:30:00Z'),
      at('2025-11-02T06:30:00Z'),
    ])
    expect(instantsOfWall(wallOf(parseWallClock('2025-03-09 02:30:00')!), zone)).toEqual([])
    // compatible disambiguation: earlier instant; gap read with the offset before the jump
    expect(wallTimeToEpochMs(wallOf(parseWallClock('2025-11-02 01:30:00')!), zone)).toBe(
      at('2025-11-02T05:30:00Z'),
    )
    expect(wallTimeToEpochMs(wallOf(parseWallClock('2025-03-09 02:30:00')!), zone)).toBe(
      at('2025-03-09T07:30:00Z'),
    )
  })

  it('rejects impossible or malformed times and unknown zones', () => {
    for (const text of [
      '2025-02-30 00:00:00',
      '2025-02-11 24:00:00',
      '2025-02-11T10:22',
      'yesterday',
    ]) {
      expect(wallClockToEpochMs(text, 'UTC')).toBeUndefined()
    }
    expect(isTimeZone('America/Bogota')).toBe(true)
    expect(isTimeZone('Mars/Olympus')).toBe(false)
  })
})

describe('local days and query times', () => {
  it('gives the local date of an instant, on both sides of local midnight', () => {
    expect(localDate(Date.parse('2025-02-11T04:59:59Z'), 'America/Bogota')).toBe('2025-02-10')
    expect(localDate(Date.parse('2025-02-11T05:00:00Z'), 'America/Bogota')).toBe('2025-02-11')
  })

  it('gives a 23-hour day on a spring-forward date', () => {
    const day = dayWindow(Date.parse('2025-03-30T12:00:00Z'), 'Europe/Madrid')
    expect(day.endMs - day.startMs).toBe(23 * 3_600_000)
    expect(hourWindow(Date.parse('2025-03-30T12:34:56Z')).startMs).toBe(
      Date.parse('2025-03-30T12:00:00Z'),
    )
  })

  it('reads query times with and without an offset, and refuses other text', () => {
    const read = (text: string, zone: string) => parseTimeBound(text, zone, { nowMs: 0 })
    expect(read('2025-02-11T10:00:00-05:00', 'UTC')).toEqual({
      ok: true,
      ms: Date.parse('2025-02-11T15:00:00Z'),
    })
    expect(read('20250211100000', 'America/Bogota')).toEqual({
      ok: true,
      ms: Date.parse('2025-02-11T15:00:00Z'),
    })
    expect(read('2025-02-11', 'America/Bogota')).toEqual({
      ok: true,
      ms: Date.parse('2025-02-11T05:00:00Z'),
    })
    expect(read('yesterday', 'America/Bogota').ok).toBe(false)
    expect(read('2025-02-30', 'America/Bogota').ok).toBe(false)
  })
})
