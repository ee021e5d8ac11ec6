import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { normalizeText } from './fold.js'

/** Chat text: Spanish with accents and punctuation, any code unit, emoji, hostile strings. */
const chatText = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc
    .array(
      fc.constantFrom(
        'Á',
        'é',
        'ñ',
        'Ü',
        'İ',
        'ß',
        'ǅ',
        'ﬁ',
        'e\u0301',
        '\u00ad',
        '\u200b',
        '¿',
        '…',
        ' ',
        '-',
        '👍',
        '٣',
        'Σ',
        'ς',
        'ŉ',
        'ᾈ',
        'ﬀ',
        'Ⅻ',
        '\u0345',
        'ΐ',
        '\uFA6C',
      ),
      { maxLength: 40 },
    )
    .map((parts) => parts.join('')),
)

describe('normalizeText on any text', () => {
  it('is idempotent on its folded text, fast', () => {
    fc.assert(
      fc.property(chatText, (input) => {
        const once = withinMs(() => normalizeText(input), undefined, input)
        expect(normalizeText(once.text).text).toBe(once.text)
      }),
      { numRuns: 3_000 },
    )
  })

  it('folds to single-spaced lower-case words that map back into the input', () => {
    fc.assert(
      fc.property(chatText, (input) => {
        const { text, start, end, wordClauses } = normalizeText(input)
        expect(text).toBe(text.trim())
        expect(text).not.toMatch(/ {2}/)
        expect(text).toBe(text.toLowerCase())
        expect(start).toHaveLength(text.length)
        expect(end).toHaveLength(text.length)
        expect(wordClauses).toHaveLength(text === '' ? 0 : text.split(' ').length)
        // One expect per input, not per unit: inputs run to 10,000 characters.
        const badUnit = start.findIndex(
          (s, i) => !(0 <= s && s < end[i]! && end[i]! <= input.length && s >= (start[i - 1] ?? 0)),
        )
        expect(badUnit).toBe(-1)
        expect(wordClauses.every((c, w) => w === 0 || c >= wordClauses[w - 1]!)).toBe(true)
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('regressions found by the properties above', () => {
  it('folds U+FA6C, which decomposes outside the BMP, as a separator (it broke idempotence)', () => {
    expect(normalizeText('a\uFA6Cb').text).toBe('a b')
    expect(normalizeText(normalizeText('\uFA6C').text).text).toBe(normalizeText('\uFA6C').text)
  })
})
