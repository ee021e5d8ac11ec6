import { beforeEach, describe, expect, it } from 'vitest'
import { type CompiledRules, compileRules } from './compile.js'
import { evaluate, loadEvalSet, noTramite, parseEvalSet } from './evaluate.js'
import { parseRules } from './rules.js'

// Compiled for each test, never at load time (why: classify.test.ts).
let rules: CompiledRules
beforeEach(() => {
  rules = compileRules(
    parseRules(
      {
        version: 'x-2',
        tramites: [
          { id: 'pago', label: 'Pagos', keywords: ['pago'] },
          { id: 'cita', label: 'Citas', keywords: ['cita'], senders: ['agent'] },
        ],
      },
      'x.json',
    ),
  )
})

describe('an evaluation, at its edges', () => {
  it('reads a line without a sender as the customer’s, and keeps its line number', () => {
    expect(parseEvalSet('\n\n{"text": "hola", "labels": ["pago"]}', 'e.jsonl')).toEqual([
      { text: 'hola', sender: 'customer', labels: ['pago'], line: 3 },
    ])
    expect(parseEvalSet('{"text": "x", "sender": "bot", "labels": []}', 'e.jsonl')).toEqual([
      { text: 'x', sender: 'bot', labels: [], line: 1 },
    ])
  })

  it.each([
    ['null', '"text" must be a string'],
    ['"text"', '"text" must be a string'],
    [
      '{"text": "x", "sender": 3, "labels": []}',
      '"sender" must be one of customer, agent, bot, other',
    ],
    ['{"text": "x", "labels": [1]}', '"labels" must be an array of trámite ids'],
  ])('refuses %s, naming the file and the line', (line, problem) => {
    expect(() => parseEvalSet(line, 'e.jsonl')).toThrow(
      expect.objectContaining({
        code: 'TRAMITE_EVAL_SET_INVALID',
        message: `Evaluation set e.jsonl, line 1: ${problem}`,
        details: { file: 'e.jsonl', line: 1 },
      }),
    )
  })

  it('names a file it cannot read', () => {
    expect(() => loadEvalSet('/nonexistent/eval.jsonl')).toThrow(
      expect.objectContaining({
        code: 'TRAMITE_EVAL_SET_INVALID',
        message: 'Cannot read evaluation set /nonexistent/eval.jsonl (ENOENT)',
        details: { file: '/nonexistent/eval.jsonl' },
      }),
    )
  })

  it('scores an empty set as zero everywhere, not as NaN', () => {
    const zero = {
      truePositives: 0,
      falsePositives: 0,
      falseNegatives: 0,
      precision: 0,
      recall: 0,
      f1: 0,
    }
    expect(evaluate(rules, [])).toEqual({
      rulesVersion: 'x-2',
      messages: 0,
      perTramite: [
        { id: 'pago', label: 'Pagos', support: 0, scores: zero },
        { id: 'cita', label: 'Citas', support: 0, scores: zero },
      ],
      micro: zero,
      macro: { precision: 0, recall: 0, f1: 0 },
      exactMatch: 0,
      primaryAccuracy: 0,
      confusion: {},
      errors: [],
    })
  })

  it('classifies each message as its sender wrote it, and pools the counts', () => {
    const messages = parseEvalSet(
      [
        // The agent's "cita" is a cita; the customer's is not read by that rule.
        '{"text": "su cita", "sender": "agent", "labels": ["cita"]}',
        '{"text": "mi cita", "labels": ["cita"]}',
        '{"text": "el pago", "labels": ["pago"]}',
        '{"text": "nada", "labels": []}',
      ].join('\n'),
      'e.jsonl',
    )
    const report = evaluate(rules, messages)
    expect(report.micro).toEqual({
      truePositives: 2,
      falsePositives: 0,
      falseNegatives: 1,
      precision: 1,
      recall: 2 / 3,
      f1: 0.8,
    })
    // pago: P 1, R 1, F1 1; cita: P 1, R 0.5, F1 2/3.
    expect(report.macro).toEqual({ precision: 1, recall: 0.75, f1: (1 + 2 / 3) / 2 })
    expect(report.exactMatch).toBe(0.75)
    expect(report.primaryAccuracy).toBe(0.75)
    expect(report.confusion).toEqual({
      cita: { cita: 1, [noTramite]: 1 },
      pago: { pago: 1 },
    })
    expect(report.errors).toEqual([{ line: 2, text: 'mi cita', expected: ['cita'], predicted: [] }])
  })

  it('names the evaluation set and the line of a label the rules lack', () => {
    expect(() =>
      evaluate(rules, [{ text: 'x', sender: 'customer', labels: ['pago', 'queja'], line: 7 }]),
    ).toThrow(
      expect.objectContaining({
        message:
          'Evaluation set evaluation set, line 7: label "queja" is not a trámite of rules x-2',
        details: { file: 'evaluation set', line: 7 },
      }),
    )
  })
})
