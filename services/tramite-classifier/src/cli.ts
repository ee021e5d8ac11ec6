/*
 * `npm run classifier -- <command> [options]`: the trámite classifier's command line (`run`, the
 * service; `reclassify`; `eval`). Each command is one entry of `commands` below (name, usage, run).
 * Results go to stdout; logs and problems go to stderr, problems with their error code and a
 * non-zero exit.
 */
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import { topics } from '@wolkvox-chat-stream/events'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { readConsumerConfig } from '@wolkvox-chat-stream/service-kit'
import { readClassifierConfig } from './config.js'
import {
  compileRules,
  evaluate,
  loadEvalSet,
  loadRules,
  type EvaluationReport,
  type Scores,
} from '@wolkvox-chat-stream/keyword-rules'
import { reclassify } from './reclassify.js'

interface Command {
  /** One usage line, options included. */
  usage: string
  summary: string
  /** Returns the exit code. */
  run(args: string[]): Promise<number> | number
}

const serviceDir = fileURLToPath(new URL('..', import.meta.url))
/** The shipped rule set and evaluation set. */
const defaultRulesPath = resolve(serviceDir, 'rules', 'tramites.es.json')
const defaultLabelsPath = resolve(serviceDir, 'eval', 'labelled.es.jsonl')

// npm runs scripts from the repository root; paths typed by the user are relative to where they were.
const userPath = (path: string): string =>
  isAbsolute(path) ? path : resolve(process.env.INIT_CWD ?? process.cwd(), path)

const commands: Record<string, Command> = {
  run: {
    usage: 'run',
    summary:
      'the service: classifies wolkvox.chat.message.v1 into wolkvox.chat.tramite.v1, HTTP on 8083 (KAFKA_*, REDIS_URL, CLASSIFIER_*, WOLKVOX_TIMEZONE); stops on SIGTERM or SIGINT',
    async run() {
      // The composition root; it exits the process when the service stops.
      await import('./main.js')
      return 0
    },
  },
  reclassify: {
    usage: 'reclassify --from T --to T [--server S] [--rules FILE] [--name NAME]',
    summary:
      'classifies again, with the rules in force, the conversations with a message in [from, to] (YYYY-MM-DD whole local days, or times), re-emits only what changed; JSON progress and summary lines',
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          from: { type: 'string' },
          to: { type: 'string' },
          server: { type: 'string' },
          rules: { type: 'string' },
          name: { type: 'string' },
        },
      })
      if (values.from === undefined || values.to === undefined)
        throw new AppError(
          'TRAMITE_COMMAND_INVALID',
          `reclassify needs --from and --to\nUsage: npm run classifier -- ${commands.reclassify!.usage}`,
        )
      const env = process.env
      const classifier = readClassifierConfig(env, process.env.INIT_CWD ?? process.cwd())
      const name = values.name ?? classifier.name
      const config = readConsumerConfig(env, { name, input: topics.chatMessage.name })
      const print = (line: object): void => {
        process.stdout.write(`${JSON.stringify(line)}\n`)
      }
      const summary = await reclassify({
        name,
        config,
        classifier: {
          ...classifier,
          ...(values.rules === undefined ? {} : { rulesFile: userPath(values.rules) }),
        },
        from: values.from,
        to: values.to,
        ...(values.server === undefined ? {} : { server: values.server }),
        logger: createLogger({
          name: `${name}-reclassify`,
          level: config.logLevel,
          stream: process.stderr,
        }),
        progress: print,
      })
      print(summary)
      return 0
    },
  },
  eval: {
    usage: 'eval [--rules FILE] [--labels FILE] [--errors]',
    summary:
      'precision, recall and F1 per trámite and overall (micro, macro) of a rule set on a labelled set; --errors lists each message whose label set differs',
    run(args) {
      const { values } = parseArgs({
        args,
        options: {
          rules: { type: 'string', default: defaultRulesPath },
          labels: { type: 'string', default: defaultLabelsPath },
          errors: { type: 'boolean', default: false },
        },
      })
      const rulesPath = userPath(values.rules)
      const labelsPath = userPath(values.labels)
      const rules = compileRules(loadRules(rulesPath))
      const report = evaluate(rules, loadEvalSet(labelsPath), labelsPath)
      process.stdout.write(renderReport(report, { rulesPath, labelsPath, errors: values.errors }))
      return 0
    },
  },
}

const fixed = (n: number): string => n.toFixed(3)

function renderReport(
  report: EvaluationReport,
  options: { rulesPath: string; labelsPath: string; errors: boolean },
): string {
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
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)))
  const line = (r: string[]): string =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  const rule = widths.map((w) => '-'.repeat(w)).join('  ')
  const out = [
    `rules   ${options.rulesPath} (version ${report.rulesVersion}, ${report.perTramite.length} trámites)`,
    `labels  ${options.labelsPath} (${report.messages} messages)`,
    '',
    line(rows[0]!),
    rule,
    ...rows.slice(1, -2).map(line),
    rule,
    ...rows.slice(-2).map(line),
    '',
    `exact label-set match: ${fixed(report.exactMatch)} (${report.messages - report.errors.length}/${report.messages})`,
  ]
  if (options.errors) {
    out.push('', 'messages whose predicted label set differs (line: expected → predicted):')
    for (const e of report.errors)
      out.push(
        `  ${e.line}: ${JSON.stringify(e.text)}  [${e.expected.join(', ')}] → [${e.predicted.join(', ')}]`,
      )
  }
  return `${out.join('\n')}\n`
}

function usage(): string {
  const lines = Object.entries(commands).map(
    ([, command]) => `  npm run classifier -- ${command.usage}\n      ${command.summary}`,
  )
  return `Usage:\n${lines.join('\n')}\n`
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  const command = name === undefined ? undefined : commands[name]
  if (command === undefined) {
    if (name !== undefined && name !== '--help' && name !== 'help')
      process.stderr.write(`Unknown command "${name}".\n`)
    process.stderr.write(usage())
    return name === '--help' || name === 'help' ? 0 : 2
  }
  return command.run(args)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const prefix = isAppError(error) ? `${error.code}: ` : ''
    process.stderr.write(`${prefix}${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = isAppError(error) ? 1 : 2
  },
)
