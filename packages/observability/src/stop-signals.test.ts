import { describe, expect, it } from 'vitest'
import { createStopSignals, REPEATED_SIGNAL_WINDOW_MS } from './stop-signals.js'

describe('createStopSignals', () => {
  it('counts the same signal repeated within the window as one, and a later one as a second', () => {
    let now = 1_000
    const kind = createStopSignals({ now: () => now })
    expect(kind('SIGTERM')).toBe('first')
    now += 5
    expect(kind('SIGTERM')).toBe('repeat')
    now += REPEATED_SIGNAL_WINDOW_MS - 6
    expect(kind('SIGTERM')).toBe('repeat')
    now += 1
    expect(kind('SIGTERM')).toBe('second')
  })

  it('takes another signal as a second one at once', () => {
    const kind = createStopSignals({ now: () => 0 })
    expect(kind('SIGTERM')).toBe('first')
    expect(kind('SIGINT')).toBe('second')
  })
})
