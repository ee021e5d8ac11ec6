import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectOnlyAppErrors, hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { formatWallClock } from '@wolkvox-chat-stream/zoned-time'
import { assertTimeZone, upstreamDateToEpochMs } from './zoned-time.js'

const zones = ['UTC', 'America/Bogota', 'America/New_York', 'Europe/Madrid', 'Pacific/Apia']
const zone = fc.constantFrom(...zones)

const upstreamDateLike = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 25 }),
  fc.stringMatching(/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\n?$/),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('T', ' ').slice(0, 19)),
)

/** `YYYY-MM-DD HH:MM:SS` from the 14 digits of formatWallClock. */
const dashed = (digits: string): string =>
  `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)} ${digits.slice(8, 10)}:${digits.slice(10, 12)}:${digits.slice(12, 14)}`

describe('upstreamDateToEpochMs on any upstream date', () => {
  it('never throws for a known zone and gives undefined or a whole-second instant, fast', () => {
    fc.assert(
      fc.property(upstreamDateLike, zone, (date, z) => {
        const ms = withinMs(() => upstreamDateToEpochMs(date, z), undefined, date)
        if (ms === undefined) return
        expect(Number.isSafeInteger(ms) && ms % 1000 === 0).toBe(true)
        expect(date).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
      }),
      { numRuns: 2_000 },
    )
  })

  it('round-trip: an instant written as the upstream writes it is read back to the same wall', () => {
    const instant = fc.integer({ min: Date.UTC(1000, 0, 2), max: Date.UTC(9999, 11, 30) })
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        const wall = formatWallClock(ms, z)
        const back = upstreamDateToEpochMs(dashed(wall), z)
        expect(back).toBeDefined()
        expect(formatWallClock(back!, z)).toBe(wall)
      }),
      { numRuns: 1_000 },
    )
  })

  it('refuses an unknown zone with EVENT_TIME_ZONE_INVALID only', () => {
    fc.assert(
      fc.property(upstreamDateLike, upstreamDateLike, (date, z) => {
        withinMs(
          () =>
            expectOnlyAppErrors(() => upstreamDateToEpochMs(date, z), ['EVENT_TIME_ZONE_INVALID']),
          undefined,
          z,
        )
        expectOnlyAppErrors(() => assertTimeZone(z), ['EVENT_TIME_ZONE_INVALID'], z)
      }),
      { numRuns: 1_000 },
    )
  })
})
