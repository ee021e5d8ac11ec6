import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  compileRules,
  evaluate,
  parseEvalSet,
  parseRules,
  type RuleSet,
} from '@wolkvox-chat-stream/keyword-rules'
import {
  columns,
  compareOnSplit,
  conversationOrder,
  createCoverage,
  isCovered,
  isTermWord,
  messageTerms,
  primaryOf,
  renderCheck,
  renderSuggest,
  ruleTerms,
  scoreLabelSets,
  suggestCommand,
  suggestTerms,
  termWords,
  transitionTable,
  truncate,
  type ChatTexts,
  type CheckReport,
  type ReadChat,
} from './suggest.js'

const rules = (tramites: unknown[], version = '1'): RuleSet =>
  parseRules({ version, tramites }, 'test.json')

const small = rules([
  {
    id: 'certificado',
    label: 'Certificados',
    keywords: ['certificad*'],
    phrases: ['carta laboral'],
    exclusions: ['carta de renuncia'],
  },
  { id: 'soporte', label: 'Soporte', phrases: ['sin internet'], keywords: ['modem'] },
  {
    id: 'datos',
    label: 'Datos',
    allOf: [
      ['cambi*', 'actualiz*'],
      ['correo', 'celular'],
    ],
  },
])

describe('terms', () => {
  it('keeps words of 3 letters or more that are not stop words, digits or junk', () => {
    expect(isTermWord('antena')).toBe(true)
    expect(isTermWord('eps')).toBe(true)
    for (const w of ['de', 'la', 'hola', 'gracias', 'tardes', '12345', 'ab', 'x'.repeat(31)])
      expect(isTermWord(w), w).toBe(false)
  })

  it('folds accents and case, and makes 2- and 3-word phrases within a clause, edges not stop words', () => {
    expect(messageTerms('Hola, la Antena Parabólica no coge la señal. ¡Gracias!')).toEqual([
      'antena',
      'antena parabolica',
      'parabolica',
      'parabolica no coge',
      'coge',
      'coge la senal',
      'senal',
    ])
    expect(messageTerms('carta, laboral')).toEqual(['carta', 'laboral'])
    expect(messageTerms('plan 300 megas')).toEqual(['plan', 'plan 300 megas', 'megas'])
    expect(messageTerms('antena antena ANTENA')).toEqual([
      'antena',
      'antena antena',
      'antena antena antena',
    ])
    expect(messageTerms('')).toEqual([])
    expect(messageTerms('😀 ¡¡ !!')).toEqual([])
  })

  it('folds rule terms into words, prefixes keeping their star', () => {
    expect(termWords('Cancel* la Factura')).toEqual(['cancel*', 'la', 'factura'])
    expect(termWords('Certificád*')).toEqual(['certificad*'])
    expect(termWords('paz-y-salvo')).toEqual(['paz', 'y', 'salvo'])
    expect(ruleTerms(small.tramites[0]!)).toEqual([['carta', 'laboral'], ['certificad*']])
    expect(ruleTerms(small.tramites[2]!)).toEqual([
      ['cambi*'],
      ['actualiz*'],
      ['correo'],
      ['celular'],
    ])
  })

  it('cuts examples to 120 characters', () => {
    expect(truncate('corto')).toBe('corto')
    const long = 'a'.repeat(130)
    expect(truncate(long)).toBe(`${'a'.repeat(119)}…`)
    expect(Array.from(truncate('😀'.repeat(130))).length).toBe(120)
  })
})

describe('coverage', () => {
  const terms = [['paz', 'y', 'salvo'], ['certificad*'], ['carta', 'laboral']]

  it('covers a term a rule term matches in, or that is part of a multi-word rule term', () => {
    expect(isCovered('certificado', terms)).toBe(true)
    expect(isCovered('certificados laborales', terms)).toBe(true)
    expect(isCovered('carta laboral urgente', terms)).toBe(true)
    expect(isCovered('salvo', terms)).toBe(true)
    expect(isCovered('paz y salvo', terms)).toBe(true)
    expect(isCovered('laboral', terms)).toBe(true)
    expect(isCovered('certifica', terms)).toBe(false)
    expect(isCovered('carta', [['certificad*']])).toBe(false)
    expect(isCovered('afiliacion', terms)).toBe(false)
    expect(isCovered('salvo conducto', terms)).toBe(false)
  })

  it('lists the trámites covering a term, as the engine matches (allOf terms too, not exclusions)', () => {
    const coveredBy = createCoverage(small.tramites)
    expect(coveredBy('certificado')).toEqual(['certificado'])
    expect(coveredBy('certificados de afiliacion')).toEqual(['certificado'])
    expect(coveredBy('laboral')).toEqual(['certificado'])
    expect(coveredBy('correo')).toEqual(['datos'])
    expect(coveredBy('cambiar modem')).toEqual(['soporte', 'datos'])
    expect(coveredBy('renuncia')).toEqual([])
    expect(coveredBy('internet')).toEqual(['soporte'])
    expect(coveredBy('antena parabolica')).toEqual([])
  })
})

describe('suggestTerms', () => {
  const chat = (connId: string, primary: string | null, customer: string[]): ChatTexts => ({
    server: '0010',
    connId,
    primary,
    customer,
  })
  const chats = [
    chat('c1', null, ['La antena parabólica no coge', 'gracias']),
    chat('c2', null, ['ANTENA PARABOLICA torcida', 'la antena parabolica otra vez']),
    chat('c3', null, ['hola']),
    chat('c4', 'certificado', ['Necesito un certificado de afiliación urgente', 'para la EPS']),
    chat('c5', 'certificado', ['certificado de afiliacion urgente']),
    chat('c6', 'soporte', ['sin internet desde ayer, afiliacion']),
    chat('c7', 'certificado', ['carta laboral por favor']),
  ]

  it('counts chats and messages of the unclassified terms, and co-occurring terms with their lift', () => {
    expect(suggestTerms(chats, small.tramites, { top: 4, examples: 2 })).toEqual({
      chats: 7,
      unclassified_chats: 3,
      unclassified: [
        {
          term: 'antena',
          chats: 2,
          messages: 3,
          examples: ['La antena parabólica no coge', 'ANTENA PARABOLICA torcida'],
          in_rules: [],
        },
        {
          term: 'antena parabolica',
          chats: 2,
          messages: 3,
          examples: ['La antena parabólica no coge', 'ANTENA PARABOLICA torcida'],
          in_rules: [],
        },
        {
          term: 'parabolica',
          chats: 2,
          messages: 3,
          examples: ['La antena parabólica no coge', 'ANTENA PARABOLICA torcida'],
          in_rules: [],
        },
        {
          term: 'antena parabolica torcida',
          chats: 1,
          messages: 1,
          examples: ['ANTENA PARABOLICA torcida'],
          in_rules: [],
        },
      ],
      tramites: [
        {
          id: 'certificado',
          label: 'Certificados',
          chats: 3,
          // certificado, certificado de afiliacion: covered by certificad*. 2/3 ÷ 2/7 = 2.333.
          terms: [
            { term: 'afiliacion urgente', chats: 2, all_chats: 2, lift: 2.333 },
            { term: 'urgente', chats: 2, all_chats: 2, lift: 2.333 },
            { term: 'afiliacion', chats: 2, all_chats: 3, lift: 1.556 },
          ],
        },
        { id: 'soporte', label: 'Soporte', chats: 1, terms: [] },
        { id: 'datos', label: 'Datos', chats: 0, terms: [] },
      ],
    })
  })

  it('keeps the top N per list, no examples with K = 0, and marks terms the rules cover', () => {
    const result = suggestTerms(
      [chat('a', null, ['mi correo no llega']), chat('b', null, ['el correo'])],
      small.tramites,
      { top: 1, examples: 0 },
    )
    expect(result.unclassified).toEqual([
      { term: 'correo', chats: 2, messages: 2, examples: [], in_rules: ['datos'] },
    ])
    const two = suggestTerms(chats, small.tramites, { top: 2, examples: 1 })
    expect(two.tramites[0]!.terms.map((t) => t.term)).toEqual(['afiliacion urgente', 'urgente'])
    expect(two.unclassified[0]!.examples).toEqual(['La antena parabólica no coge'])
  })

  it('renders the suggestions as a table, trámites without chats on one line', () => {
    const result = suggestTerms(chats, small.tramites, { top: 2, examples: 1 })
    expect(
      renderSuggest({
        rules: { file: 'rules.json', version: '1' },
        from: '2025-03-04T05:00:00.000Z',
        to: '2025-03-05T04:59:59.999Z',
        server: '0010',
        messages_read: 12,
        messages_in_range: 11,
        ...result,
      }),
    ).toBe(
      [
        'rules   rules.json (version 1)',
        'range   2025-03-04T05:00:00.000Z … 2025-03-05T04:59:59.999Z, server 0010',
        'read    12 messages, 11 in range; 7 chats, 3 with no trámite',
        '',
        'Frequent in the customer messages of chats with no trámite:',
        '  term               chats  messages  in rules',
        '  antena                 2         3',
        '      «La antena parabólica no coge»',
        '  antena parabolica      2         3',
        '      «La antena parabólica no coge»',
        '',
        'Coming with each trámite (its chats, at least 2), not covered by its rule terms:',
        '  certificado (3 chats)',
        '      term                chats  all chats  lift',
        '      afiliacion urgente      2          2  2.33',
        '      urgente                 2          2  2.33',
        '  soporte (1 chats)',
        '      (nothing)',
        '  no chats: datos',
        '',
      ].join('\n'),
    )
  })

  it('gives empty lists for no chats', () => {
    expect(suggestTerms([], small.tramites, { top: 5, examples: 2 })).toMatchObject({
      chats: 0,
      unclassified_chats: 0,
      unclassified: [],
    })
  })
})

describe('chats read from the topic', () => {
  const message = (
    eventId: string,
    text: string,
    sender: 'customer' | 'agent',
    sentAt: number,
    position: number,
  ) => ({
    eventId,
    text,
    sender,
    sentAt,
    position,
  })
  const chat: ReadChat = {
    server: '0010',
    connId: 'c1',
    messages: new Map(
      [
        message('e3', 'necesito el certificado', 'customer', 2_000, 0),
        message('e2', 'con gusto', 'agent', 1_000, 1),
        message('e1', '¿Desea un certificado?', 'agent', 1_000, 1),
        message('e0', 'hola', 'customer', 1_000, 0),
      ].map((m) => [m.eventId, m]),
    ),
  }

  it('orders messages by sent_at, position, event_id and classifies the conversation', () => {
    const ordered = conversationOrder(chat)
    expect(ordered.map((m) => m.eventId)).toEqual(['e0', 'e1', 'e2', 'e3'])
    const compiled = compileRules(small)
    expect(primaryOf(compiled, ordered)).toBe('certificado')
    // The agent's certificado does not count: the rules read customers only.
    expect(primaryOf(compiled, ordered.slice(0, 3))).toBeNull()
  })
})

describe('checking a draft', () => {
  it('tabulates the chats that change, by count, with the first K examples', () => {
    const long = `antena ${'x'.repeat(130)}`
    expect(
      transitionTable(
        [
          { server: 's', connId: 'a', from: null, to: 'soporte', message: 'la antena' },
          { server: 's', connId: 'b', from: 'cert', to: 'cert', message: 'igual' },
          { server: 's', connId: 'c', from: null, to: 'soporte', message: null },
          { server: 's', connId: 'd', from: 'cert', to: null, message: long },
          { server: 's', connId: 'e', from: null, to: 'soporte', message: 'antena' },
          { server: 't', connId: 'f', from: 'aaa', to: 'cert', message: 'x' },
        ],
        2,
      ),
    ).toEqual([
      {
        from: null,
        to: 'soporte',
        chats: 3,
        examples: [
          { server: 's', conn_id: 'a', message: 'la antena' },
          { server: 's', conn_id: 'c', message: null },
        ],
      },
      {
        from: 'aaa',
        to: 'cert',
        chats: 1,
        examples: [{ server: 't', conn_id: 'f', message: 'x' }],
      },
      {
        from: 'cert',
        to: null,
        chats: 1,
        examples: [{ server: 's', conn_id: 'd', message: truncate(long) }],
      },
    ])
    expect(transitionTable([], 3)).toEqual([])
  })

  it('pools micro counts and exact matches of label sets', () => {
    expect(
      scoreLabelSets([
        { expected: ['a'], predicted: ['a'] },
        { expected: ['a', 'b'], predicted: ['a'] },
        { expected: [], predicted: ['c'] },
        { expected: [], predicted: [] },
      ]),
    ).toEqual({
      true_positives: 2,
      false_positives: 1,
      false_negatives: 1,
      precision: 2 / 3,
      recall: 2 / 3,
      f1: 2 / 3,
      exact_match: 0.5,
    })
    expect(scoreLabelSets([])).toMatchObject({ precision: 0, recall: 0, f1: 0, exact_match: 0 })
  })

  const labelled = parseEvalSet(
    [
      '{"text": "necesito un certificado", "sender": "customer", "labels": ["certificado"]}',
      '{"text": "la antena parabolica no coge", "sender": "customer", "labels": ["soporte"]}',
      '{"text": "hola", "sender": "customer", "labels": []}',
      '{"text": "el modem y el certificado", "sender": "customer", "labels": ["soporte"]}',
    ].join('\n'),
    'set.jsonl',
  )
  const current = compileRules(small)
  const draftSet: RuleSet = {
    version: '2',
    tramites: small.tramites.map((t) =>
      t.id === 'soporte' ? { ...t, phrases: [...t.phrases, 'antena parabolica'] } : t,
    ),
  }
  const draft = compileRules(draftSet)

  it('scores both rule sets on a split as eval does, and counts the messages that change', () => {
    const split = compareOnSplit('tuned', 'set.jsonl', labelled, current, draft)
    for (const [side, compiled] of [
      [split.current, current],
      [split.draft, draft],
    ] as const) {
      const report = evaluate(compiled, labelled, 'set.jsonl')
      expect(side).toMatchObject({
        true_positives: report.micro.truePositives,
        false_positives: report.micro.falsePositives,
        false_negatives: report.micro.falseNegatives,
        precision: report.micro.precision,
        recall: report.micro.recall,
        f1: report.micro.f1,
        exact_match: report.exactMatch,
      })
    }
    expect(split).toMatchObject({
      split: 'tuned',
      file: 'set.jsonl',
      messages: 4,
      current: { true_positives: 2, false_positives: 1, false_negatives: 1, exact_match: 0.5 },
      draft: { true_positives: 3, false_positives: 1, false_negatives: 0, exact_match: 0.75 },
      changed: 1,
    })
  })

  it('counts the labels of a trámite the draft drops as misses, and refuses labels of neither', () => {
    const without = compileRules({
      version: '3',
      tramites: small.tramites.filter((t) => t.id !== 'certificado'),
    })
    expect(compareOnSplit('tuned', 'set.jsonl', labelled, current, without).draft).toMatchObject({
      true_positives: 1,
      false_positives: 0,
      false_negatives: 2,
    })
    const unknown = parseEvalSet('{"text": "x", "labels": ["nada"]}', 'bad.jsonl')
    expect(() => compareOnSplit('tuned', 'bad.jsonl', unknown, current, draft)).toThrow(
      expect.objectContaining({ code: 'TRAMITE_EVAL_SET_INVALID' }),
    )
  })

  it('renders the check as a table', () => {
    const split = compareOnSplit('tuned', 'set.jsonl', labelled, current, draft)
    const report: CheckReport = {
      rules: { file: 'rules.json', version: '1' },
      draft: { file: 'draft.json', version: '2' },
      labelled: [split],
      topic: {
        from: '2025-03-04T05:00:00.000Z',
        to: '2025-03-05T04:59:59.999Z',
        server: '0010',
        messages_read: 10,
        messages_in_range: 8,
        chats: 4,
        changed: 1,
        transitions: [
          {
            from: null,
            to: 'soporte',
            chats: 1,
            examples: [{ server: '0010', conn_id: 'c1', message: 'la antena\nparabolica' }],
          },
        ],
      },
    }
    const text = renderCheck(report)
    expect(text).toContain('split  rules    messages  precision  recall     F1  exact  changed')
    expect(text).toContain('tuned  current         4      0.667   0.667  0.667  0.500')
    expect(text).toContain('       draft                  0.750   1.000  0.857  0.750        1')
    expect(text).toContain('4 chats, 1 change primary trámite under the draft')
    expect(text).toContain('(none) → soporte      1')
    expect(text).toContain('0010 c1: «la antena parabolica»')
  })

  it('aligns columns', () => {
    expect(
      columns(
        [
          ['term', 'chats'],
          ['antena parabolica', '3'],
        ],
        1,
      ),
    ).toEqual(['term               chats', 'antena parabolica      3'])
  })
})

describe('suggestCommand options', () => {
  afterEach(() => vi.unstubAllEnvs())

  const fails = async (args: string[], code: string): Promise<string> => {
    const error = await suggestCommand(args).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code })
    return (error as Error).message
  }

  it('refuses bad options before reading anything, with the usage', async () => {
    vi.stubEnv('KAFKA_BROKERS', '127.0.0.1:1')
    expect(await fails([], 'TRAMITE_COMMAND_INVALID')).toContain(
      'Usage: npm run classifier -- suggest',
    )
    await fails(['--from', '2025-03-04'], 'TRAMITE_COMMAND_INVALID')
    await fails(['--from', '2025-03-04', '--to', '2025-03-01'], 'TRAMITE_COMMAND_INVALID')
    await fails(['--from', 'ayer', '--to', '2025-03-01'], 'TRAMITE_COMMAND_INVALID')
    await fails(
      ['--from', '2025-03-04', '--to', '2025-03-04', '--top', '0'],
      'TRAMITE_COMMAND_INVALID',
    )
    await fails(
      ['--from', '2025-03-04', '--to', '2025-03-04', '--examples', 'x'],
      'TRAMITE_COMMAND_INVALID',
    )
    await fails(
      ['--from', '2025-03-04', '--to', '2025-03-04', '--days', '3'],
      'TRAMITE_COMMAND_INVALID',
    )
    await fails(
      ['--check', 'd.json', '--days', '3', '--from', '2025-03-04', '--to', '2025-03-04'],
      'TRAMITE_COMMAND_INVALID',
    )
    await fails(['--from', '2025-03-04', '--to', '2025-03-04', '--nope'], 'TRAMITE_COMMAND_INVALID')
  })

  it('refuses a bad draft with the loader’s code before reading the topic', async () => {
    vi.stubEnv('KAFKA_BROKERS', '127.0.0.1:1')
    const dir = mkdtempSync(join(tmpdir(), 'suggest-'))
    const broken = join(dir, 'draft.json')
    writeFileSync(broken, '{ "version": "2", "tramites": [')
    expect(await fails(['--check', broken], 'TRAMITE_RULES_INVALID')).toContain(broken)
    await fails(['--check', join(dir, 'missing.json')], 'TRAMITE_RULES_FILE_UNREADABLE')
  })
})
