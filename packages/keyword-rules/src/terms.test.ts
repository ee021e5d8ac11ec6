import { describe, expect, it } from 'vitest'
import { parseTerm, termKey } from './terms.js'

describe('parseTerm', () => {
  it('folds words and marks prefixes', () => {
    expect(parseTerm('  Certificád*  ')).toEqual({ words: ['certificad*'] })
    expect(parseTerm('Paz-y-Salvo')).toEqual({ words: ['paz', 'y', 'salvo'] })
    expect(parseTerm('cancel* la factura')).toEqual({ words: ['cancel*', 'la', 'factura'] })
    expect(parseTerm('cambi* de plan*')).toEqual({ words: ['cambi*', 'de', 'plan*'] })
  })

  it.each([
    ['', 'has no letters or digits'],
    ['*', '`*` must follow a letter or digit directly'],
    ['cert *', '`*` must follow a letter or digit directly'],
    ['cert**', '`*` must follow a letter or digit directly'],
    ['cert*ificado', '`*` may only end a word'],
    ['ab*', 'a prefix needs at least 3 letters'],
    ['paz, y salvo', 'ends a clause'],
  ])('refuses %j', (term, problem) => {
    expect(parseTerm(term)).toContain(problem)
  })

  it('gives terms that differ only by accents or case one key', () => {
    const a = parseTerm('Pagué') as { words: string[] }
    const b = parseTerm('pague') as { words: string[] }
    expect(termKey(a)).toBe(termKey(b))
  })
})
