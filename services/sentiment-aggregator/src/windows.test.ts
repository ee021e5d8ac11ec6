import { describe, expect, it } from 'vitest'
import { dayWindow, hourWindow } from './windows.js'

describe('windows', () => {
  it('hours are whole UTC hours', () => {
    expect(hourWindow(Date.parse('2025-02-11T15:22:33Z'))).toEqual({
      startMs: Date.parse('2025-02-11T15:00:00Z'),
      endMs: Date.parse('2025-02-11T16:00:00Z'),
    })
  })

  it('days start at local midnight in the zone', () => {
    expect(dayWindow(Date.parse('2025-02-11T04:59:59Z'), 'America/Bogota')).toEqual({
      startMs: Date.parse('2025-02-10T05:00:00Z'),
      endMs: Date.parse('2025-02-11T05:00:00Z'),
    })
  })

  it('a spring-forward day is 23 hours and a fall-back day 25', () => {
    const spring = dayWindow(Date.parse('2025-03-30T12:00:00Z'), 'Europe/Madrid')
    expect(spring).toEqual({
      startMs: Date.parse('2025-03-29T23:00:00Z'),
      endMs: Date.parse('2025-03-30T22:00:00Z'),
    })
    const fall = dayWindow(Date.parse('2025-10-26T12:00:00Z'), 'Europe/Madrid')
    expect(fall.endMs - fall.startMs).toBe(25 * 3_600_000)
  })

  it('a day whose midnight is skipped starts at the jump', () => {
    // Santiago de Chile springs forward at 00:00 -> 01:00 (2025-09-07).
    const day = dayWindow(Date.parse('2025-09-07T12:00:00Z'), 'America/Santiago')
    expect(day.startMs).toBe(Date.parse('2025-09-07T04:00:00Z'))
    expect(day.endMs - day.startMs).toBe(23 * 3_600_000)
  })
})
