import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { formatWallClock } from '@wolkvox-chat-stream/zoned-time'
import { parseQueryTime } from './http.js'

/** The refusal parseQueryTime is meant to throw (answered 400); anything else is a defect. */
const isQueryRefusal = (error: unknown): boolean =>
  error instanceof Error && ['InputError', 'QueryError'].includes(error.constructor.name)

const zone = fc.constantFrom('America/Bogota', 'UTC', 'Europe/Madrid', 'Pacific/Kiritimati')
const timeLike = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.stringMatching(/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d{1,9})?(Z|[+-]\d\d:?\d\d)?$/),
  fc.stringMatching(/^\d{8}$|^\d{14}$|^\d{4}-\d\d-\d\d$/),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
)

describe('parseQueryTime on any text', () => {
  it('returns an instant a Date can hold, or refuses with its query error, fast', () => {
    fc.assert(
      fc.property(timeLike, zone, (text, z) => {
        let ms: number
        try {
          ms = withinMs(() => parseQueryTime(text, z), undefined, text)
        } catch (error) {
          if (isQueryRefusal(error)) return
          throw error
        }
        // The answer echoes it as ISO 8601.
        expect(() => new Date(ms).toISOString()).not.toThrow()
      }),
      { numRuns: 3_000 },
    )
  })

  it('round-trip: ISO 8601 instants exactly, and formatted wall clocks to the same wall', () => {
    const instant = fc.integer({ min: Date.UTC(1000, 0, 2), max: Date.UTC(9999, 11, 30) })
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        expect(parseQueryTime(new Date(ms).toISOString(), z)).toBe(ms)
        const wall = formatWallClock(ms, z)
        expect(formatWallClock(parseQueryTime(wall, z), z)).toBe(wall)
      }),
      { numRuns: 1_000 },
    )
  })
})
