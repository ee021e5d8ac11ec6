import { describe, expect, it } from 'vitest'
import { formatCompact, formatDate, parseCompact, toLocalSec, toUtcSec } from './wall-clock.js'

const sec = (iso: string): number => Date.parse(iso) / 1000

describe('wall-clock', () => {
  it('formats Bogota local time from UTC', () => {
    const local = toLocalSec(sec('2025-02-11T15:22:33Z'), 'America/Bogota')
    expect(formatDate(local)).toBe('2025-02-11 10:22:33')
    expect(formatCompact(local)).toBe('20250211102233')
  })

  it('round-trips local and UTC seconds, across a DST change too', () => {
    for (const iso of ['2025-03-09T06:59:59Z', '2025-03-09T07:00:00Z', '2025-11-02T05:30:00Z']) {
      const utc = sec(iso)
      expect(toUtcSec(toLocalSec(utc, 'America/New_York'), 'America/New_York')).toBe(utc)
    }
    // 01:30 happens twice on 2025-11-02 in New York: the earlier instant is the one returned.
    const second = toLocalSec(sec('2025-11-02T06:30:00Z'), 'America/New_York')
    expect(toUtcSec(second, 'America/New_York')).toBe(sec('2025-11-02T05:30:00Z'))
  })

  it('reads 14-digit times and refuses anything else', () => {
    expect(parseCompact('20250211102233')).toBe(sec('2025-02-11T10:22:33Z'))
    for (const bad of [
      '2025021110223',
      '20250230000000',
      '20251301000000',
      '20250211240000',
      'x'.repeat(14),
    ]) {
      expect(parseCompact(bad)).toBeUndefined()
    }
  })
})
