/*
 * `npm run sentiment -- [command] [options]`: the sentiment aggregator's command line. With no
 * command (or `run`) it is the service, exactly as before; `score` and `eval` use the text
 * scorer of packages/text-sentiment. Each command is one entry of `commands` below (name, usage,
 * run). Results go to stdout; problems go to stderr with their error code and a non-zero exit.
 */
import { once } from 'node:events'
import { isAbsolute, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { isAppError } from '@wolkvox-chat-stream/errors'
import {
  evaluateSentiment,
  loadLabelledSet,
  scoreLine,
  sentiments,
  heldOutSetPath,
  tunedSetPath,
  type SentimentReport,
} from '@wolkvox-chat-stream/text-sentiment'

interface Command {
  /** One usage line, options included. */
  usage: string
  summary: string
  /** Returns the exit code. */
  run(args: string[]): Promise<number> | number
}

// npm runs scripts from the repository root; paths typed by the user are relative to where they were.
const userPath = (path: string): string =>
  isAbsolute(path) ? path : resolve(process.env.INIT_CWD ?? process.cwd(), path)

const runService = async (): Promise<number> => {
  // The composition root; it exits the process when the service stops.
  await import('./main.js')
  return 0
}

const commands: Record<string, Command> = {
  run: {
    usage: 'run',
    summary:
      'the service (the default with no command): per-agent sentiment windows, HTTP on 8082 (KAFKA_*, REDIS_URL, WOLKVOX_TIMEZONE); stops on SIGTERM or SIGINT',
    run: runService,
  },
  score: {
    usage: 'score',
    summary:
      'reads chat lines on stdin, prints one JSON line {"text","sentiment","score"} per input line (score in [-1, 1], 3 decimals)',
    async run(args) {
      parseArgs({ args, options: {} })
      // `… | head`: a reader that has gone away ends the command quietly, not with EPIPE.
      process.stdout.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE') throw error
        process.exit(0)
      })
      const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
      for await (const line of lines) {
        // Back-pressure: a slow reader of stdout must not make the output pile up in memory.
        if (!process.stdout.write(`${scoreLine(line)}\n`)) await once(process.stdout, 'drain')
      }
      return 0
    },
  },
  eval: {
    usage: 'eval [--file FILE]',
    summary:
      'accuracy (five values and polarity), macro-F1 and confusion table of the scorer on the tuned and the held-out labelled sets, apart (errors of the tuned set only: the held-out set is only scored), or on --file; JSON when stdout is not a terminal',
    run(args) {
      const { values } = parseArgs({ args, options: { file: { type: 'string' } } })
      const splits =
        values.file === undefined
          ? [
              { name: 'tuned', file: tunedSetPath },
              { name: 'held-out', file: heldOutSetPath },
            ]
          : [{ name: 'file', file: userPath(values.file) }]
      const reports = splits.map(({ name, file }) => {
        const report = evaluateSentiment(loadLabelledSet(file))
        // The held-out set's lines are never shown, so that nobody tunes the lexicon on them.
        return { name, file, report: name === 'held-out' ? { ...report, errors: [] } : report }
      })
      process.stdout.write(
        process.stdout.isTTY
          ? reports
              .map(({ name, file, report }) => `== ${name}\n${renderReport(report, file)}`)
              .join('\n')
          : `${JSON.stringify({ splits: reports.map(({ name, file, report }) => ({ name, file, ...report })) })}\n`,
      )
      return 0
    },
  },
}

const fixed = (n: number): string => n.toFixed(3)
const short = ['v.neg', 'neg', 'neutral', 'pos', 'v.pos']

function renderReport(report: SentimentReport, file: string): string {
  const head = ['expected \\ predicted', ...short, 'support']
  const rows = report.confusion.map((row, i) => [
    sentiments[i]!,
    ...row.map(String),
    String(row.reduce((a, b) => a + b, 0)),
  ])
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (r: string[]): string =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  const classes = report.perClass.map(
    (s) =>
      `  ${s.sentiment.padEnd(13)}  P ${fixed(s.precision)}  R ${fixed(s.recall)}  F1 ${fixed(s.f1)}  (${s.support})`,
  )
  const out = [
    `labels  ${file} (${report.messages} lines)`,
    '',
    `accuracy (5 values)   ${fixed(report.accuracy)}`,
    `accuracy (polarity)   ${fixed(report.polarityAccuracy)}`,
    `macro-F1 (5 values)   ${fixed(report.macroF1)}`,
    `macro-F1 (polarity)   ${fixed(report.polarityMacroF1)}`,
    '',
    line(head),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
    '',
    ...classes,
    '',
    `errors (${report.errors.length}; line: expected → predicted, score):`,
    ...report.errors.map(
      (e) =>
        `  ${e.line}: ${e.expected} → ${e.predicted} (${fixed(e.score)})  ${JSON.stringify(e.text)}`,
    ),
  ]
  return `${out.join('\n')}\n`
}

function usage(): string {
  const lines = Object.values(commands).map(
    (command) => `  npm run sentiment -- ${command.usage}\n      ${command.summary}`,
  )
  return `Usage:\n  npm run sentiment\n      the service, as \`run\`\n${lines.join('\n')}\n`
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined) return runService()
  const command = commands[name]
  if (command === undefined) {
    if (name !== '--help' && name !== 'help') process.stderr.write(`Unknown command "${name}".\n`)
    process.stderr.write(usage())
    return name === '--help' || name === 'help' ? 0 : 2
  }
  return command.run(args)
}

/** The `code` of an error that has a string one (AppError, Node's errors). */
function codeOf(error: unknown): string | undefined {
  if (isAppError(error)) return error.code
  const code = (error as { code?: unknown } | null)?.code
  return error instanceof Error && typeof code === 'string' ? code : undefined
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const code = codeOf(error)
    if (code?.startsWith('ERR_PARSE_ARGS') === true) {
      process.stderr.write(`${(error as Error).message}\n${usage()}`)
      process.exitCode = 2
      return
    }
    process.stderr.write(
      `${code === undefined ? '' : `${code}: `}${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exitCode = code === undefined ? 2 : 1
  },
)
