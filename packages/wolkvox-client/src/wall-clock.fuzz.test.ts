import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { formatWallClock, isTimeZone, wallClockToEpochMs } from './wall-clock.js'

// The client's wall clock is packages/zoned-time's (fuzzed in depth there); these properties pin
// what the client relies on: date_ini/date_end are 14 digits that read back to the same second.
const zone = fc.constantFrom('America/Bogota', 'America/Mexico_City', 'Europe/Madrid', 'UTC')

describe('the client wall clock', () => {
  it('round-trip: formatWallClock then wallClockToEpochMs shows the same 14 digits', () => {
    const instant = fc.integer({ min: Date.UTC(1000, 0, 2), max: Date.UTC(9999, 11, 30) })
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        const text = formatWallClock(ms, z)
        expect(text).toMatch(/^\d{14}$/)
        const back = wallClockToEpochMs(text, z)!
        expect(back).toBeLessThanOrEqual(ms)
        expect(formatWallClock(back, z)).toBe(text)
      }),
      { numRuns: 1_000 },
    )
  })

  it('reads any text as undefined or an instant, and any zone name as true or false, fast', () => {
    const text = fc.oneof(fc.constantFrom(...hostileStrings), fc.string({ unit: 'binary' }))
    fc.assert(
      fc.property(text, zone, (t, z) => {
        const ms = withinMs(() => wallClockToEpochMs(t, z), undefined, t)
        if (ms !== undefined) expect(Number.isSafeInteger(ms)).toBe(true)
        expect(typeof withinMs(() => isTimeZone(t), undefined, t)).toBe('boolean')
      }),
      { numRuns: 1_000 },
    )
  })
})
