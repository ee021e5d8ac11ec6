import { fileURLToPath } from 'node:url'
import { beforeEach, describe, expect, it } from 'vitest'
import { classifyConversation, classifyMessage } from './classify.js'
import { type CompiledRules, compileRules } from './compile.js'
import { loadEvalSet } from './evaluate.js'
import { loadRules, parseRules } from './rules.js'

/*
 * Compiled afresh for each test, never at load time: a mutant of the engine that the compilation
 * runs is then covered by the tests that use it, not by the whole file (test/mutation/modules.mjs).
 */
const testRules = (): CompiledRules =>
  compileRules(
    parseRules(
      {
        version: 'test-1',
        tramites: [
          {
            id: 'certificado',
            label: 'Certificados',
            keywords: ['certificad*', 'constancia'],
            phrases: ['carta laboral'],
            priority: 40,
          },
          {
            id: 'pago',
            label: 'Pagos',
            keywords: ['pago', 'factura*'],
            phrases: ['cancel* la factura'],
            exclusions: ['acuerdo de pago'],
            priority: 30,
          },
          {
            id: 'cancelacion',
            label: 'Cancelación',
            keywords: ['cancel*'],
            phrases: ['dar de baja'],
            exclusions: ['no quier* cancel*', 'cancel* la factura'],
            priority: 60,
          },
          {
            id: 'datos',
            label: 'Datos',
            allOf: [
              ['actualiz*', 'cambi*'],
              ['correo', 'celular'],
            ],
            priority: 30,
          },
          {
            id: 'reclamo',
            label: 'Reclamos',
            keywords: ['reclamo'],
            senders: ['customer', 'agent'],
          },
        ],
      },
      'test.json',
    ),
  )
let rules: CompiledRules
beforeEach(() => {
  rules = testRules()
})

const ids = (text: string, sender?: 'customer' | 'agent' | 'bot' | 'other'): string[] =>
  classifyMessage(rules, text, sender).labels.map((l) => l.id)

describe('classifyMessage', () => {
  it('explains a match with the rule, the term, the original text and its offsets', () => {
    expect(classifyMessage(rules, 'Hola 👋, necesito un CERTIFICÁDO laboral')).toEqual({
      rulesVersion: 'test-1',
      labels: [{ id: 'certificado', label: 'Certificados', score: 0.5 }],
      primary: 'certificado',
      explanations: [
        {
          rule: 'certificado',
          term: 'certificad*',
          kind: 'keyword',
          matchedText: 'CERTIFICÁDO',
          start: 21,
          end: 32,
        },
      ],
      excluded: [],
    })
  })

  it.each([
    ['certificado', ['certificado']],
    ['CERTIFICADO', ['certificado']],
    ['certificádo', ['certificado']],
    ['certifica\u0301do', ['certificado']],
    ['los certificados', ['certificado']],
    ['certificadas', ['certificado']],
    ['certificación', []],
    ['(certificado)', ['certificado']],
    ['recertificado', []],
    ['el pago.', ['pago']],
    ['PAGO', ['pago']],
    ['pagoda', []],
    ['apago', []],
    ['pagos', []],
    ['pago2', []],
    ['la Carta-Laboral', ['certificado']],
    ['carta, laboral', []],
  ])('%j → %j', (text, expected) => {
    expect(ids(text)).toEqual(expected)
  })

  it('gives the whole word a prefix matched, and offsets in UTF-16 units', () => {
    const [explanation] = classifyMessage(rules, '🙏🙏 Certificados').explanations
    expect(explanation).toMatchObject({ matchedText: 'Certificados', start: 5, end: 17 })
  })

  it('lets an exclusion cancel only the matches it overlaps, and says so', () => {
    const result = classifyMessage(rules, 'No quiero cancelar el servicio')
    expect(result.labels).toEqual([])
    expect(result.excluded).toEqual([
      {
        rule: 'cancelacion',
        term: 'cancel*',
        kind: 'keyword',
        matchedText: 'cancelar',
        start: 10,
        end: 18,
        exclusion: 'no quier* cancel*',
        exclusionText: 'No quiero cancelar',
      },
    ])
    // "cancelar la factura" is a payment: the cancellation match inside it is cancelled, a later
    // one is not.
    expect(ids('quiero cancelar la factura')).toEqual(['pago'])
    expect(ids('ya cancelé la factura y quiero cancelar la línea')).toEqual(['pago', 'cancelacion'])
  })

  it('keeps an exclusion inside one clause: "no, quiero cancelar" is a cancellation', () => {
    expect(ids('No quiero cancelar')).toEqual([])
    expect(ids('No, quiero cancelar')).toEqual(['cancelacion'])
    expect(ids('¿Renovar? No. Quiero cancelar')).toEqual(['cancelacion'])
  })

  it('requires every allOf group in the same message', () => {
    expect(classifyMessage(rules, 'quiero CAMBIAR mi correo')).toMatchObject({
      labels: [{ id: 'datos', score: 0.75 }],
      explanations: [
        { rule: 'datos', term: 'cambi*', kind: 'allOf', matchedText: 'CAMBIAR' },
        { rule: 'datos', term: 'correo', kind: 'allOf', matchedText: 'correo' },
      ],
    })
    expect(ids('quiero cambiar')).toEqual([])
    expect(ids('mi correo es ana@example.com')).toEqual([])
  })

  it('reads only the senders a rule names', () => {
    expect(ids('necesito el certificado', 'agent')).toEqual([])
    expect(ids('necesito el certificado', 'bot')).toEqual([])
    expect(ids('registramos su reclamo', 'agent')).toEqual(['reclamo'])
    expect(ids('registramos su reclamo', 'other')).toEqual([])
    expect(ids('certificado')).toEqual(['certificado'])
  })

  it('scores distinct terms (phrase 2, keyword 1) and breaks ties by priority then id', () => {
    const result = classifyMessage(
      rules,
      'certificado, certificado y constancia; factura y pago; dar de baja',
    )
    expect(result.labels).toEqual([
      { id: 'cancelacion', label: 'Cancelación', score: 0.75 },
      { id: 'certificado', label: 'Certificados', score: 0.75 },
      { id: 'pago', label: 'Pagos', score: 0.75 },
    ])
    expect(result.primary).toBe('cancelacion')
    expect(result.explanations.map((e) => e.start)).toEqual([0, 13, 27, 39, 49, 55])
  })

  it('returns no label and a null primary when nothing matches', () => {
    expect(classifyMessage(rules, '')).toEqual({
      rulesVersion: 'test-1',
      labels: [],
      primary: null,
      explanations: [],
      excluded: [],
    })
  })

  it('is not changed by later edits of the rule set it was compiled from', () => {
    const ruleSet = parseRules(
      { version: 'v', tramites: [{ id: 'a', label: 'A', keywords: ['hola'] }] },
      'v.json',
    )
    const compiled = compileRules(ruleSet)
    ruleSet.tramites[0]!.label = 'changed'
    expect(classifyMessage(compiled, 'hola').labels).toEqual([{ id: 'a', label: 'A', score: 0.5 }])
  })

  it('leaves no state behind between calls', () => {
    const first = classifyMessage(rules, 'certificado y pago')
    expect(classifyMessage(rules, 'certificado y pago')).toEqual(first)
    expect(classifyMessage(rules, 'cambiar').labels).toEqual([])
    expect(classifyMessage(rules, 'correo').labels).toEqual([])
  })
})

describe('classifyConversation', () => {
  it('aggregates the messages of applicable senders, each term counted once', () => {
    const result = classifyConversation(rules, [
      { text: '¿En qué le puedo ayudar? ¿Un certificado?', sender: 'agent', position: 0 },
      { text: 'Necesito una constancia', sender: 'customer', position: 1 },
      { text: 'la constancia laboral, y cambiar', sender: 'customer', position: 2 },
      { text: 'el correo', sender: 'customer', position: 3 },
    ])
    expect(result.labels).toEqual([{ id: 'certificado', label: 'Certificados', score: 0.5 }])
    expect(result.explanations).toEqual([
      expect.objectContaining({ matchedText: 'constancia', messageIndex: 1, position: 1 }),
      expect.objectContaining({ matchedText: 'constancia', messageIndex: 2, position: 2 }),
    ])
  })

  it('counts a satisfied allOf once and keeps exclusions within their message', () => {
    const result = classifyConversation(rules, [
      { text: 'cambiar el celular', sender: 'customer', position: 5 },
      { text: 'y actualizar el correo', sender: 'customer', position: 6 },
      { text: 'no quiero cancelar', sender: 'customer', position: 7 },
      { text: 'cancelar', sender: 'customer', position: 8 },
    ])
    expect(result.labels).toEqual([
      { id: 'datos', label: 'Datos', score: 0.75 },
      { id: 'cancelacion', label: 'Cancelación', score: 0.5 },
    ])
    expect(result.excluded).toEqual([expect.objectContaining({ position: 7 })])
  })
})

describe('how customers write', () => {
  const explained = (text: string) =>
    classifyMessage(rules, text).explanations.map(
      (e) => `${e.rule} "${e.term}" "${e.matchedText}"${e.typo === true ? ' typo' : ''}`,
    )

  it('reads the spelling variants of a term as the term, quoting the text as written', () => {
    expect(explained('Hola, nesesito un SERTIFICADO')).toEqual([
      'certificado "certificad*" "SERTIFICADO"',
    ])
    expect(explained('kiero kanzelar')).toEqual(['cancelacion "cancel*" "kanzelar"'])
    expect(explained('la fakturra de agosto')).toEqual(['pago "factura*" "fakturra"'])
  })

  it('reads chat abbreviations in phrases and exclusions', () => {
    // `no quier* cancel*` with k for qu and no accents; nothing else counts.
    expect(classifyMessage(rules, 'no kiero kanselar').labels).toEqual([])
    expect(classifyMessage(rules, 'no kiero kanselar').excluded).toEqual([
      expect.objectContaining({ term: 'cancel*', exclusion: 'no quier* cancel*' }),
    ])
    expect(explained('dar d baja el plan')).toEqual(['cancelacion "dar de baja" "dar d baja"'])
  })

  it('tolerates one slip of the fingers in a long word, and says so', () => {
    expect(explained('el certifcado laboral')).toEqual([
      'certificado "certificad*" "certifcado" typo',
    ])
    expect(explained('una consatncia')).toEqual(['certificado "constancia" "consatncia" typo'])
    // Two slips, or a slip in the first letter, are not read.
    expect(explained('el crtifcado')).toEqual([])
    expect(explained('una xonstancia')).toEqual([])
    // A short word gets no tolerance: `pag` is not `pago`.
    expect(explained('el pag')).toEqual([])
  })

  it('counts every form of a term once', () => {
    const result = classifyMessage(rules, 'constancia, konstansia y consatncia')
    expect(result.labels).toEqual([{ id: 'certificado', label: 'Certificados', score: 0.5 }])
    expect(result.explanations).toHaveLength(3)
  })
})

describe('the shipped rule set', () => {
  let shipped: CompiledRules
  beforeEach(() => {
    shipped = compileRules(
      loadRules(
        fileURLToPath(
          new URL('../../../services/tramite-classifier/rules/tramites.es.json', import.meta.url),
        ),
      ),
    )
  })

  it('never explains one term twice at one place, whatever its forms', () => {
    const lines = loadEvalSet(
      fileURLToPath(
        new URL('../../../services/tramite-classifier/eval/labelled.es.jsonl', import.meta.url),
      ),
    )
    let explained = 0
    for (const { text, sender } of lines) {
      const places = classifyMessage(shipped, text, sender).explanations.map(
        (e) => `${e.rule} ${e.term} ${e.start}-${e.end}`,
      )
      explained += places.length
      expect(new Set(places).size, text).toBe(places.length)
    }
    expect(explained).toBeGreaterThan(lines.length)
  })

  it('classifies typical lines with explanations (golden)', () => {
    const golden = (text: string) => {
      const { labels, primary, explanations } = classifyMessage(shipped, text)
      return {
        primary,
        labels: labels.map((l) => `${l.id} ${l.score}`),
        explanations: explanations.map(
          (e) => `${e.rule} "${e.term}" "${e.matchedText}" ${e.start}-${e.end}`,
        ),
      }
    }
    expect(golden('Buenas tardes, necesito un CERTIFICADO laboral')).toEqual({
      primary: 'certificado',
      labels: ['certificado 0.5'],
      explanations: ['certificado "certificad*" "CERTIFICADO" 27-38'],
    })
    expect(golden('kiero canselar el servicio y que me devuelvan la plata')).toEqual({
      primary: 'cancelacion',
      labels: ['cancelacion 0.5', 'devolucion 0.5'],
      explanations: [
        'cancelacion "cancel*" "canselar" 6-14',
        'devolucion "devuelv*" "devuelvan" 36-45',
      ],
    })
    expect(golden('Quiero cancelar la factura de agosto')).toEqual({
      primary: 'pago-factura',
      labels: ['pago-factura 0.875'],
      explanations: [
        'pago-factura "cancel* la factura" "cancelar la factura" 7-26',
        'pago-factura "factura*" "factura" 19-26',
      ],
    })
    expect(golden('No quiero cancelar, solo saber cuánto debo')).toEqual({
      primary: 'pago-factura',
      labels: ['pago-factura 0.75'],
      explanations: ['pago-factura "cuanto debo" "cuánto debo" 31-42'],
    })
    expect(golden('necesito un paz y salvo y hacer un acuerdo de pago')).toEqual({
      primary: 'paz-y-salvo',
      labels: ['paz-y-salvo 0.75', 'acuerdo-pago 0.75'],
      explanations: [
        'paz-y-salvo "paz y salvo" "paz y salvo" 12-23',
        'acuerdo-pago "acuerdo* de pago" "acuerdo de pago" 35-50',
      ],
    })
    expect(golden('hola, buenos días')).toEqual({ primary: null, labels: [], explanations: [] })
    // An allOf group satisfied in one message, accents and case folded.
    expect(golden('Quiero CAMBIAR mi número de celular')).toEqual({
      primary: 'actualizacion-datos',
      labels: ['actualizacion-datos 0.75'],
      explanations: [
        'actualizacion-datos "cambi*" "CAMBIAR" 7-14',
        'actualizacion-datos "celular" "celular" 28-35',
      ],
    })
    // ñ folds to n: typed with or without it, the same match, offsets in the original text.
    for (const text of ['olvidé mi CONTRASEÑA', 'olvide mi contrasena']) {
      expect(golden(text)).toEqual({
        primary: 'acceso-cuenta',
        labels: ['acceso-cuenta 0.5'],
        explanations: [`acceso-cuenta "contrasen*" "${text.slice(10)}" 10-20`],
      })
    }
    // Word boundaries: "pagoda" is not "pago".
    expect(golden('el PAGO, no la pagoda')).toEqual({
      primary: 'pago-factura',
      labels: ['pago-factura 0.5'],
      explanations: ['pago-factura "pago" "PAGO" 3-7'],
    })
    // An exclusion cancels the certificate; the payment stays.
    expect(golden('no necesito el certificado, solo pagar')).toEqual({
      primary: 'pago-factura',
      labels: ['pago-factura 0.5'],
      explanations: ['pago-factura "pagar" "pagar" 33-38'],
    })
  })

  it('classifies a conversation: customer lines only, a term twice counts once (golden)', () => {
    const result = classifyConversation(shipped, [
      { text: '¿Desea cancelar el servicio?', sender: 'agent', position: 0 },
      { text: 'no, necesito el certificado', sender: 'customer', position: 1 },
      { text: 'el CERTIFICADO laboral y la factura', sender: 'customer', position: 2 },
    ])
    expect(result.labels.map((l) => `${l.id} ${l.score}`)).toEqual([
      'certificado 0.5',
      'pago-factura 0.5',
    ])
    expect(
      result.explanations.map(
        (e) => `${e.position} ${e.rule} "${e.term}" "${e.matchedText}" ${e.start}-${e.end}`,
      ),
    ).toEqual([
      '1 certificado "certificad*" "certificado" 16-27',
      '2 certificado "certificad*" "CERTIFICADO" 3-14',
      '2 pago-factura "factura*" "factura" 28-35',
    ])
  })
})
