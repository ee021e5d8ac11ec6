/*
 * What `npm run classifier -- eval` prints: for each split of the labelled set (tuned, held-out),
 * precision, recall and F1 per trámite and overall, the exact-match and primary-trámite figures,
 * and the confusion table; as text for a person or as one JSON document.
 */
import { noTramite, type EvaluationReport, type Scores } from '@wolkvox-chat-stream/keyword-rules'

/** One evaluated split. */
export interface EvaluatedSplit {
  /** `tuned` or `held-out`. */
  name: string
  path: string
  report: EvaluationReport
}

const fixed = (n: number): string => n.toFixed(3)

/** Left-aligned first column, right-aligned others, two spaces apart. */
function table(rows: string[][], rulesAfter: number[] = [1]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  const line = (r: string[]): string =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd()
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  const out: string[] = []
  rows.forEach((r, i) => {
    if (rulesAfter.includes(i)) out.push(rule)
    out.push(line(r))
  })
  return out
}

function scoresTable(report: EvaluationReport): string[] {
  const header = ['trámite', 'support', 'TP', 'FP', 'FN', 'precision', 'recall', 'F1']
  const row = (name: string, support: string, s: Scores): string[] => [
    name,
    support,
    String(s.truePositives),
    String(s.falsePositives),
    String(s.falseNegatives),
    fixed(s.precision),
    fixed(s.recall),
    fixed(s.f1),
  ]
  const support = report.perTramite.reduce((n, t) => n + t.support, 0)
  const rows = [
    header,
    ...report.perTramite.map((t) => row(t.id, String(t.support), t.scores)),
    row('micro', String(support), report.micro),
    [
      'macro',
      '',
      '',
      '',
      '',
      fixed(report.macro.precision),
      fixed(report.macro.recall),
      fixed(report.macro.f1),
    ],
  ]
  return table(rows, [1, rows.length - 2])
}

/**
 * The confusion table: a row per expected trámite (and `none`), a column per predicted one,
 * numbered, with the legend above it; zero cells print as `.`.
 */
function confusionTable(report: EvaluationReport): string[] {
  const ids = [...report.perTramite.map((t) => t.id), noTramite]
  const columns = ids.map((id, k) => (id === noTramite ? '-' : String(k + 1)))
  const rows = [
    ['expected \\ predicted', ...columns],
    ...ids.map((id) => [
      id === noTramite ? `- ${noTramite}` : `${columns[ids.indexOf(id)]} ${id}`,
      ...ids.map((predicted) => {
        const n = report.confusion[id]?.[predicted] ?? 0
        return n === 0 ? '.' : String(n)
      }),
    ]),
  ]
  return table(rows)
}

/** The text report of one or more splits. */
export function renderEvaluation(
  splits: readonly EvaluatedSplit[],
  options: { rulesPath: string; errors: boolean },
): string {
  const first = splits[0]!.report
  const out = [
    `rules   ${options.rulesPath} (version ${first.rulesVersion}, ${first.perTramite.length} trámites)`,
  ]
  for (const { name, path, report } of splits) {
    out.push(
      '',
      `== ${name}: ${path} (${report.messages} messages)`,
      '',
      ...scoresTable(report),
      '',
      `exact label-set match: ${fixed(report.exactMatch)} (${report.messages - report.errors.length}/${report.messages})`,
      `primary trámite right: ${fixed(report.primaryAccuracy)} (${Math.round(report.primaryAccuracy * report.messages)}/${report.messages})`,
      '',
      'confusion (rows: expected, columns: predicted; - is no trámite):',
      ...confusionTable(report),
    )
    if (options.errors && name === 'tuned') {
      out.push('', 'messages whose predicted label set differs (line: expected → predicted):')
      for (const e of report.errors)
        out.push(
          `  ${e.line}: ${JSON.stringify(e.text)}  [${e.expected.join(', ')}] → [${e.predicted.join(', ')}]`,
        )
    }
  }
  if (options.errors && splits.some((s) => s.name !== 'tuned'))
    out.push(
      '',
      'The held-out split is only scored: its messages are not listed, so that no rule is tuned on them.',
    )
  return `${out.join('\n')}\n`
}

/** The JSON report: the splits with their figures, errors of the tuned split only. */
export function evaluationJson(
  splits: readonly EvaluatedSplit[],
  options: { rulesPath: string },
): string {
  return `${JSON.stringify(
    {
      rules: options.rulesPath,
      rules_version: splits[0]!.report.rulesVersion,
      splits: splits.map(({ name, path, report }) => {
        const { errors, ...figures } = report
        return { name, path, ...figures, ...(name === 'tuned' ? { errors } : {}) }
      }),
    },
    null,
    2,
  )}\n`
}
