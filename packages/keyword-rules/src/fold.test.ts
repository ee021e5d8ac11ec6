import { describe, expect, it } from 'vitest'
import { CLAUSE_BREAK, foldCodeUnit, IGNORABLE, normalizeText, SEPARATOR } from './fold.js'

describe('foldCodeUnit', () => {
  it.each([
    ['Á', 'a'],
    ['é', 'e'],
    ['Ñ', 'n'],
    ['ü', 'u'],
    ['Ç', 'c'],
    ['İ', 'i'],
    ['Z', 'z'],
    ['7', '7'],
    ['ß', 'ß'],
  ])('folds %s to %s', (char, folded) => {
    expect(foldCodeUnit(char.charCodeAt(0))).toBe(folded)
  })

  it('tells separators, clause breaks and ignorable units apart', () => {
    for (const char of [' ', '-', '/', '@', '#', '"', '(', '\t', '«', '°'])
      expect(foldCodeUnit(char.charCodeAt(0))).toBe(SEPARATOR)
    for (const char of [
      '.',
      ',',
      ';',
      ':',
      '!',
      '?',
      '¡',
      '¿',
      '…',
      '\n',
      '\r',
      '\u2028',
      '\u2029',
    ])
      expect(foldCodeUnit(char.charCodeAt(0))).toBe(CLAUSE_BREAK)
    for (const char of ['\u0301', '\u0303', '\u00ad', '\u200b'])
      expect(foldCodeUnit(char.charCodeAt(0))).toBe(IGNORABLE)
    // Each half of an emoji's surrogate pair.
    expect(foldCodeUnit('👍'.charCodeAt(0))).toBe(SEPARATOR)
    expect(foldCodeUnit('👍'.charCodeAt(1))).toBe(SEPARATOR)
  })
})

describe('normalizeText', () => {
  it('folds accents, ñ and case, and collapses punctuation and spaces', () => {
    expect(normalizeText('  ¿Cómo   VA mi Solicitud?? Año—Pequeño ').text).toBe(
      'como va mi solicitud ano pequeno',
    )
  })

  it('treats decomposed input (NFD) like composed input (NFC)', () => {
    const nfd = 'CERTIFICA\u0301DO pequen\u0303o'
    expect(normalizeText(nfd).text).toBe('certificado pequeno')
    expect(normalizeText(nfd.normalize('NFC')).text).toBe('certificado pequeno')
  })

  it('maps every normalised unit back to its original span', () => {
    const input = '¡Hola, SEÑOR e\u0301l!'
    const { text, start, end } = normalizeText(input)
    expect(text).toBe('hola senor el')
    // The space between words maps to the separator run ", "; 'n' comes from 'Ñ'.
    expect([start[4], end[4]]).toEqual([5, 7])
    expect(input.slice(start[7], end[7])).toBe('Ñ')
    // 'e' + combining acute is one unit of the original.
    expect(input.slice(start[11], end[11])).toBe('e\u0301')
    expect(input.slice(start[0], end[text.length - 1])).toBe('Hola, SEÑOR e\u0301l')
  })

  it('numbers clauses so that terms can be kept inside one', () => {
    expect(normalizeText('no, quiero cancelar. Gracias').wordClauses).toEqual([0, 1, 1, 2])
  })

  it('gives a mark after a separator to no word', () => {
    // `a ´b`: the stray accent belongs neither to a (whose end stays 1) nor to the space.
    const folded = normalizeText('a \u0301b')
    expect(folded.text).toBe('a b')
    expect(folded.start).toEqual([0, 1, 3])
    expect(folded.end).toEqual([1, 3, 4])
  })

  it('returns nothing for text without letters or digits', () => {
    expect(normalizeText(' 👍 ... ??').text).toBe('')
  })
})
