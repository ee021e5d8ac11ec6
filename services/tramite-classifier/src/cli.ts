/*
 * `npm run classifier -- <command> [options]`: the trámite classifier's command line (`run`, the
 * service; `reclassify`; `suggest`; `eval`). Each command is one entry of `commands` below (name, usage, run).
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
import { compileRules, evaluate, loadEvalSet, loadRules } from '@wolkvox-chat-stream/keyword-rules'
import { evaluationJson, renderEvaluation, type EvaluatedSplit } from './eval-report.js'
import { reclassify } from './reclassify.js'
import { suggestCommand, suggestUsage } from './suggest.js'

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
/** The held-out split: written apart from the rules, never tuned on, only scored. */
const defaultHeldOutPath = resolve(serviceDir, 'eval', 'heldout.es.jsonl')

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
      'classifies again, with the rules in force, the conversations with a message in [from, to] (YYYY-MM-DD whole local days, or times: README, Times and ranges), re-emits only what changed; JSON progress and summary lines',
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
  suggest: {
    usage: suggestUsage,
    summary:
      'for rule authors: frequent words and phrases of customers in chats with no trámite, and per trámite the terms its rules miss (chats, lift); --check FILE scores a draft against the rules in force on the labelled sets and on the topic (chats that change trámite); a table on a terminal, else JSON',
    run: suggestCommand,
  },
  eval: {
    usage: 'eval [--rules FILE] [--labels FILE] [--heldout FILE] [--errors] [--json]',
    summary:
      'precision, recall and F1 per trámite and overall (micro, macro), exact and primary-trámite match and a confusion table, on the tuned split and the held-out split of the labelled set, apart; --errors lists the tuned split messages whose label set differs (the held-out split is only scored); --json for one JSON document',
    run(args) {
      const { values } = parseArgs({
        args,
        options: {
          rules: { type: 'string', default: defaultRulesPath },
          labels: { type: 'string', default: defaultLabelsPath },
          heldout: { type: 'string', default: defaultHeldOutPath },
          errors: { type: 'boolean', default: false },
          json: { type: 'boolean', default: false },
        },
      })
      const rulesPath = userPath(values.rules)
      const rules = compileRules(loadRules(rulesPath))
      const splits: EvaluatedSplit[] = [
        { name: 'tuned', path: userPath(values.labels) },
        { name: 'held-out', path: userPath(values.heldout) },
      ].map(({ name, path }) => ({
        name,
        path,
        report: evaluate(rules, loadEvalSet(path), path),
      }))
      process.stdout.write(
        values.json
          ? evaluationJson(splits, { rulesPath })
          : renderEvaluation(splits, { rulesPath, errors: values.errors }),
      )
      return 0
    },
  },
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
