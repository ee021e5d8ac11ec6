import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { formatWallClock } from '@wolkvox-chat-stream/zoned-time'
import { parseQueryDay } from './http.js'

/** The refusal parseQueryDay is meant to throw (answered 400); anything else is a defect. */
const isQueryRefusal = (error: unknown): boolean =>
  error instanceof Error && ['InputError', 'QueryError'].includes(error.constructor.name)

const zone = fc.constantFrom('America/Bogota', 'UTC', 'Pacific/Kiritimati', 'Pacific/Pago_Pago')
const dayLike = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.stringMatching(/^\s?\d{4}-\d\d-\d\d\s?$/),
  fc.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)?$/),
  fc.stringMatching(/^\d{8}$|^\d{14}$/),
  fc.constantFrom('0000-01-01T00:00:00+14:00', '9999-12-31T23:59:59-12:00', '0001-01-01 00:00'),
)

describe('parseQueryDay on any text', () => {
  it('returns a YYYY-MM-DD day or refuses with its query error, fast', () => {
    fc.assert(
      fc.property(dayLike, zone, (text, z) => {
        let day: string
        try {
          day = withinMs(() => parseQueryDay(text, z), undefined, text)
        } catch (error) {
          if (isQueryRefusal(error)) return
          throw error
        }
        expect(day).toMatch(/^\d{4}-\d\d-\d\d$/)
      }),
      { numRuns: 3_000 },
    )
  })

  it('round-trip: a day is read as itself, and a time as its local day', () => {
    const instant = fc.integer({ min: Date.UTC(1000, 0, 2), max: Date.UTC(9999, 11, 30) })
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        const wall = formatWallClock(ms, z)
        const day = `${wall.slice(0, 4)}-${wall.slice(4, 6)}-${wall.slice(6, 8)}`
        expect(parseQueryDay(day, z)).toBe(day)
        expect(parseQueryDay(wall, z)).toBe(day)
        expect(parseQueryDay(new Date(ms).toISOString(), z)).toBe(day)
      }),
      { numRuns: 1_000 },
    )
  })
})

describe('regressions found by the properties above', () => {
  it('refuses a time an offset carries into the year -1 (its day was "00-1-12-31")', () => {
    expect(() => parseQueryDay('0000-01-01T00:00:00+14:00', 'America/Bogota')).toThrow(
      /is not a time/,
    )
  })
})
