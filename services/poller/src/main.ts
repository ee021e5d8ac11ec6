/*
 * The poller's composition root: `npm run poller -- once | run | backfill | status | rebind`.
 * Reads the configuration once, builds the parts, runs the command; signals are trapped here only.
 */
import { parseArgs } from 'node:util'
import { parseDuration } from '@wolkvox-chat-stream/config'
import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import {
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  createStopSignals,
  type Logger,
} from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { createBullSchedule, settledWithin } from './adapters/bullmq-schedule.js'
import { runBackfill } from './backfill.js'
import { readPollerConfig, type OperationConfig, type PollerConfig } from './config.js'
import { createLiveLine, createProgressReporter, type LiveLine } from './progress.js'
import { createOperationHandle, createPollerRuntime, type PollerRuntime } from './runtime.js'
import { latestSettledMs } from './core/poll-operation.js'
import { createPollerService } from './service.js'
import { readFleetSummary, readOperationStatus } from './status.js'
import { renderStatus } from './status-table.js'
import { createStatusRouter, pollerStatusSource } from './status-http.js'
import { parseTimeInput } from './time-input.js'
import type { Range } from './window.js'

const USAGE = `Usage: npm run poller -- <command> [options]

Commands:
  run                                   poll every operation on its schedule (BullMQ), sweep, serve
                                        /healthz /readyz /metrics /status on HTTP_PORT; stops on SIGTERM
  once [--server S] [--from T --to T]   poll the next due range (or the given one) once and print a JSON line
  backfill --server S --from T --to T [--window D] [--restart]
                                        poll a past range window by window (default window POLL_MAX_WINDOW)
                                        through the same token lock, yielding to the live schedule;
                                        resumable: run the same command again after a stop
  status [--server S] [--summary] [--json]
                                        print the fleet's summary and each operation's status (or S's):
                                        a table on a terminal, else (or with --json) the JSON document
                                        GET /status answers; --summary: the summary only
  rebind --server S [--from T]          bind the operation to the Kafka log it now writes to, after
                                        POLL_CHECKPOINT_MISSING (a new cluster, a re-created topic):
                                        with --from, re-poll from T; without, accept the log as
                                        holding everything up to the watermark. Prints a JSON line

Times (README: Times and ranges) are ISO 8601, "YYYY-MM-DD HH:MM[:SS]" or YYYYmmddHHiiss (without an
offset: the operation's zone), a day YYYY-MM-DD or YYYYmmdd (--from 2026-11-29 --to 2026-11-30: both
whole local days), or a duration ago such as 2h or 1d. Durations are 500ms, 30s, 5m, 1h, 1d. Configuration comes from
the environment (see the README).`

function selectOperation(
  config: Readonly<PollerConfig>,
  server: string | undefined,
  command: string,
): OperationConfig {
  if (server === undefined && config.operations.length > 1)
    throw new AppError(
      'CONFIG_INVALID',
      `${command} needs --server S: ${config.operations.length} operations are configured (${config.operations.map((o) => o.server).join(', ')})`,
    )
  const operation =
    server === undefined ? config.operations[0] : config.operations.find((o) => o.server === server)
  if (!operation) {
    throw new AppError(
      'CONFIG_INVALID',
      server === undefined
        ? 'No operation is configured (set WOLKVOX_SERVER and WOLKVOX_TOKEN, or WOLKVOX_OPERATIONS_FILE)'
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
  // The range is closed: a bare date as --to is read through the last second of its day.
  const fromMs = parseTimeInput(from, zone, now, 'from')
  const toMs = parseTimeInput(to, zone, now, 'through')
  const problems = [fromMs, toMs].filter((v): v is string => typeof v === 'string')
  if (problems.length > 0) throw new AppError('CONFIG_INVALID', problems.join('; '))
  const range = {
    fromMs: Math.floor((fromMs as number) / 1000) * 1000,
    toMs: Math.floor((toMs as number) / 1000) * 1000,
  }
  if (range.toMs < range.fromMs) throw new AppError('CONFIG_INVALID', '--to is before --from')
  return range
}

/**
 * Refuses a range that ends after now less POLL_SETTLE_LAG: the upstream cannot answer those
 * seconds yet, and a watermark moved past them would skip what arrives there later.
 * @throws AppError `POLL_RANGE_NOT_SETTLED`
 */
function refuseUnsettled(range: Range, config: Readonly<PollerConfig>, flag: string): void {
  const latestMs = latestSettledMs(Date.now(), config.settleLagMs)
  if (range.toMs > latestMs) {
    throw new AppError(
      'POLL_RANGE_NOT_SETTLED',
      `${flag} ${new Date(range.toMs).toISOString()} is after now less POLL_SETTLE_LAG (${new Date(latestMs).toISOString()}): the upstream cannot answer it yet and recent data is the live schedule's; use ${flag} ${new Date(latestMs).toISOString()} or earlier`,
      { details: { toMs: range.toMs, latestMs } },
    )
  }
}

/**
 * Calls `onFirst` on the first SIGTERM or SIGINT and `onSecond` on another one; the handlers are
 * removed by the returned function.
 */
function trapSignals(onFirst: () => void, onSecond: () => void): () => void {
  // systemd signals the process group and npm and tsx forward it: one SIGTERM arrives several times.
  const kindOf = createStopSignals()
  const handler = (signal: NodeJS.Signals): void => {
    const kind = kindOf(signal)
    if (kind === 'first') onFirst()
    else if (kind === 'second') onSecond()
  }
  process.on('SIGTERM', handler)
  process.on('SIGINT', handler)
  return () => {
    process.off('SIGTERM', handler)
    process.off('SIGINT', handler)
  }
}

async function run(config: Readonly<PollerConfig>, logger: Logger): Promise<number> {
  if (config.operations.length === 0)
    throw new AppError('CONFIG_INVALID', 'No operation is configured')
  const registry = createMetricsRegistry({ defaultLabels: { service: 'poller' } })
  // A stop asked while the start still waits for Kafka (as long as it takes): nothing is polled
  // or held yet, so the process ends at once, with 0 as after any asked stop.
  const stopWhileStarting = (): void => {
    logger.info('stopped before the start finished')
    process.exit(0)
  }
  process.once('SIGTERM', stopWhileStarting)
  process.once('SIGINT', stopWhileStarting)
  let runtime: PollerRuntime
  try {
    runtime = await createPollerRuntime(config, logger, registry, {
      kafkaStartWaitMs: Number.POSITIVE_INFINITY,
    })
  } finally {
    process.off('SIGTERM', stopWhileStarting)
    process.off('SIGINT', stopWhileStarting)
  }
  const connection = createRedis(config.redis, {
    role: 'blocking',
    name: 'poller-bullmq',
    logger,
  })
  const schedule = createBullSchedule({
    connection,
    concurrency: config.concurrency,
    onError: (error) => logger.warn('bullmq reported an error', { err: error }),
  })
  const service = createPollerService({ runtime, schedule })
  const statusRoute = createStatusRouter(pollerStatusSource(service, runtime))
  const http = createHttpServer({
    port: config.httpPort,
    host: config.httpHost,
    security: config.httpSecurity,
    registry,
    logger,
    readiness: () => {
      if (!service.ready()) return { ready: false, reason: 'not running' }
      if (runtime.redis.status !== 'ready' || runtime.lockRedis.status !== 'ready')
        return { ready: false, reason: 'redis unavailable' }
      return true
    },
    routes: (req, res) => statusRoute(req, res, undefined),
  })
  let release = (): void => undefined
  const stopped = new Promise<void>((resolve) => {
    release = trapSignals(
      () => {
        logger.info('stopping: finishing the window in flight', {
          timeoutMs: config.shutdownTimeoutMs,
        })
        resolve()
      },
      () => {
        logger.warn('second signal: exiting at once')
        process.exit(1)
      },
    )
  })
  try {
    await waitUntilReady(connection)
    const { port } = await http.listen()
    await service.start()
    logger.info('poller listening', { port })
    await stopped
    await service.stop()
    return 0
  } finally {
    release()
    // Each close bounded: a connection broken under it (a Redis Cluster failover, a broker gone)
    // must not keep a stopping poller alive; what it held is safe (the watermark moves only
    // after a window is published, and an abandoned window is polled again).
    await settledWithin(http.close(), CLOSE_STEP_MS)
    await settledWithin(runtime.close(), CLOSE_STEP_MS)
    await settledWithin(connection.quit(), CLOSE_STEP_MS)
  }
}

/** How long each close of a stopping `run` may take before it is left behind. */
const CLOSE_STEP_MS = 10_000

async function status(
  config: Readonly<PollerConfig>,
  values: { server?: string; summary?: boolean; json?: boolean },
  logger: Logger,
): Promise<number> {
  const { server } = values
  if (values.summary === true && server !== undefined)
    throw new AppError('CONFIG_INVALID', "--summary is the whole fleet's: it takes no --server")
  const operations =
    server === undefined ? config.operations : [selectOperation(config, server, 'status')]
  const redis = createRedis(config.redis, { name: 'poller-status', logger })
  const connection = createRedis(config.redis, {
    role: 'blocking',
    name: 'poller-status-bullmq',
  })
  const schedule = createBullSchedule({ connection, concurrency: 1, onError: () => undefined })
  try {
    await Promise.all([waitUntilReady(redis), waitUntilReady(connection)])
    const nowMs = Date.now()
    const handles = new Map(
      config.operations.map((operation) => [
        operation.server,
        createOperationHandle({ config, operation, lockRedis: redis, redis }),
      ]),
    )
    // The summary is always the whole fleet's (one batch of reads); the full reads in the
    // configured order, of every operation or of --server's.
    const summary = await readFleetSummary({ handles: [...handles.values()], config, redis, nowMs })
    const document =
      values.summary === true
        ? { generatedAt: new Date(nowMs).toISOString(), summary }
        : {
            generatedAt: new Date(nowMs).toISOString(),
            summary,
            operations: await Promise.all(
              operations.map((operation) =>
                readOperationStatus({
                  handle: handles.get(operation.server)!,
                  config,
                  redis,
                  nowMs,
                  describeSchedule: (s) => schedule.describe(s),
                }),
              ),
            ),
          }
    // Scripts parse the JSON: a table only for a person at a terminal.
    if (values.json !== true && process.stdout.isTTY === true)
      process.stdout.write(renderStatus(document, nowMs))
    else process.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
    return 0
  } finally {
    await schedule.close()
    await Promise.all([
      redis.quit().catch(() => undefined),
      connection.quit().catch(() => undefined),
    ])
  }
}

async function backfill(
  config: Readonly<PollerConfig>,
  values: { server?: string; from?: string; to?: string; window?: string; restart?: boolean },
  logger: Logger,
  live: LiveLine,
): Promise<number> {
  const operation = selectOperation(config, values.server, 'backfill')
  if (values.from === undefined || values.to === undefined)
    throw new AppError('CONFIG_INVALID', 'backfill needs --from and --to')
  const range = rangeFromArgs(values.from, values.to, operation.timeZone)!
  refuseUnsettled(range, config, 'backfill --to')
  let windowMs = config.maxWindowMs
  if (values.window !== undefined) {
    try {
      windowMs = parseDuration(values.window)
    } catch (error) {
      throw new AppError('CONFIG_INVALID', `--window: ${(error as Error).message}`)
    }
    if (windowMs < 1000 || windowMs > 30 * 86_400_000)
      throw new AppError('CONFIG_INVALID', '--window must be between 1s and 30d')
  }
  const stop = new AbortController()
  const abandon = new AbortController()
  const release = trapSignals(
    () => {
      logger.info('stopping the backfill after the window in flight (again to abandon it)')
      stop.abort()
    },
    () => abandon.abort(new AppError('POLL_SHUTDOWN_ABANDONED', 'The backfill was abandoned')),
  )
  const runtime = await createPollerRuntime(
    config,
    logger,
    createMetricsRegistry({ collectDefaultMetrics: false }),
  )
  const reporter = createProgressReporter(process.stdout, live)
  try {
    const result = await runBackfill({
      runtime,
      operation,
      range,
      windowMs,
      restart: values.restart === true,
      stop: stop.signal,
      abandon: abandon.signal,
      onWindow: (progress) => reporter.window(progress),
    })
    reporter.end({ ...result })
    return 0
  } finally {
    // A failed backfill's error, and the closing logs, start below the bar.
    live.done()
    release()
    await runtime.close()
  }
}

async function rebind(
  config: Readonly<PollerConfig>,
  values: { server?: string; from?: string; to?: string },
  logger: Logger,
): Promise<number> {
  // Explicit on purpose: it changes what the poller believes is on the topic.
  if (values.server === undefined) throw new AppError('CONFIG_INVALID', 'rebind needs --server S')
  if (values.to !== undefined) throw new AppError('CONFIG_INVALID', 'rebind takes --from only')
  const operation = selectOperation(config, values.server, 'rebind')
  let fromMs: number | undefined
  if (values.from !== undefined) {
    const parsed = parseTimeInput(values.from, operation.timeZone, Date.now(), 'from')
    if (typeof parsed === 'string') throw new AppError('CONFIG_INVALID', `--from: ${parsed}`)
    fromMs = parsed
    refuseUnsettled({ fromMs, toMs: fromMs }, config, 'rebind --from')
  }
  const runtime = await createPollerRuntime(
    config,
    logger,
    createMetricsRegistry({ collectDefaultMetrics: false }),
  )
  try {
    const summary = await runtime.rebind(operation, fromMs === undefined ? {} : { fromMs })
    process.stdout.write(`${JSON.stringify(summary)}\n`)
    return 0
  } finally {
    await runtime.close()
  }
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      window: { type: 'string' },
      restart: { type: 'boolean' },
      summary: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const command = positionals[0]
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return command === undefined && !values.help ? 2 : 0
  }
  if (!['once', 'run', 'backfill', 'status', 'rebind'].includes(command)) {
    process.stderr.write(`Unknown command "${command}".\n${USAGE}\n`)
    return 2
  }
  const config = readPollerConfig()
  // Log lines on a terminal go above the backfill's progress bar, never over it.
  const live = createLiveLine(process.stdout)
  const logger = createLogger({
    name: 'poller',
    level: config.logLevel,
    stream: live.around(process.stderr),
  })
  switch (command) {
    case 'run':
      return run(config, logger)
    case 'status':
      return status(config, values, logger)
    case 'backfill':
      return backfill(config, values, logger, live)
    case 'rebind':
      return rebind(config, values, logger)
    default: {
      const operation = selectOperation(config, values.server, 'once')
      const range = rangeFromArgs(values.from, values.to, operation.timeZone)
      if (range) refuseUnsettled(range, config, 'once --to')
      const runtime = await createPollerRuntime(
        config,
        logger,
        createMetricsRegistry({ collectDefaultMetrics: false }),
      )
      try {
        const summary = await runtime.poll(operation, range, { purpose: 'once' })
        process.stdout.write(`${JSON.stringify(summary)}\n`)
        return 0
      } finally {
        await runtime.close()
      }
    }
  }
}

/** How long the process may outlive its command once everything it opened is closed. */
const EXIT_GRACE_MS = 2_000

/**
 * Everything a command opened is closed when it returns, so the process ends by itself. A kafkajs
 * consumer can restart itself after it was disconnected (its crash handler arms a restart timer
 * after `disconnect()`, as readTopicToEnd's throwaway readers do during a Kafka outage): that
 * consumer would keep `run` alive after SIGTERM for good, so the process exits after a grace.
 */
function exitAfterGrace(): void {
  setTimeout(() => {
    process.stderr.write(
      `poller: still running ${EXIT_GRACE_MS} ms after closing everything (a Kafka client left behind); exiting\n`,
    )
    process.exit()
  }, EXIT_GRACE_MS).unref()
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    exitAfterGrace()
  },
  (error: unknown) => {
    const code = isAppError(error) ? error.code : 'UNEXPECTED'
    process.stderr.write(
      `poller: ${code}: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exitCode = 1
    exitAfterGrace()
  },
)
