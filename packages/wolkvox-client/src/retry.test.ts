import { describe, expect, it } from 'vitest'
import { backoffDelayMs, parseRetryAfterMs } from './retry.js'

describe('backoffDelayMs', () => {
  const options = { baseDelayMs: 100, maxDelayMs: 1_000 }

  it('doubles per attempt between half and all of the exponential step', () => {
    expect(backoffDelayMs(1, options, () => 0)).toBe(50)
    expect(backoffDelayMs(1, options, () => 0.999)).toBe(100)
    expect(backoffDelayMs(3, options, () => 0)).toBe(200)
    expect(backoffDelayMs(3, options, () => 0.999)).toBe(400)
  })

  it('never exceeds maxDelayMs', () => {
    expect(backoffDelayMs(20, options, () => 0.999)).toBe(1_000)
  })
})

describe('parseRetryAfterMs', () => {
  it('reads delta seconds and HTTP dates', () => {
    const now = Date.parse('2025-02-11T10:00:00Z')
    expect(parseRetryAfterMs('3', now)).toBe(3_000)
    expect(parseRetryAfterMs('Tue, 11 Feb 2025 10:00:07 GMT', now)).toBe(7_000)
    expect(parseRetryAfterMs('Tue, 11 Feb 2025 09:00:00 GMT', now)).toBe(0)
  })

  it('ignores an absent or unreadable header', () => {
    expect(parseRetryAfterMs(undefined, 0)).toBeUndefined()
    expect(parseRetryAfterMs('soon', 0)).toBeUndefined()
    expect(parseRetryAfterMs(['2'], 0)).toBe(2_000)
  })
})
