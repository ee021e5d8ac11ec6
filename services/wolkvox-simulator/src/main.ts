/*
 * The simulator's composition root: `npm run simulator -- --port 8089 --seed 1 --chats-per-hour 60`.
 * Reads the configuration, starts the server, and stops it on SIGINT or SIGTERM.
 */
import { isAppError } from '@wolkvox-chat-stream/errors'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { readSimulatorConfig, usage } from './config.js'
import { startSimulator } from './simulator.js'

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(usage())
  process.exit(0)
}

try {
  const config = readSimulatorConfig(process.env, process.argv.slice(2))
  const logger = createLogger({ name: 'wolkvox-simulator', level: config.logLevel })
  const simulator = await startSimulator({
    ...config,
    warmUp: true,
    logger,
    metrics: createMetricsRegistry({ defaultLabels: { service: 'wolkvox-simulator' } }),
  })
  const { settings } = simulator
  logger.info('wolkvox simulator ready', {
    url: simulator.url,
    baseUrl: `WOLKVOX_BASE_URL=${simulator.url}`,
    seed: settings.seed,
    chatsPerHour: settings.chatsPerHour,
    tokens: settings.tokenCount,
    ...(settings.operations === undefined
      ? {}
      : { operations: settings.operations, firstServer: settings.firstServer }),
    timeZone: settings.timeZone,
    historyStart: new Date(settings.historyStartMs).toISOString(),
    selection: settings.selection,
    rowCap: `${settings.rowCap} ${settings.rowCapUnit}s`,
    dailyQuota: settings.dailyQuota,
    concurrentLimit: settings.concurrentLimit,
    fault: config.fault?.kind ?? null,
    lateData:
      settings.lateDataMs > 0 ? `${settings.lateDataMs} ms, share ${settings.lateShare}` : null,
  })
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    logger.info('stopping', { signal })
    void simulator.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  process.stderr.write(`${isAppError(error) ? `${error.code}: ${error.message}` : String(error)}\n`)
  process.exit(1)
}
