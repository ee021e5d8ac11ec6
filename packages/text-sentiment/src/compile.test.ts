import { describe, expect, it } from 'vitest'
import { compileLexicon, lookupPrefix } from './compile.js'
import { foldText } from './fold.js'

describe('foldText', () => {
  it('folds accents, ñ, ü and case, and keeps one space between words', () => {
    expect(foldText('PÉSIMO')).toBe('pesimo')
    expect(foldText('Señal  PINGÜINO')).toBe('senal pinguino')
    expect(foldText('  ¿Qué   pasó?  ')).toBe('que paso')
    expect(foldText('e\u0301')).toBe('e')
  })
})

describe('compileLexicon', () => {
  const lexicon = compileLexicon()

  it('compiles the shipped lexicon with every term folded and defined once', () => {
    expect(lexicon.size).toBeGreaterThan(600)
    expect(lexicon.words.get('pesimo')).toBeUndefined() // a prefix entry, not a word
    expect(lookupPrefix(lexicon.prefixes, 'pesimos')?.term).toBe('pésim*')
    expect(lexicon.words.get('chevere')?.weight).toBe(1.5)
    expect(lexicon.phrases.get('paz')?.[0]?.entry.kind).toBe('neutral')
  })

  it('keeps every sentiment weight within −3 … +3', () => {
    const all = [
      ...lexicon.words.values(),
      ...[...lexicon.phrases.values()].flat().map((p) => p.entry),
    ]
    for (const entry of all) {
      expect(Math.abs(entry.weight)).toBeLessThanOrEqual(3)
      if (entry.negated !== undefined) expect(Math.abs(entry.negated)).toBeLessThanOrEqual(3)
    }
    for (const weight of lexicon.emoji.values()) expect(Math.abs(weight)).toBeLessThanOrEqual(3)
  })

  it('lists every phrase table longest first, so the longest phrase wins', () => {
    const lists = [...lexicon.phrases.values(), ...lexicon.prefixPhrases.map(([, l]) => l)]
    for (const list of lists) {
      const lengths = list.map((p) => p.words.length)
      expect(lengths).toEqual([...lengths].sort((a, b) => b - a))
    }
  })
})
