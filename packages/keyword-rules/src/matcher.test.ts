import { describe, expect, it } from 'vitest'
import { normalizeText } from './fold.js'
import { buildMatcher, scan, type MatcherPattern } from './matcher.js'

/** Small deterministic PRNG, so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The obvious definition of a match, over the words of normalizeText. */
function referenceHits(patterns: readonly MatcherPattern[], text: string): string[] {
  const { text: normalized, wordClauses } = normalizeText(text)
  const words = normalized === '' ? [] : normalized.split(' ')
  const hits: string[] = []
  patterns.forEach((pattern, p) => {
    const n = pattern.words.length
    for (let first = 0; first + n <= words.length; first++) {
      const last = first + n - 1
      const matches = pattern.words.every((word, j) =>
        pattern.prefix && j === n - 1
          ? words[first + j]!.startsWith(word)
          : words[first + j] === word,
      )
      if (matches && wordClauses[first] === wordClauses[last]) hits.push(`${p}:${first}-${last}`)
    }
  })
  return hits.sort()
}

function scannedHits(patterns: readonly MatcherPattern[], text: string): string[] {
  const r = scan(buildMatcher(patterns), text)
  const hits: string[] = []
  for (let h = 0; h < r.hitCount; h++)
    hits.push(`${r.hitPattern[h]}:${r.hitFirst[h]}-${r.hitLast[h]}`)
  return hits.sort()
}

describe('the matcher', () => {
  it('finds every occurrence of every pattern, as the word-by-word definition does', () => {
    const next = random(20250601)
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
    const pieces = ['a', 'b', 'n', 'á', 'B', 'ñ', 'e\u0301', 'ab', ' ', ' ', ', ', '. ', '-', '👍']
    const vocabulary = ['a', 'b', 'ab', 'ba', 'aab', 'n', 'bn', 'e', 'ae']
    for (let round = 0; round < 300; round++) {
      const patterns = Array.from({ length: 1 + Math.floor(next() * 6) }, () => ({
        words: Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(vocabulary)),
        prefix: next() < 0.3,
      }))
      const text = Array.from({ length: Math.floor(next() * 30) }, () => pick(pieces)).join('')
      expect(scannedHits(patterns, text), JSON.stringify({ patterns, text })).toEqual(
        referenceHits(patterns, text),
      )
    }
  })

  it('reports word offsets in the original text, marks included', () => {
    const text = '¿El  CERTIFICA\u0301DO? ya'
    const r = scan(buildMatcher([{ words: ['certificado'], prefix: false }]), text)
    expect(r.hitCount).toBe(1)
    expect(text.slice(r.wordStart[r.hitFirst[0]!], r.wordEnd[r.hitLast[0]!])).toBe(
      'CERTIFICA\u0301DO',
    )
    expect(r.wordCount).toBe(3)
  })

  it('keeps word boundaries: a word is not found inside a longer one', () => {
    const matcher = buildMatcher([
      { words: ['pago'], prefix: false },
      { words: ['factur'], prefix: true },
    ])
    expect(scan(matcher, 'pagoda apago pagos pago2 facturación refactura').hitCount).toBe(1)
    expect(scan(matcher, 'Pago.').hitCount).toBe(1)
  })

  it('refuses a pattern set whose table would be too large, with a clear error', () => {
    // 5,000 distinct CJK characters: 15,002 states × 5,002 symbols, 75 Mi entries.
    const patterns = Array.from({ length: 5000 }, (_, i) => ({
      words: [String.fromCharCode(0x4e00 + i) + String.fromCharCode(0x4e00 + ((i + 1) % 5000))],
      prefix: false,
    }))
    expect(() => buildMatcher(patterns, 'rules big-1')).toThrow(
      expect.objectContaining({
        code: 'TRAMITE_RULES_INVALID',
        message: expect.stringContaining(
          'The rules big-1 compile to 15002 states over 5002 symbols',
        ),
        details: { states: 15002, symbols: 5002 },
      }),
    )
    // Unnamed, the error speaks of patterns.
    expect(() => buildMatcher(patterns)).toThrow(/^The patterns compile to 15002 states/)
  })

  it('handles long text with many words and hits', () => {
    const matcher = buildMatcher([{ words: ['a'], prefix: false }])
    const r = scan(matcher, 'a '.repeat(50_000))
    expect(r.wordCount).toBe(50_000)
    expect(r.hitCount).toBe(50_000)
    // Every word is placed, up to the last one (its buffers grew to fit them all).
    expect([r.wordStart[49_999], r.wordEnd[49_999], r.hitFirst[49_999]]).toEqual([
      99_998, 99_999, 49_999,
    ])
  })

  it('ends a word at a control character, even the first one past ASCII', () => {
    const matcher = buildMatcher([{ words: ['pago'], prefix: false }])
    expect(scan(matcher, 'pago\u0080pago').hitCount).toBe(2)
    expect(scan(matcher, 'pago\u007fpago').hitCount).toBe(2)
  })
})
