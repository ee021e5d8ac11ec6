import { describe, expect, it } from 'vitest'
import { parseQueryDay, summarizeCounts } from './http.js'
import { parseRangeBound } from './reclassify.js'

const zone = 'America/Bogota'

describe('query days and range bounds', () => {
  it.each([
    ['2026-11-24', '2026-11-24'],
    [' 2026-11-24 ', '2026-11-24'],
    ['2026-11-24T04:59:59Z', '2026-11-23'],
    ['2026-11-24T05:00:00Z', '2026-11-24'],
    ['20261124000000', '2026-11-24'],
    ['2026-11-24T23:59:59', '2026-11-24'],
  ])('%j is the local day %s', (text, day) => {
    expect(parseQueryDay(text, zone)).toBe(day)
  })

  it.each(['2026-02-30', 'yesterday', '2026-13-01T00:00:00Z', ''])('refuses %j', (text) => {
    expect(() => parseQueryDay(text, zone)).toThrow(/is not a time: use a day \(YYYY-MM-DD/)
  })

  it('reads reclassify bounds as whole local days or instants', () => {
    expect(new Date(parseRangeBound('2025-02-01', zone, false)).toISOString()).toBe(
      '2025-02-01T05:00:00.000Z',
    )
    expect(new Date(parseRangeBound('2025-02-01', zone, true)).toISOString()).toBe(
      '2025-02-02T04:59:59.999Z',
    )
    expect(parseRangeBound('2025-02-01T10:00:00Z', zone, true)).toBe(
      Date.parse('2025-02-01T10:00:00Z'),
    )
    expect(() => parseRangeBound('2025-02-31', zone, false)).toThrow(
      expect.objectContaining({ code: 'TRAMITE_COMMAND_INVALID' }),
    )
  })
})

describe('summarizeCounts', () => {
  it('orders lines by day, channel and trámite (unclassified last) and sums totals', () => {
    const lines = [
      { day: '2026-11-25', channel: 'whatsapp', tramite: 'pago', conversations: 1 },
      { day: '2026-11-24', channel: 'whatsapp', tramite: null, conversations: 5 },
      { day: '2026-11-24', channel: 'whatsapp', tramite: 'certificado', conversations: 2 },
      { day: '2026-11-24', channel: 'telegram', tramite: 'pago', conversations: 3 },
    ]
    expect(summarizeCounts(lines)).toEqual({
      counts: [
        { day: '2026-11-24', channel: 'telegram', tramite: 'pago', conversations: 3 },
        { day: '2026-11-24', channel: 'whatsapp', tramite: 'certificado', conversations: 2 },
        { day: '2026-11-24', channel: 'whatsapp', tramite: null, conversations: 5 },
        { day: '2026-11-25', channel: 'whatsapp', tramite: 'pago', conversations: 1 },
      ],
      totals: [
        { tramite: null, conversations: 5 },
        { tramite: 'pago', conversations: 4 },
        { tramite: 'certificado', conversations: 2 },
      ],
      by_channel: [
        { channel: 'telegram', tramite: 'pago', conversations: 3 },
        { channel: 'whatsapp', tramite: null, conversations: 5 },
        { channel: 'whatsapp', tramite: 'certificado', conversations: 2 },
        { channel: 'whatsapp', tramite: 'pago', conversations: 1 },
      ],
    })
    expect(summarizeCounts([])).toEqual({ counts: [], totals: [], by_channel: [] })
  })
})
