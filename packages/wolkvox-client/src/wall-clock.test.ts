import { describe, expect, it } from 'vitest'
import { formatWallClock, isTimeZone, wallClockToEpochMs } from './wall-clock.js'

describe('formatWallClock', () => {
  it('writes Bogota wall-clock time (UTC-5) as 14 digits, dropping milliseconds', () => {
    expect(formatWallClock(new Date('2025-02-11T15:22:33.999Z'), 'America/Bogota')).toBe(
      '20250211102233',
    )
    expect(formatWallClock(new Date('2025-01-01T04:59:59Z'), 'America/Bogota')).toBe(
      '20241231235959',
    )
  })

  it('follows daylight saving time in zones that have it', () => {
    expect(formatWallClock(new Date('2025-07-01T12:00:00Z'), 'America/New_York')).toBe(
      '20250701080000',
    )
    expect(formatWallClock(new Date('2025-01-01T12:00:00Z'), 'America/New_York')).toBe(
      '20250101070000',
    )
  })

  it('knows which zones exist', () => {
    expect(isTimeZone('America/Bogota')).toBe(true)
    expect(isTimeZone('Mars/Olympus')).toBe(false)
  })
})

describe('wallClockToEpochMs', () => {
  it('reads both the 14-digit form and a message date', () => {
    const expected = Date.parse('2025-02-11T15:22:33Z')
    expect(wallClockToEpochMs('20250211102233', 'America/Bogota')).toBe(expected)
    expect(wallClockToEpochMs('2025-02-11 10:22:33', 'America/Bogota')).toBe(expected)
  })

  it('takes the earlier instant of a repeated hour and skips a missing one', () => {
    // 2025-11-02 01:30 happens twice in New York; 2025-03-09 02:30 never happens.
    expect(wallClockToEpochMs('2025-11-02 01:30:00', 'America/New_York')).toBe(
      Date.parse('2025-11-02T05:30:00Z'),
    )
    const gap = wallClockToEpochMs('2025-03-09 02:30:00', 'America/New_York')
    expect(gap).toBeDefined()
    expect(formatWallClock(gap!, 'America/New_York')).toMatch(/^20250309(01|03)/)
  })

  it('is undefined for text that is not a wall-clock time', () => {
    expect(wallClockToEpochMs('2025-02-30 10:00:00', 'UTC')).toBeUndefined()
    expect(wallClockToEpochMs('2025-02-11 24:00:00', 'UTC')).toBeUndefined()
    expect(wallClockToEpochMs('yesterday', 'UTC')).toBeUndefined()
  })
})
