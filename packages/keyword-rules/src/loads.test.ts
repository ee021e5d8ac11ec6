/*
 * The engine loads, and reads text right after, from a module instance of its own: imported
 * inside the test, after `vi.resetModules()`, not at the top of the file.
 * - A fault at load time (a table built wrong, such as an abbreviation entry that cannot be read)
 *   then fails this test instead of only failing to load the files that import the engine, which
 *   a test runner may report as no test at all (Stryker's Vitest runner does: README, Mutation
 *   testing).
 * - The per-code-unit caches of the fold and the spelling fold start empty, so every unit read
 *   here is classified by the code under test, not remembered from an earlier test.
 */
import { describe, expect, it, vi } from 'vitest'

describe('@wolkvox-chat-stream/keyword-rules', () => {
  it('loads, and classifies a message at once', async () => {
    vi.resetModules()
    const engine = await import('./index.js')
    const rules = engine.compileRules(
      engine.parseRules(
        {
          version: 'loads-1',
          tramites: [
            { id: 'cita', label: 'Citas', keywords: ['cita'], phrases: ['por favor'] },
            { id: 'linea', label: 'Líneas', keywords: ['3009'] },
          ],
        },
        'loads.json',
      ),
    )
    const result = engine.classifyMessage(rules, 'Una CITA xfa, al 30099 👍')
    expect(result.explanations.map((e) => [e.rule, e.matchedText])).toEqual([
      ['cita', 'CITA'],
      ['cita', 'xfa'],
      ['linea', '30099'],
    ])
  })

  it('reads letters and digits at the ends of their ranges, first seen by a fresh module', async () => {
    vi.resetModules()
    const { spellWord } = await import('./spelling.js')
    // 0 and 9 are digits of a word, a and z letters: each repeated is read once.
    expect(spellWord('0099')).toBe('09')
    expect(spellWord('aazz')).toBe('as')
    expect(spellWord('AAZZ')).toBe('as')
    // Letters of other scripts and ß keep their meaning as they are: no spelling rule, no
    // repeated-letter rule.
    expect(spellWord('ßß')).toBe('ßß')
    expect(spellWord('дд')).toBe('дд')
  })

  it('folds lone surrogate halves and marks, first seen by a fresh module', async () => {
    vi.resetModules()
    const { foldCodeUnit, IGNORABLE, SEPARATOR } = await import('./fold.js')
    for (const code of [0xd800, 0xdbff, 0xdc00, 0xdfff]) expect(foldCodeUnit(code)).toBe(SEPARATOR)
    // Just before the surrogates: the last Hangul syllable, three letters once decomposed.
    expect(foldCodeUnit(0xd7a3)).toBe('\u1112\u1175\u11c2')
    expect(foldCodeUnit(0xe000)).toBe(SEPARATOR)
    expect(foldCodeUnit(0x0301)).toBe(IGNORABLE)
  })
})
