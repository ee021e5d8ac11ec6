import {
  createHttpServer,
  type HttpServer,
  type Logger,
  type MetricsRegistry,
} from '@wolkvox-chat-stream/observability'
import type { DashboardConfig } from './config.js'
import { createProxy } from './proxy.js'
import { createStaticFiles } from './static-files.js'

/** Options for {@link createDashboard}. */
export interface DashboardOptions {
  config: Readonly<DashboardConfig>
  registry: MetricsRegistry
  logger: Logger
}

/**
 * The dashboard's HTTP server (not yet listening): the page, `/config.json`, the proxy under
 * `/api/poller/`, `/api/sentiment/`, `/api/classifier/` and `/api/quality/`, and `/healthz`,
 * `/readyz`, `/metrics`.
 * It is ready as soon as it listens: a service that is down is the page's to show, not a reason
 * to take the page away.
 */
export function createDashboard(options: DashboardOptions): HttpServer {
  const { config, registry, logger } = options
  const proxy = createProxy({
    upstreams: config.upstreams,
    timeoutMs: config.proxyTimeoutMs,
    ...(config.upstreamToken === undefined ? {} : { token: config.upstreamToken }),
    registry,
    logger,
  })
  const page = createStaticFiles({ refreshMs: config.refreshMs })
  return createHttpServer({
    port: config.httpPort,
    host: config.httpHost,
    security: config.httpSecurity,
    browserLogin: true,
    registry,
    logger,
    routes: async (req, res) => (await proxy(req, res)) || (await page(req, res)),
  })
}
