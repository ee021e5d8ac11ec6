/*
 * The dashboard's composition root: `npm run dashboard`. Reads the configuration, serves the page
 * and its proxy, and stops on SIGINT or SIGTERM.
 */
import { isAppError } from '@wolkvox-chat-stream/errors'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { readDashboardConfig } from './config.js'
import { createDashboard } from './dashboard.js'

try {
  const config = readDashboardConfig(process.env)
  const logger = createLogger({ name: 'dashboard', level: config.logLevel })
  const registry = createMetricsRegistry({ defaultLabels: { service: 'dashboard' } })
  const server = createDashboard({ config, registry, logger })
  const { port } = await server.listen()
  logger.info('dashboard listening', { url: `http://127.0.0.1:${port}/`, ...config.upstreams })
  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    logger.info('stopping', { signal })
    void server.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
} catch (error) {
  process.stderr.write(
    `dashboard: ${isAppError(error) ? `${error.code}: ${error.message}` : String(error)}\n`,
  )
  process.exit(1)
}
