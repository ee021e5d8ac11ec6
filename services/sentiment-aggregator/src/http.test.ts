import { describe, expect, it } from 'vitest'
import { parseQueryTime } from './http.js'

const ZONE = 'America/Bogota'

describe('parseQueryTime', () => {
  it.each([
    ['2025-02-11T15:00:00Z', '2025-02-11T15:00:00.000Z'],
    ['2025-02-11T10:00:00-05:00', '2025-02-11T15:00:00.000Z'],
    ['20250211100000', '2025-02-11T15:00:00.000Z'],
    ['2025-02-11T10:00:00', '2025-02-11T15:00:00.000Z'],
    ['2025-02-11 10:00', '2025-02-11T15:00:00.000Z'],
    ['2025-02-11', '2025-02-11T05:00:00.000Z'],
  ])('%s is %s', (text, iso) => {
    expect(new Date(parseQueryTime(text, ZONE)).toISOString()).toBe(iso)
  })

  it.each(['yesterday', '2025-02-30', '2025-13-01T00:00:00Z', ''])('refuses %j', (text) => {
    expect(() => parseQueryTime(text, ZONE)).toThrow(/is not a time/)
  })
})
