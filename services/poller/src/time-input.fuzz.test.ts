import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatDuration } from '@wolkvox-chat-stream/config'
import { hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { formatWallClock } from '@wolkvox-chat-stream/zoned-time'
import { parseTimeInput } from './time-input.js'

const zone = fc.constantFrom('America/Bogota', 'America/New_York', 'Europe/Madrid', 'UTC')
const now = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })
const DATE_LIMIT_MS = 8.64e15

const timeInputLike = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.stringMatching(/^\s?\d{1,25}(ms|s|m|h|d)\s?$/),
  fc.stringMatching(/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:?\d\d)?$/),
  fc.stringMatching(/^\d{14}$/),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
)

describe('parseTimeInput on any text', () => {
  it('never throws: returns an instant in the Date range or an error text, fast', () => {
    fc.assert(
      fc.property(timeInputLike, zone, now, (text, z, nowMs) => {
        let result: number | string
        try {
          result = withinMs(() => parseTimeInput(text, z, nowMs), undefined, text)
        } catch (error) {
          throw new Error(`parseTimeInput threw for ${JSON.stringify(text.slice(0, 80))}`, {
            cause: error,
          })
        }
        if (typeof result === 'string') {
          expect(result.length).toBeGreaterThan(0)
          return
        }
        expect(Number.isFinite(result)).toBe(true)
        expect(Math.abs(result)).toBeLessThanOrEqual(DATE_LIMIT_MS)
      }),
      { numRuns: 3_000 },
    )
  })

  it('round-trip: ISO instants, formatted wall clocks and durations ago read back', () => {
    const instant = fc
      .integer({ min: Date.UTC(1000, 0, 2), max: Date.UTC(9999, 11, 30) })
      .map((ms) => Math.floor(ms / 1000) * 1000)
    const ago = fc.integer({ min: 0, max: 100 * 365 * 86_400_000 })
    fc.assert(
      fc.property(instant, ago, zone, now, (ms, durationMs, z, nowMs) => {
        expect(parseTimeInput(new Date(ms).toISOString(), z, nowMs)).toBe(ms)
        const wall = formatWallClock(ms, z)
        const back = parseTimeInput(wall, z, nowMs)
        expect(typeof back).toBe('number')
        expect(formatWallClock(back as number, z)).toBe(wall)
        expect(parseTimeInput(formatDuration(durationMs), z, nowMs)).toBe(nowMs - durationMs)
      }),
      { numRuns: 1_500 },
    )
  })
})

describe('regressions found by the properties above', () => {
  const nowMs = Date.UTC(2025, 0, 1)

  it('refuses as text a duration too large to be milliseconds (it threw CONFIG_DURATION_INVALID)', () => {
    expect(parseTimeInput('800000000d', 'America/Bogota', nowMs)).toBe(
      '"800000000d" is too long ago to be a time',
    )
  })

  it('refuses as text a duration that reaches before the year 1 (a time it could not write)', () => {
    expect(parseTimeInput('104249991d', 'UTC', nowMs)).toMatch(/too long ago/)
    expect(parseTimeInput('100000000d', 'UTC', 0)).toBe('"100000000d" is too long ago to be a time')
    expect(parseTimeInput('719162d', 'UTC', 0)).toBe(Date.parse('0001-01-01T00:00:00Z'))
  })
})

describe('parseTimeInput: the bound of a bare date (operator report of issue 25)', () => {
  it('backfill --from 2026-11-29 --to 2026-12-02 is accepted: from the first day start through the last', () => {
    const nowMs = Date.parse('2026-12-06T13:00:00Z')
    expect(parseTimeInput('2026-11-29', 'America/Bogota', nowMs, 'from')).toBe(
      Date.parse('2026-11-29T05:00:00Z'),
    )
    expect(parseTimeInput('2026-12-02', 'America/Bogota', nowMs, 'through')).toBe(
      Date.parse('2026-12-03T04:59:59.999Z'),
    )
    // POLL_START is an instant: a bare date is its start.
    expect(parseTimeInput('2026-11-29', 'America/Bogota', nowMs)).toBe(
      Date.parse('2026-11-29T05:00:00Z'),
    )
  })
})
