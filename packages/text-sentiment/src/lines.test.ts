import { describe, expect, it } from 'vitest'
import { scoreLine, scoreLines } from './lines.js'

describe('scoreLines (npm run sentiment -- score)', () => {
  it('prints one JSON line per input line, score rounded to 3 decimals', () => {
    expect(scoreLines('gracias\nPÉSIMO servicio 😡\n')).toEqual([
      '{"text":"gracias","sentiment":"positive","score":0.333}',
      '{"text":"PÉSIMO servicio 😡","sentiment":"very_negative","score":-0.915}',
    ])
  })

  it('keeps empty lines, so output line n answers input line n', () => {
    expect(scoreLines('gracias\n\nno\n')).toEqual([
      '{"text":"gracias","sentiment":"positive","score":0.333}',
      '{"text":"","sentiment":"neutral","score":0}',
      '{"text":"no","sentiment":"neutral","score":0}',
    ])
    expect(scoreLines('')).toEqual([])
    expect(scoreLines('\n')).toEqual(['{"text":"","sentiment":"neutral","score":0}'])
  })

  it('drops the \\r of Windows line ends and escapes what JSON needs', () => {
    expect(scoreLine('mal "servicio"\r')).toBe(
      '{"text":"mal \\"servicio\\"","sentiment":"negative","score":-0.577}',
    )
    expect(JSON.parse(scoreLines('a\r\nb\r\n')[1]!)).toEqual({
      text: 'b',
      sentiment: 'neutral',
      score: 0,
    })
  })
})
