import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { evaluateSentiment, loadLabelledSet, parseLabelledSet, polarityOf } from './evaluate.js'
import { tunedSetPath } from './paths.js'

describe('evaluateSentiment', () => {
  it('computes accuracy, polarity accuracy, macro-F1, the confusion table and the errors', () => {
    const lines = parseLabelledSet(
      [
        '{"text": "pésimo", "sentiment": "very_negative"}',
        '{"text": "mal servicio", "sentiment": "very_negative"}',
        '',
        '{"text": "gracias", "sentiment": "positive"}',
        '{"text": "excelente", "sentiment": "positive"}',
        '{"text": "buenas tardes", "sentiment": "neutral"}',
        '{"text": "gracias", "sentiment": "neutral"}',
      ].join('\n'),
      'e.jsonl',
    )
    const report = evaluateSentiment(lines)
    expect(report.messages).toBe(6)
    // Right: pésimo, gracias (positive), buenas tardes.
    expect(report.accuracy).toBe(3 / 6)
    // Polarity wrong only for the last line (positive for neutral).
    expect(report.polarityAccuracy).toBe(5 / 6)
    expect(report.confusion).toEqual([
      [1, 1, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 0, 1, 1, 0],
      [0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0],
    ])
    expect(report.perClass.map((c) => [c.sentiment, c.support, c.f1])).toEqual([
      ['very_negative', 2, 2 / 3],
      ['negative', 0, 0],
      ['neutral', 2, 2 / 3],
      ['positive', 2, 0.5],
      ['very_positive', 0, 0],
    ])
    // All five classes occur (labelled or predicted): the mean is over five.
    expect(report.macroF1).toBeCloseTo((2 / 3 + 0 + 2 / 3 + 0.5 + 0) / 5, 12)
    // Polarity: negative F1 1, neutral P 1 R 1/2 → 2/3, positive P 2/3 R 1 → 0.8.
    expect(report.polarityMacroF1).toBeCloseTo((1 + 2 / 3 + 0.8) / 3, 12)
    expect(report.errors.map((e) => [e.line, e.expected, e.predicted])).toEqual([
      [2, 'very_negative', 'negative'],
      [5, 'positive', 'very_positive'],
      [7, 'neutral', 'positive'],
    ])
    expect(report.errors[0]!.text).toBe('mal servicio')
    expect(report.errors[0]!.score).toBeCloseTo(-2 / Math.sqrt(12), 12)
  })

  it('leaves a class nobody labelled or predicted out of macro-F1', () => {
    const report = evaluateSentiment(
      parseLabelledSet('{"text": "gracias", "sentiment": "positive"}', 'e.jsonl'),
    )
    expect(report.macroF1).toBe(1)
    expect(report.polarityMacroF1).toBe(1)
  })

  it('gives zeros for an empty set', () => {
    const report = evaluateSentiment([])
    expect(report).toMatchObject({ messages: 0, accuracy: 0, polarityAccuracy: 0, macroF1: 0 })
  })

  it('collapses the very_ values for polarity', () => {
    expect(
      (['very_negative', 'negative', 'neutral', 'positive', 'very_positive'] as const).map(
        polarityOf,
      ),
    ).toEqual(['negative', 'negative', 'neutral', 'positive', 'positive'])
  })
})

describe('parseLabelledSet and loadLabelledSet', () => {
  it('names the file and line of the first bad entry', () => {
    const bad = (content: string): unknown => {
      try {
        parseLabelledSet(content, 'x.jsonl')
      } catch (error) {
        return { code: (error as { code: string }).code, message: (error as Error).message }
      }
      return undefined
    }
    expect(
      bad('{"text": "a", "sentiment": "neutral"}\n{"text": "b", "sentiment": "angry"}'),
    ).toEqual({
      code: 'SENTIMENT_EVAL_SET_INVALID',
      message:
        'Evaluation set x.jsonl, line 2: "sentiment" must be one of very_negative, negative, neutral, positive, very_positive',
    })
    expect(bad('{"sentiment": "neutral"}')).toMatchObject({
      message: 'Evaluation set x.jsonl, line 1: "text" must be a string',
    })
    expect(bad('{oops')).toMatchObject({ code: 'SENTIMENT_EVAL_SET_INVALID' })
  })

  it('reads a file and refuses a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'text-sentiment-'))
    const file = join(dir, 'set.jsonl')
    writeFileSync(file, '{"text": "hola", "sentiment": "neutral"}\n')
    expect(loadLabelledSet(file)).toEqual([{ text: 'hola', sentiment: 'neutral', line: 1 }])
    expect(() => loadLabelledSet(join(dir, 'missing.jsonl'))).toThrow(
      expect.objectContaining({ code: 'SENTIMENT_EVAL_SET_INVALID' }),
    )
  })

  it('ships a tuned set of at least 200 lines with every value present', () => {
    const lines = loadLabelledSet(tunedSetPath)
    expect(lines.length).toBeGreaterThanOrEqual(200)
    expect(new Set(lines.map((l) => l.sentiment)).size).toBe(5)
  })
})
