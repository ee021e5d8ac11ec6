import { readFileSync } from 'node:fs'
import { AppError } from '@wolkvox-chat-stream/errors'
import { scoreText, sentiments, type Sentiment } from './score.js'

/** One labelled line of an evaluation set (one JSON object per line of the file). */
export interface LabelledLine {
  text: string
  sentiment: Sentiment
  /** 1-based line in the file. */
  line: number
}

/** Precision, recall and F1 of one class. */
export interface ClassScores {
  sentiment: string
  /** Lines labelled with this class. */
  support: number
  precision: number
  recall: number
  f1: number
}

/** The outcome of {@link evaluateSentiment}. */
export interface SentimentReport {
  messages: number
  /** Share of lines whose predicted value (of five) equals the label. */
  accuracy: number
  /** The same with the `very_` values merged into negative and positive (three values). */
  polarityAccuracy: number
  /** Unweighted mean of the five classes' F1 (a class neither labelled nor predicted is left out). */
  macroF1: number
  /** Unweighted mean of the three polarity classes' F1, same rule. */
  polarityMacroF1: number
  perClass: ClassScores[]
  /** `confusion[expected][predicted]`, both in {@link sentiments} order. */
  confusion: number[][]
  /** Lines predicted wrong (five values), in file order. */
  errors: {
    line: number
    text: string
    expected: Sentiment
    predicted: Sentiment
    score: number
  }[]
}

const invalid = (file: string, message: string, line?: number, cause?: unknown): AppError =>
  new AppError(
    'SENTIMENT_EVAL_SET_INVALID',
    `Evaluation set ${file}${line === undefined ? '' : `, line ${line}`}: ${message}`,
    {
      details: line === undefined ? { file } : { file, line },
      ...(cause === undefined ? {} : { cause }),
    },
  )

const isSentiment = (value: unknown): value is Sentiment =>
  typeof value === 'string' && (sentiments as readonly string[]).includes(value)

/**
 * Parses an evaluation set: JSON Lines of `{"text", "sentiment"}`; blank lines are skipped.
 *
 * @throws AppError `SENTIMENT_EVAL_SET_INVALID` naming the file and line of the first bad entry.
 */
export function parseLabelledSet(content: string, fileName: string): LabelledLine[] {
  const out: LabelledLine[] = []
  content.split('\n').forEach((raw, index) => {
    const line = index + 1
    if (raw.trim() === '') return
    let entry: unknown
    try {
      entry = JSON.parse(raw)
    } catch (cause) {
      throw invalid(fileName, `not JSON (${(cause as Error).message})`, line)
    }
    const e = entry as { text?: unknown; sentiment?: unknown }
    if (typeof entry !== 'object' || entry === null || typeof e.text !== 'string')
      throw invalid(fileName, '"text" must be a string', line)
    if (!isSentiment(e.sentiment))
      throw invalid(fileName, `"sentiment" must be one of ${sentiments.join(', ')}`, line)
    out.push({ text: e.text, sentiment: e.sentiment, line })
  })
  return out
}

/**
 * Reads an evaluation set file.
 *
 * @throws AppError `SENTIMENT_EVAL_SET_INVALID` when it cannot be read or parsed.
 */
export function loadLabelledSet(path: string): LabelledLine[] {
  let content: string
  try {
    content = readFileSync(path, 'utf8')
  } catch (cause) {
    throw invalid(
      path,
      `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'read error'})`,
      undefined,
      cause,
    )
  }
  return parseLabelledSet(content, path)
}

/** The polarity of a five-way value: negative, neutral or positive. */
export function polarityOf(sentiment: Sentiment): 'negative' | 'neutral' | 'positive' {
  if (sentiment === 'very_negative' || sentiment === 'negative') return 'negative'
  if (sentiment === 'very_positive' || sentiment === 'positive') return 'positive'
  return 'neutral'
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b)

// `present`: labelled or predicted at least once; a class with neither has no F1 at all.
type Counted = ClassScores & { present: boolean }

function classScores(
  classes: readonly string[],
  pairs: readonly (readonly [string, string])[],
): Counted[] {
  return classes.map((c) => {
    let tp = 0
    let fp = 0
    let fn = 0
    for (const [expected, predicted] of pairs) {
      if (expected === c && predicted === c) tp++
      else if (predicted === c) fp++
      else if (expected === c) fn++
    }
    const precision = ratio(tp, tp + fp)
    const recall = ratio(tp, tp + fn)
    return {
      sentiment: c,
      support: tp + fn,
      precision,
      recall,
      f1: ratio(2 * precision * recall, precision + recall),
      present: tp + fp + fn > 0,
    }
  })
}

function macro(scores: readonly Counted[]): number {
  const present = scores.filter((s) => s.present)
  return ratio(
    present.reduce((sum, s) => sum + s.f1, 0),
    present.length,
  )
}

const strip = (scores: Counted[]): ClassScores[] =>
  scores.map(({ sentiment, support, precision, recall, f1 }) => ({
    sentiment,
    support,
    precision,
    recall,
    f1,
  }))

/**
 * Scores every line with {@link scoreText} and compares the predicted value with the label:
 * accuracy on five values and on three (polarity), macro-F1, the confusion table and the errors.
 * An empty set gives zeros everywhere.
 */
export function evaluateSentiment(lines: readonly LabelledLine[]): SentimentReport {
  const confusion = sentiments.map(() => sentiments.map(() => 0))
  const pairs: [Sentiment, Sentiment][] = []
  const errors: SentimentReport['errors'] = []
  for (const line of lines) {
    const { sentiment, score } = scoreText(line.text)
    pairs.push([line.sentiment, sentiment])
    confusion[sentiments.indexOf(line.sentiment)]![sentiments.indexOf(sentiment)]!++
    if (sentiment !== line.sentiment)
      errors.push({
        line: line.line,
        text: line.text,
        expected: line.sentiment,
        predicted: sentiment,
        score,
      })
  }
  const perClass = classScores(sentiments, pairs)
  const polarityPairs = pairs.map(([e, p]) => [polarityOf(e), polarityOf(p)] as const)
  const polarityClasses = classScores(['negative', 'neutral', 'positive'], polarityPairs)
  return {
    messages: lines.length,
    accuracy: ratio(lines.length - errors.length, lines.length),
    polarityAccuracy: ratio(polarityPairs.filter(([e, p]) => e === p).length, lines.length),
    macroF1: macro(perClass),
    polarityMacroF1: macro(polarityClasses),
    perClass: strip(perClass),
    confusion,
    errors,
  }
}
