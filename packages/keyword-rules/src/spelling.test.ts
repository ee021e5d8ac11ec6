import { describe, expect, it } from 'vitest'
import { normalizeText } from './fold.js'
import { buildMatcher, scan } from './matcher.js'
import { DROPPED, spellingFold, spellPrefix, spellWord } from './spelling.js'
import { abbreviations, termForms } from './variants.js'

/** The spelling fold of `text`, a dropped letter shown as `_`. */
const folded = (text: string): string => {
  const out = new Uint16Array(text.length)
  spellingFold(text, out)
  return Array.from(out, (c) => (c === DROPPED ? '_' : String.fromCharCode(c))).join('')
}

describe('the spelling fold', () => {
  it.each([
    // s, c before e/i, z
    ['certificado', 'sertifikado'],
    ['sertificado', 'sertifikado'],
    ['zertificado', 'sertifikado'],
    // k, qu before e/i, q, c before a/o/u and consonants
    ['quiero', 'kiero'],
    ['kiero', 'kiero'],
    ['que', 'ke'],
    ['q', 'k'],
    ['cuenta', 'kuenta'],
    ['clave', 'klabe'],
    // silent h; ch keeps its c
    ['hola', 'ola'],
    ['ahorro', 'aoro'],
    ['chat', 'cat'],
    // b and v; y, ll and i
    ['volver', 'bolber'],
    ['bolver', 'bolber'],
    ['llamada', 'iamada'],
    ['yamada', 'iamada'],
    ['muy', 'mui'],
    // g before e/i is j; the u of gue/gui is silent
    ['gestion', 'jestion'],
    ['jestion', 'jestion'],
    ['guia', 'gia'],
    ['pague', 'page'],
    ['pago', 'pago'],
    // a letter repeated right after itself is read once
    ['pagoo', 'pago'],
    ['carro', 'karo'],
    ['accion', 'aksion'],
    // digits and letters without a rule stay
    ['3104567890', '3104567890'],
    ['fax', 'fax'],
    // q, qu, g and gu at the end of a word, where no vowel follows to decide
    ['qu', 'ku'],
    ['qua', 'kua'],
    ['g', 'g'],
    ['gu', 'gu'],
    ['gua', 'gua'],
    ['gui', 'gi'],
    ['gi', 'ji'],
    // the u is silent only in qu and gu before e/i: a q or g before another letter keeps it
    ['qai', 'kai'],
    ['gae', 'gae'],
    ['tic', 'tik'],
    // ll is one i, an l alone stays, and a third l starts a new letter
    ['ll', 'i'],
    ['l', 'l'],
    ['lll', 'il'],
    // a word of silent letters reads as nothing
    ['hh', ''],
    // folded before spelled: accents, ñ and capitals, then the repeated-letter rule
    ['año', 'ano'],
    ['ÁÁ', 'a'],
    // digits follow the repeated-letter rule as letters do, in terms and text alike
    ['2200', '20'],
  ])('reads %s as %s', (word, spelled) => {
    expect(spellWord(word)).toBe(spelled)
  })

  it('keeps the text length, dropped letters in place, other units as they are', () => {
    expect(folded('Hola, ¿QUÉ tal? 👍')).toBe('_ola, ¿k_e tal? 👍')
  })

  it('reads every way a prefix can go on', () => {
    // `cancelac*`: cancelaci… (s), cancelaca… (k), cancelach… (c).
    expect(spellPrefix('cancelac').sort()).toEqual(['kanselak', 'kanselas', 'kanselac'].sort())
    // `pag*`: pago (g), pagina (j); `cancel*`: cancela (l), cancellar (i).
    expect(spellPrefix('pag').sort()).toEqual(['pag', 'paj'])
    expect(spellPrefix('cancel').sort()).toEqual(['kansei', 'kansel'])
    // A reading that begins another carries the letters that lead to it: paqu… reads pak before
    // e/i (paque, paquí) and paku elsewhere; pak* alone would match paco.
    expect(spellPrefix('paqu').sort()).toEqual(['pake', 'paki', 'paku'])
    expect(spellPrefix('certifiqu')).not.toContain(spellWord('certifi'))
  })

  it('lets a matcher find a word however it is spelled, quoting the text as written', () => {
    const matcher = buildMatcher(
      [
        { words: [spellWord('hola')], prefix: false },
        { words: spellPrefix('certificad'), prefix: true },
      ],
      'test',
      { spelling: true },
    )
    const text = 'HOLA, kiero el SERTIFICADO'
    const r = scan(matcher, text)
    const hits = Array.from({ length: r.hitCount }, (_, h) =>
      text.slice(r.wordStart[r.hitFirst[h]!], r.wordEnd[r.hitLast[h]!]),
    )
    expect(hits).toEqual(['HOLA', 'SERTIFICADO'])
    expect(r.wordCount).toBe(4)
  })

  it('finds what the word-by-word definition over spelled words finds, on random text', () => {
    let seed = 7
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const pieces = [
      'c',
      'e',
      'a',
      'h',
      'q',
      'u',
      'i',
      'l',
      'y',
      'z',
      's',
      'g',
      'É',
      ' ',
      ', ',
      'ch',
    ]
    const vocabulary = ['ce', 'se', 'ka', 'ca', 'hue', 'que', 'ke', 'li', 'yi', 'gue', 'ge', 'lla']
    for (let round = 0; round < 300; round++) {
      const patterns = Array.from({ length: 1 + Math.floor(next() * 4) }, () =>
        spellWord(vocabulary[Math.floor(next() * vocabulary.length)]!),
      ).filter((w) => w !== '')
      const text = Array.from(
        { length: Math.floor(next() * 25) },
        () => pieces[Math.floor(next() * pieces.length)]!,
      ).join('')
      const r = scan(
        buildMatcher(
          patterns.map((w) => ({ words: [w], prefix: false })),
          'test',
          { spelling: true },
        ),
        text,
      )
      const found = new Set<string>()
      for (let h = 0; h < r.hitCount; h++) found.add(`${r.hitPattern[h]}:${r.hitFirst[h]}`)
      // The definition: each word of the folded text, spelled on its own (a word of silent
      // letters only, `h`, is an empty word: it still separates its neighbours).
      const words = normalizeText(text)
        .text.split(' ')
        .filter((w) => w !== '')
      const spelled = words.map(spellWord)
      const want = new Set<string>()
      patterns.forEach((p, i) =>
        spelled.forEach((w, k) => {
          if (w === p) want.add(`${i}:${k}`)
        }),
      )
      expect(found, JSON.stringify({ patterns, text })).toEqual(want)
    }
  })
})

describe('the forms of a term', () => {
  it('include the chat abbreviations of its words, spelled', () => {
    const forms = termForms(['lo', 'que', 'debo']).exact.map((f) => f.join(' '))
    expect(forms).toEqual(['lo ke debo', 'lo k debo'])
    expect(termForms(['por', 'favor']).exact.map((f) => f.join(' '))).toEqual([
      'por fabor',
      'x fabor',
      'porfa',
      'porfis',
      'pls',
      'plis',
      'xfa',
      'xfabor',
      'x fa',
    ])
    expect(abbreviations.every(([full, short]) => short.every((s) => s !== full))).toBe(true)
  })

  it('include one letter missing or two swapped in a long word, never the first letter', () => {
    const { typos } = termForms(['factura'])
    const forms = typos.map((f) => f.join(' '))
    // factura (7 letters): drop one of a c t u r (not f, not the last a) ...
    for (const slip of ['fctura', 'fatura', 'facura', 'factra', 'factua'].map(spellWord))
      expect(forms).toContain(slip)
    // ... or swap two neighbours after the first: fcatura, fatcura, facutra, factrua, factuar.
    for (const slip of ['fcatura', 'fatcura', 'facutra', 'factrua', 'factuar'].map(spellWord))
      expect(forms).toContain(slip)
    expect(forms).not.toContain(spellWord('actura'))
    expect(termForms(['pagos']).typos).toEqual([])
  })

  it('drop a slip that would match a word together with the term', () => {
    // desafili* without its second l reads desafii, and ii reads i: desafi* would also match
    // every desafiliación, counting it twice.
    const forms = termForms(['desafili*']).typos.map((f) => f.join(' '))
    expect(forms).not.toContain('desafi*')
    expect(forms).toContain('desafli*')
  })

  it('drop a slip that spells another term of the rule set', () => {
    // `cancear` (cancelar without its l) is, say, another term's exact form.
    const other = new Set(['kansear'])
    const forms = termForms(['cancelar'], other).typos.map((f) => f.join(' '))
    expect(forms).not.toContain('kansear')
    expect(termForms(['cancelar']).typos.map((f) => f.join(' '))).toContain('kansear')
  })
})

describe('the spelling fold at the ends of words and of the text', () => {
  it('reads a letter repeated across an accent mark once: the mark continues its word', () => {
    // `pa´ago`, the accent typed as a combining mark after the first a.
    expect(folded('pa\u0301ago')).toBe('pa\u0301_go')
  })

  it('reads each word on its own: a separator ends the repeated-letter run and ll', () => {
    expect(folded('sa asa')).toBe('sa asa')
    expect(folded('ll ll')).toBe('i_ i_')
    expect(folded('que.que')).toBe('k_e.k_e')
  })

  it('reads a private-use code unit in the text as a separator, never as a dropped letter', () => {
    expect(folded(`a${String.fromCharCode(DROPPED)}a`)).toBe('a a')
  })

  it('spells words and prefixes longer than its buffer', () => {
    // A prefix first, longer than any word before it in this file: its own buffer growth.
    const long = 'ab'.repeat(500)
    expect(spellPrefix(`${long}cancelac`).map((r) => r.slice(long.length))).toEqual(
      expect.arrayContaining(['kanselas', 'kanselak', 'kanselac']),
    )
    const longer = long.repeat(2)
    expect(spellWord(longer)).toBe(longer)
    expect(spellWord(`${longer}ce`)).toBe(`${longer}se`)
  })

  it('reads a prefix of one letter in every way it can go on, and one of silent letters not at all', () => {
    expect(spellPrefix('c').sort()).toEqual(['c', 'k', 's'])
    expect(spellPrefix('l').sort()).toEqual(['i', 'l'])
    expect(spellPrefix('gu').sort()).toEqual(['ge', 'gi', 'gu'])
    expect(spellPrefix('qu').sort()).toEqual(['ke', 'ki', 'ku'])
    expect(spellPrefix('ho')).toEqual(['o'])
    expect(spellPrefix('h')).toEqual([])
  })
})
