/*
 * The poller's composition root: `npm run poller -- once | run | backfill | status`.
 * Reads the configuration once, builds the parts, runs the command; signals are trapped here only.
 */
import { parseArgs } from 'node:util'
import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { readPollerConfig, type OperationConfig, type PollerConfig } from './config.js'
import { createPollerRuntime } from './runtime.js'
import { parseTimeInput } from './time-input.js'
import type { Range } from './window.js'

const USAGE = `Usage: npm run poller -- <command> [options]

Commands:
  once [--server S] [--from T --to T]   poll the next due range (or the given one) once and print a JSON line

Times are YYYYmmddHHiiss, "YYYY-MM-DD HH:MM:SS" or ISO 8601 (without an offset: the operation's zone),
or a duration ago such as 2h or 1d. Configuration comes from the environment (see the README).`

function selectOperation(
  config: Readonly<PollerConfig>,
  server: string | undefined,
): OperationConfig {
  const operation =
    server === undefined ? config.operations[0] : config.operations.find((o) => o.server === server)
  if (!operation) {
    throw new AppError(
      'CONFIG_INVALID',
      server === undefined
        ? 'No operation is configured (set WOLKVOX_SERVER and WOLKVOX_TOKEN)'
        : `No operation with server ${server} is configured`,
    )
  }
  return operation
}

function rangeFromArgs(
  from: string | undefined,
  to: string | undefined,
  zone: string,
): Range | undefined {
  if (from === undefined && to === undefined) return undefined
  if (from === undefined || to === undefined)
    throw new AppError('CONFIG_INVALID', '--from and --to go together')
  const now = Date.now()
  const fromMs = parseTimeInput(from, zone, now)
  const toMs = parseTimeInput(to, zone, now)
  const problems = [fromMs, toMs].filter((v): v is string => typeof v === 'string')
  if (problems.length > 0) throw new AppError('CONFIG_INVALID', problems.join('; '))
  const range = {
    fromMs: Math.floor((fromMs as number) / 1000) * 1000,
    toMs: Math.floor((toMs as number) / 1000) * 1000,
  }
  if (range.toMs < range.fromMs) throw new AppError('CONFIG_INVALID', '--to is before --from')
  return range
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const command = positionals[0]
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return command === undefined && !values.help ? 2 : 0
  }
  const config = readPollerConfig()
  const logger = createLogger({ name: 'poller', level: config.logLevel, stream: process.stderr })
  switch (command) {
    case 'once': {
      const operation = selectOperation(config, values.server)
      const range = rangeFromArgs(values.from, values.to, operation.timeZone)
      const runtime = await createPollerRuntime(
        config,
        logger,
        createMetricsRegistry({ collectDefaultMetrics: false }),
      )
      try {
        const summary = await runtime.poll(operation, range)
        process.stdout.write(`${JSON.stringify(summary)}\n`)
        return 0
      } finally {
        await runtime.close()
      }
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n${USAGE}\n`)
      return 2
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const code = isAppError(error) ? error.code : 'UNEXPECTED'
    process.stderr.write(
      `poller: ${code}: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exitCode = 1
  },
)
