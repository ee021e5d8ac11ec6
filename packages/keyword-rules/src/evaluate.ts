import { readFileSync } from 'node:fs'
import { AppError } from '@wolkvox-chat-stream/errors'
import { classifyMessage } from './classify.js'
import type { CompiledRules } from './compile.js'
import { senders, type Sender } from './types.js'

/** One labelled message of an evaluation set (one JSON object per line). */
export interface LabelledMessage {
  text: string
  sender: Sender
  /** Expected trámite ids; empty when the message has none. */
  labels: string[]
  /** 1-based line in the file. */
  line: number
}

/** Precision, recall and F1 of one trámite or of a whole run. */
export interface Scores {
  truePositives: number
  falsePositives: number
  falseNegatives: number
  precision: number
  recall: number
  f1: number
}

/** The outcome of {@link evaluate}. */
export interface EvaluationReport {
  rulesVersion: string
  messages: number
  /** Per trámite, in rule-set order. */
  perTramite: { id: string; label: string; support: number; scores: Scores }[]
  /** Counts pooled over all trámites. */
  micro: Scores
  /** Unweighted mean over trámites of precision, recall and F1. */
  macro: { precision: number; recall: number; f1: number }
  /** Share of messages whose predicted label set equals the expected one. */
  exactMatch: number
  /**
   * Share of messages whose predicted primary trámite is one of the expected ones, or, for a
   * message that expects none, whose prediction is none.
   */
  primaryAccuracy: number
  /**
   * Which trámite was predicted for which, as counts: `confusion[expected][predicted]`, with
   * `none` for no trámite. Per message, each expected trámite also predicted counts on the
   * diagonal; the expected ones missed are paired, in label order, with the predicted ones not
   * expected (`cita` read as `soporte-tecnico`); what is left pairs with `none` (a missed
   * `cita` is `cita → none`, a trámite found in a message that has none is `none → cita`).
   */
  confusion: Record<string, Record<string, number>>
  /** Messages whose predicted set differs from the expected one. */
  errors: { line: number; text: string; expected: string[]; predicted: string[] }[]
}

const invalid = (file: string, message: string, line?: number): AppError =>
  new AppError(
    'TRAMITE_EVAL_SET_INVALID',
    `Evaluation set ${file}${line === undefined ? '' : `, line ${line}`}: ${message}`,
    { details: line === undefined ? { file } : { file, line } },
  )

/**
 * Parses an evaluation set: JSON Lines of `{"text", "sender", "labels"}`; blank lines are skipped.
 *
 * @throws AppError `TRAMITE_EVAL_SET_INVALID` naming the file and line of the first bad entry.
 */
export function parseEvalSet(content: string, fileName: string): LabelledMessage[] {
  const out: LabelledMessage[] = []
  content.split('\n').forEach((raw, index) => {
    const line = index + 1
    if (raw.trim() === '') return
    let entry: unknown
    try {
      entry = JSON.parse(raw)
    } catch (cause) {
      throw invalid(fileName, `not JSON (${(cause as Error).message})`, line)
    }
    const e = entry as { text?: unknown; sender?: unknown; labels?: unknown }
    if (typeof entry !== 'object' || entry === null || typeof e.text !== 'string')
      throw invalid(fileName, '"text" must be a string', line)
    const sender = e.sender ?? 'customer'
    if (typeof sender !== 'string' || !senders.includes(sender as Sender))
      throw invalid(fileName, `"sender" must be one of ${senders.join(', ')}`, line)
    if (!Array.isArray(e.labels) || !e.labels.every((l) => typeof l === 'string'))
      throw invalid(fileName, '"labels" must be an array of trámite ids', line)
    out.push({ text: e.text, sender: sender as Sender, labels: e.labels, line })
  })
  return out
}

/**
 * Reads an evaluation set file.
 *
 * @throws AppError `TRAMITE_EVAL_SET_INVALID` when it cannot be read or parsed.
 */
export function loadEvalSet(path: string): LabelledMessage[] {
  let content: string
  try {
    content = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new AppError(
      'TRAMITE_EVAL_SET_INVALID',
      `Cannot read evaluation set ${path} (${(cause as NodeJS.ErrnoException).code ?? 'read error'})`,
      { cause, details: { file: path } },
    )
  }
  return parseEvalSet(content, path)
}

/** The row and column of the confusion table for "no trámite". */
export const noTramite = 'none'

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b)

function scores(tp: number, fp: number, fn: number): Scores {
  const precision = ratio(tp, tp + fp)
  const recall = ratio(tp, tp + fn)
  return {
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
  }
}

/**
 * Classifies every message and compares the predicted label set (every trámite found, not only
 * the primary) with the expected one.
 *
 * @throws AppError `TRAMITE_EVAL_SET_INVALID` when a message expects a trámite the rules lack.
 */
export function evaluate(
  rules: CompiledRules,
  messages: readonly LabelledMessage[],
  fileName = 'evaluation set',
): EvaluationReport {
  const ids = rules.tramites.map((t) => t.id)
  const counts = new Map(ids.map((id) => [id, { tp: 0, fp: 0, fn: 0, support: 0 }]))
  const errors: EvaluationReport['errors'] = []
  const confusion: Record<string, Record<string, number>> = {}
  const confuse = (expected: string, predicted: string): void => {
    const row = (confusion[expected] ??= {})
    row[predicted] = (row[predicted] ?? 0) + 1
  }
  let primaryRight = 0
  for (const message of messages) {
    for (const id of message.labels) {
      if (!counts.has(id))
        throw invalid(
          fileName,
          `label "${id}" is not a trámite of rules ${rules.version}`,
          message.line,
        )
    }
    const expected = new Set(message.labels)
    const classification = classifyMessage(rules, message.text, message.sender)
    const predicted = new Set(classification.labels.map((l) => l.id))
    if (
      classification.primary === null ? expected.size === 0 : expected.has(classification.primary)
    )
      primaryRight++
    const missed = [...expected].filter((id) => !predicted.has(id)).sort()
    const extra = [...predicted].filter((id) => !expected.has(id)).sort()
    for (const id of expected) if (predicted.has(id)) confuse(id, id)
    for (let k = 0; k < Math.max(missed.length, extra.length); k++)
      confuse(missed[k] ?? noTramite, extra[k] ?? noTramite)
    for (const id of ids) {
      const c = counts.get(id)!
      const want = expected.has(id)
      const got = predicted.has(id)
      if (want) c.support++
      if (want && got) c.tp++
      else if (got) c.fp++
      else if (want) c.fn++
    }
    if (expected.size !== predicted.size || [...expected].some((id) => !predicted.has(id)))
      errors.push({
        line: message.line,
        text: message.text,
        expected: [...expected].sort(),
        predicted: [...predicted].sort(),
      })
  }
  const perTramite = rules.tramites.map((t) => {
    const c = counts.get(t.id)!
    return { id: t.id, label: t.label, support: c.support, scores: scores(c.tp, c.fp, c.fn) }
  })
  const sum = (pick: (s: Scores) => number): number =>
    perTramite.reduce((total, t) => total + pick(t.scores), 0)
  const mean = (pick: (s: Scores) => number): number => ratio(sum(pick), perTramite.length)
  return {
    rulesVersion: rules.version,
    messages: messages.length,
    perTramite,
    micro: scores(
      sum((s) => s.truePositives),
      sum((s) => s.falsePositives),
      sum((s) => s.falseNegatives),
    ),
    macro: {
      precision: mean((s) => s.precision),
      recall: mean((s) => s.recall),
      f1: mean((s) => s.f1),
    },
    exactMatch: ratio(messages.length - errors.length, messages.length),
    primaryAccuracy: ratio(primaryRight, messages.length),
    confusion,
    errors,
  }
}
