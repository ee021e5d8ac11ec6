import { describe, expect, it } from 'vitest'
import { parseRangeBound } from './reclassify.js'

const nowMs = Date.parse('2026-12-06T13:00:00Z')
const iso = (ms: number): string => new Date(ms).toISOString()

describe('reclassify and suggest --from/--to (README: Times and ranges)', () => {
  it('reads every form of the one syntax; a day is whole, the range closed', () => {
    const bound = (text: string, end: boolean): string =>
      iso(parseRangeBound(text, 'America/Bogota', end, nowMs))
    expect(bound('20261101', false)).toBe('2026-11-01T05:00:00.000Z')
    expect(bound('20261124', true)).toBe('2026-11-25T04:59:59.999Z')
    expect(bound('2026-11-24 08:30', true)).toBe('2026-11-24T13:30:00.000Z')
    expect(bound('3h', false)).toBe('2026-12-06T10:00:00.000Z')
  })

  it('refuses a time skipped by DST and other text with TRAMITE_COMMAND_INVALID and the forms', () => {
    expect(() => parseRangeBound('2026-03-08 02:30', 'America/New_York', false, nowMs)).toThrow(
      expect.objectContaining({
        code: 'TRAMITE_COMMAND_INVALID',
        message:
          '"2026-03-08 02:30" does not exist in America/New_York (skipped by a daylight-saving change)',
      }),
    )
    expect(() => parseRangeBound('last week', 'UTC', true, nowMs)).toThrow(
      expect.objectContaining({
        code: 'TRAMITE_COMMAND_INVALID',
        message: expect.stringContaining('"last week" is not a time: use a day (YYYY-MM-DD'),
      }),
    )
  })
})
