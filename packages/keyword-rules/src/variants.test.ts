import { describe, expect, it } from 'vitest'
import { classifyMessage } from './classify.js'
import { compileRules } from './compile.js'
import { parseRules } from './rules.js'
import { spellWord } from './spelling.js'
import { abbreviations, termForms } from './variants.js'

/*
 * What chat writers type for the words of a rule term: the README's list of chat abbreviations
 * (services/tramite-classifier/README.md, "How customers write"), written out here by hand, so
 * that each one is checked against the engine rather than read back from its own table.
 */
const written: readonly (readonly [term: string, typed: string])[] = [
  ['que', 'q'],
  ['que', 'k'],
  ['porque', 'xq'],
  ['porque', 'pq'],
  ['porque', 'xk'],
  ['porque', 'porq'],
  ['por que', 'xq'],
  ['por que', 'pq'],
  ['por que', 'xk'],
  ['por que', 'porq'],
  ['por', 'x'],
  ['por favor', 'porfa'],
  ['por favor', 'porfis'],
  ['por favor', 'pls'],
  ['por favor', 'plis'],
  ['por favor', 'xfa'],
  ['por favor', 'xfavor'],
  ['por favor', 'x fa'],
  ['tambien', 'tb'],
  ['tambien', 'tmb'],
  ['mensaje', 'msj'],
  ['mensaje', 'mensj'],
  ['mensajes', 'msjs'],
  ['informacion', 'info'],
  ['celular', 'cel'],
  ['telefono', 'tel'],
  ['telefono', 'tlf'],
  ['numero', 'num'],
  ['numero', 'nro'],
  ['cuenta', 'cta'],
  ['para', 'pa'],
  ['para', 'pra'],
  ['usted', 'ud'],
  ['ustedes', 'uds'],
  ['whatsapp', 'wsp'],
  ['whatsapp', 'wpp'],
  ['whatsapp', 'whatsap'],
  ['de', 'd'],
  ['donde', 'dnd'],
  ['mucho', 'mxo'],
]

describe('chat abbreviations', () => {
  it.each(written)('a term with "%s" matches a message that writes it "%s"', (term, typed) => {
    const words = term.split(' ')
    const rules = compileRules(
      parseRules(
        {
          version: 'abbreviations-1',
          tramites: [
            words.length === 1
              ? { id: 'abreviado', label: 'Abreviado', keywords: [term] }
              : { id: 'abreviado', label: 'Abreviado', phrases: [term] },
          ],
        },
        'abbreviations.json',
      ),
    )
    const message = `Buenas, ${typed.toUpperCase()} ayuda`
    const { labels, explanations } = classifyMessage(rules, message)
    expect(labels.map((l) => l.id)).toEqual(['abreviado'])
    expect(explanations.map((e) => [e.term, e.matchedText, e.typo === true])).toEqual([
      [term, typed.toUpperCase(), false],
    ])
  })

  it('are each read unlike the words and unlike every other abbreviation of them', () => {
    const read = (words: string) => words.split(' ').map(spellWord).join(' ')
    for (const [full, short] of abbreviations) {
      const forms = [full, ...short].map(read)
      expect(new Set(forms).size, `${full}: ${forms.join(', ')}`).toBe(forms.length)
    }
  })

  it('applies inside a longer term and where the term ends, one word or several at a time', () => {
    const exact = (words: string[]) => termForms(words).exact.map((form) => form.join(' '))
    expect(exact(['lo', 'que'])).toEqual(['lo ke', 'lo k'])
    // `por que` in two words, and each of its words on its own, in every combination.
    expect(exact(['por', 'que']).sort()).toEqual(
      ['por ke', 'por k', 'xk', 'pk', 'pork', 'x ke', 'x k'].sort(),
    )
    expect(exact(['enviar', 'el', 'numero', 'de', 'cuenta']).sort()).toEqual(
      [
        ...['numero', 'num', 'nro'].flatMap((n) =>
          ['de', 'd'].flatMap((d) =>
            ['kuenta', 'kta'].map((c) => `enbiar el ${spellWord(n)} ${d} ${c}`),
          ),
        ),
      ].sort(),
    )
  })

  it('keeps at most 48 forms of a term with many readings, and 48 slips', () => {
    // Each cancelac* reads three ways (3^4 = 81), times que and q.
    const many = termForms(['que', 'cancelac*', 'cancelac*', 'cancelac*', 'cancelac*'])
    expect(many.exact).toHaveLength(48)
    // Three long words, each with well over a dozen slips.
    const slips = termForms(['certificado', 'internacional', 'obligatorio'])
    expect(slips.typos).toHaveLength(48)
  })

  it('keeps at most 48 forms of a long phrase, the term as written first', () => {
    // Six words with two abbreviations each would be 729 forms; `q` and `k` read alike.
    const { exact } = termForms(['que', 'que', 'que', 'que', 'que', 'que'])
    expect(exact.length).toBeGreaterThan(1)
    expect(exact.length).toBeLessThanOrEqual(48)
    expect(exact[0]).toEqual(['ke', 'ke', 'ke', 'ke', 'ke', 'ke'])
    expect(new Set(exact.map((form) => form.join(' '))).size).toBe(exact.length)
  })

  it('gives no form to a term that is only silent letters', () => {
    // `h` reads as nothing: such a word is empty in the text and cannot match.
    expect(termForms(['h'])).toEqual({ exact: [], typos: [] })
    expect(termForms(['hola', 'h'])).toEqual({ exact: [], typos: [] })
  })
})

describe('one slip of the fingers', () => {
  it('never touches the last letter of a prefix, so a slip cannot widen it', () => {
    const typos = termForms(['certificad*']).typos.map((form) => form.join(' '))
    // certificad* (10 letters): one of e r t i f c a dropped (the two i give one form) ...
    const dropped = ['crtificad', 'cetificad', 'cerificad', 'certficad', 'certiicad', 'certifiad']
    // ... or two neighbours swapped, the first letter and the last kept in place.
    const swapped = ['cretificad', 'cetrificad', 'ceritficad', 'certfiicad', 'certiifcad']
    for (const slip of [...dropped, ...swapped]) expect(typos).toContain(`${spellWord(slip)}*`)
    // Neither the last letter dropped (certifica* would match certificación) nor it swapped.
    expect(typos).not.toContain(`${spellWord('certifica')}*`)
    expect(typos).not.toContain(`${spellWord('certificda')}*`)
    expect(typos.every((t) => t.endsWith('d*'))).toBe(true)
  })

  it('swaps the two letters after a double letter too', () => {
    // llamada: the l and a after ll swapped (lalmada), and the second l and the a (llmaada).
    const typos = termForms(['llamada']).typos.map((form) => form.join(' '))
    expect(typos).toContain(spellWord('lalmada'))
    expect(typos).toContain(spellWord('llmaada'))
  })

  it('reads a slip in any word of a phrase, one word at a time', () => {
    const typos = termForms(['cancelar', 'factura']).typos.map((form) => form.join(' '))
    expect(typos).toContain('kansear faktura')
    expect(typos).toContain('kanselar fatura')
    expect(typos).not.toContain('kansear fatura')
    expect(typos.every((t) => t.endsWith(' faktura') || t.startsWith('kanselar '))).toBe(true)
  })
})
