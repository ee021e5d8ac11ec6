import { describe, expect, it } from 'vitest'
import { classifyConversation, classifyMessage } from './classify.js'
import { compileRules } from './compile.js'
import { mergeMessageMatches } from './merge.js'
import { parseRules } from './rules.js'
import type { RuleSet, Sender } from './types.js'

/** Compiles a rule set given as the rule file's JSON (a fresh compile per test: classify.test.ts). */
const compiled = (tramites: unknown[]) =>
  compileRules(parseRules({ version: 'edges-1', tramites }, 'edges.json'))

const ids = (result: { labels: readonly { id: string }[] }) => result.labels.map((l) => l.id)

describe('who a trámite listens to', () => {
  it('counts a message only for the trámites whose senders include its sender', () => {
    const rules = compiled([
      { id: 'saludo-agente', label: 'Agente', keywords: ['bienvenido'], senders: ['agent'] },
      { id: 'saludo-bot', label: 'Bot', keywords: ['bienvenido'], senders: ['bot'] },
      { id: 'saludo-otro', label: 'Otro', keywords: ['bienvenido'], senders: ['other'] },
      { id: 'saludo-cliente', label: 'Cliente', keywords: ['bienvenido'] },
    ])
    const by = (sender: Sender) => ids(classifyMessage(rules, 'Bienvenido', sender))
    expect(by('agent')).toEqual(['saludo-agente'])
    expect(by('bot')).toEqual(['saludo-bot'])
    expect(by('other')).toEqual(['saludo-otro'])
    expect(by('customer')).toEqual(['saludo-cliente'])
  })
})

describe('terms in two segments (a prefix word before the end)', () => {
  const rules = () =>
    compiled([{ id: 'pago', label: 'Pagos', phrases: ['cancel* la factura'], keywords: ['cita'] }])

  it('matches only with its first segment right before the rest, in the same clause', () => {
    const explained = (text: string) =>
      classifyMessage(rules(), text).explanations.map((e) => e.matchedText)
    expect(explained('quiero cancelar la factura')).toEqual(['cancelar la factura'])
    // The last segment alone, or after another word, is not the term.
    expect(explained('quiero pagar la factura')).toEqual([])
    expect(explained('cancelar ya la factura')).toEqual([])
    // A clause break between the segments ends the term, as it does inside one segment.
    expect(explained('No, no cancelo. La factura llegó')).toEqual([])
  })

  it('does not see the hits of the text scanned before', () => {
    const compiledRules = rules()
    // The first scan leaves `cancel*` as its second hit, ending at word 1; in the second scan
    // `la factura` starts at word 2 and is its only hit.
    expect(ids(classifyMessage(compiledRules, 'cita cancelo la factura'))).toEqual(['pago'])
    expect(classifyMessage(compiledRules, 'que pena la factura').explanations).toEqual([])
  })
})

describe('exclusions', () => {
  it('do not apply when absent from the text, whatever terms come before them in the rules', () => {
    const rules = compiled([
      { id: 'pago', label: 'Pagos', keywords: ['pago'], exclusions: ['factura'] },
    ])
    expect(ids(classifyMessage(rules, 'hice el pago'))).toEqual(['pago'])
  })

  it('remove a term they overlap, and quote the exclusion where it is in the text', () => {
    const rules = compiled([
      {
        id: 'pago',
        label: 'Pagos',
        keywords: ['pago'],
        exclusions: ['acuerdo de pago', 'pago vencido'],
      },
    ])
    const result = classifyMessage(rules, 'ya firmé el acuerdo de pago')
    expect(result.labels).toEqual([])
    expect(result.excluded).toEqual([
      expect.objectContaining({
        term: 'pago',
        matchedText: 'pago',
        exclusion: 'acuerdo de pago',
        exclusionText: 'acuerdo de pago',
      }),
    ])
  })

  it('leave a term that ends before the exclusion begins', () => {
    const rules = compiled([
      { id: 'pago', label: 'Pagos', keywords: ['pago'], exclusions: ['factura vencida'] },
    ])
    const result = classifyMessage(rules, 'quiero hacer un pago y revisar la factura vencida')
    expect(ids(result)).toEqual(['pago'])
    expect(result.excluded).toEqual([])
  })
})

describe('slips of the fingers across terms', () => {
  it('never read a word as a slip of one term when it is another term as written', () => {
    // `planilla` is `plantilla` without its t.
    const rules = compiled([
      { id: 'plantilla', label: 'Plantillas', keywords: ['plantilla'] },
      { id: 'planilla', label: 'Planillas', keywords: ['planilla'] },
    ])
    expect(ids(classifyMessage(rules, 'la planilla de pagos'))).toEqual(['planilla'])
    expect(ids(classifyMessage(rules, 'la plantila de word'))).toEqual(['plantilla'])
  })
})

describe('the shape of explanations', () => {
  it('gives messageIndex and position only for a conversation', () => {
    const rules = compiled([{ id: 'pago', label: 'Pagos', keywords: ['pago'] }])
    const [single] = classifyMessage(rules, 'el pago').explanations
    expect(Object.keys(single!).sort()).toEqual([
      'end',
      'kind',
      'matchedText',
      'rule',
      'start',
      'term',
    ])
    const [inChat] = classifyConversation(rules, [
      { text: 'el pago', sender: 'customer', position: 4 },
    ]).explanations
    expect(inChat).toMatchObject({ messageIndex: 0, position: 4 })
  })

  it('merges messages without a position or exclusions (a service that keeps neither)', () => {
    const rules = compiled([{ id: 'pago', label: 'Pagos', keywords: ['pago'] }])
    const { explanations } = classifyMessage(rules, 'el pago')
    const merged = mergeMessageMatches('edges-1', [{ explanations }, { explanations }], () => ({
      label: 'Pagos',
      priority: 0,
    }))
    expect(merged.labels).toEqual([{ id: 'pago', label: 'Pagos', score: 0.5 }])
    expect(merged.excluded).toEqual([])
    expect(merged.explanations.map((e) => Object.keys(e).includes('position'))).toEqual([
      false,
      false,
    ])
    expect(merged.explanations.map((e) => e.messageIndex)).toEqual([0, 1])
  })
})

describe('compiling a rule set too large for one automaton', () => {
  it('refuses it with an error that names the rule set by its version', () => {
    // 5,000 distinct CJK words of two characters each.
    const keywords = Array.from(
      { length: 5000 },
      (_, i) => String.fromCharCode(0x4e00 + i) + String.fromCharCode(0x4e00 + ((i + 1) % 5000)),
    )
    const rules = parseRules(
      { version: 'big-2', tramites: [{ id: 'big', label: 'Big', keywords }] },
      'big.json',
    )
    expect(() => compileRules(rules)).toThrow(
      expect.objectContaining({
        code: 'TRAMITE_RULES_INVALID',
        message: expect.stringMatching(/^The rules big-2 compile to \d+ states over \d+ symbols/),
      }),
    )
  })
})

describe('compiling a rule set built by hand', () => {
  it('refuses a term that the rule file would have refused, naming it', () => {
    const rules: RuleSet = {
      version: 'hand-1',
      tramites: [
        {
          id: 'pago',
          label: 'Pagos',
          keywords: ['pa*go'],
          phrases: [],
          allOf: [],
          exclusions: [],
          senders: ['customer'],
          priority: 0,
        },
      ],
    }
    expect(() => compileRules(rules)).toThrow(/^Invalid term "pa\*go": .+/)
  })
})

describe('long and busy messages', () => {
  it('finds every occurrence of a term, however many', () => {
    const rules = compiled([{ id: 'pago', label: 'Pagos', keywords: ['pago'] }])
    const text = Array.from({ length: 70 }, (_, i) => `pago ${i}`).join(', ')
    const { explanations } = classifyMessage(rules, text)
    expect(explanations).toHaveLength(70)
    expect(explanations.map((e) => text.slice(e.start, e.end))).toEqual(Array(70).fill('pago'))
    expect(explanations.at(-1)!.start).toBe(text.lastIndexOf('pago'))
  })

  it('finds a term at the end of a message thousands of characters long', () => {
    const rules = compiled([{ id: 'pago', label: 'Pagos', phrases: ['cancel* la factura'] }])
    const text = `${'hola y '.repeat(700)}quiero cancelar la factura`
    const [found] = classifyMessage(rules, text).explanations
    expect(found).toMatchObject({
      matchedText: 'cancelar la factura',
      start: text.length - 'cancelar la factura'.length,
      end: text.length,
    })
  })
})

describe('terms in other scripts and prefixes', () => {
  it('matches a word of a script whose letters decompose into several (Hangul)', () => {
    const rules = compiled([{ id: 'seul', label: 'Seúl', keywords: ['서울'] }])
    expect(classifyMessage(rules, 'vuelo a 서울 mañana').explanations).toEqual([
      expect.objectContaining({ matchedText: '서울', start: 8, end: 10 }),
    ])
    // A whole word: a longer word that begins with it is not the term.
    expect(classifyMessage(rules, 'vuelo a 서울에 mañana').explanations).toEqual([])
  })

  it('quotes a whole word with a silent letter or an accent mark inside it', () => {
    const rules = compiled([{ id: 'ahorro', label: 'Ahorro', keywords: ['ahorro', 'cancelacion'] }])
    // The h of ahorro is dropped by the spelling fold; the accent is a combining mark (NFD).
    const text = 'mi AHORRO y la cancelacio\u0301n'
    expect(classifyMessage(rules, text).explanations.map((e) => e.matchedText)).toEqual([
      'AHORRO',
      'cancelacio\u0301n',
    ])
  })

  it('reads a prefix in every way its last letters can go on', () => {
    const rules = compiled([{ id: 'cancelacion', label: 'Cancelación', keywords: ['cancelac*'] }])
    for (const word of ['cancelación', 'CANCELACION', 'cancelasion', 'cancelacion'])
      expect(ids(classifyMessage(rules, `la ${word} del plan`)), word).toEqual(['cancelacion'])
    const cancel = compiled([{ id: 'cancelacion', label: 'Cancelación', keywords: ['cancel*'] }])
    // `ll` reads as `i`: cancel* must also be read as kansei… to find `cancellar`.
    expect(ids(classifyMessage(cancel, 'quiero cancellar'))).toEqual(['cancelacion'])
  })
})
