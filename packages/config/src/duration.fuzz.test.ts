import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectOnlyAppErrors, hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { formatDuration, parseDuration } from './duration.js'

const units = ['ms', 's', 'm', 'h', 'd'] as const

/** Text that looks like a duration more often than random text would. */
const durationLike = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc
    .tuple(
      fc.constantFrom('', ' ', '\t', '-', '+', '0', '\u00a0'),
      fc.oneof(fc.nat().map(String), fc.stringMatching(/^\d{1,40}$/)),
      fc.constantFrom(...units, 'M', 'S', 'w', ' s', 'ms ', '', '.5s'),
      fc.constantFrom('', ' ', '\n', 'x'),
    )
    .map((parts) => parts.join('')),
)

describe('parseDuration on any text', () => {
  it('returns a safe whole number of ms, or throws CONFIG_DURATION_INVALID, fast', () => {
    fc.assert(
      fc.property(durationLike, (text) => {
        const outcome = withinMs(
          () => expectOnlyAppErrors(() => parseDuration(text), ['CONFIG_DURATION_INVALID'], text),
          undefined,
          text,
        )
        if (outcome.ok) {
          expect(Number.isSafeInteger(outcome.value)).toBe(true)
          expect(outcome.value).toBeGreaterThanOrEqual(0)
        }
      }),
      { numRuns: 3_000 },
    )
  })

  it('reads what formatDuration writes, and writes what it reads in its largest unit', () => {
    fc.assert(
      fc.property(durationLike, (text) => {
        const outcome = expectOnlyAppErrors(() => parseDuration(text), undefined, text)
        if (outcome.ok) expect(parseDuration(formatDuration(outcome.value))).toBe(outcome.value)
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('formatDuration then parseDuration', () => {
  it('gives back every representable duration (whole ms from 0 to MAX_SAFE_INTEGER)', () => {
    const ms = fc.oneof(
      fc.nat({ max: 10_000 }),
      fc.maxSafeNat(),
      // Exact multiples of each unit, so that every unit is written.
      fc
        .tuple(fc.nat({ max: 1_000_000 }), fc.constantFrom(1, 1_000, 60_000, 3_600_000, 86_400_000))
        .map(([n, unit]) => n * unit),
    )
    fc.assert(
      fc.property(ms, (value) => {
        expect(parseDuration(formatDuration(value))).toBe(value)
      }),
      { numRuns: 3_000 },
    )
  })
})
