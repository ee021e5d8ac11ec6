import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { Logger } from './logger.js'
import type { MetricsRegistry } from './metrics.js'

/** What a readiness check answers: a bare boolean, or with the reason it is not ready. */
export type Readiness = boolean | { ready: boolean; reason?: string }

/** Called on every `GET /readyz`. */
export type ReadinessCheck = () => Readiness | Promise<Readiness>

/**
 * A service's own routes, tried after the built-in ones. Returns true when it answered the
 * request (it must then end the response), false to fall through to 404.
 */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>

/** Options for {@link createHttpServer}. */
export interface HttpServerOptions {
  /** 0 picks a free port; {@link HttpServer.listen} reports which. */
  port: number
  /** Default `127.0.0.1` (this machine only); `0.0.0.0` for every interface. */
  host?: string
  registry: MetricsRegistry
  /** Default: always ready. */
  readiness?: ReadinessCheck
  routes?: RouteHandler
  logger?: Logger
  /** How long {@link HttpServer.close} waits for in-flight requests. Default 5000. */
  closeTimeoutMs?: number
}

/** The health and metrics endpoint of a service. */
export interface HttpServer {
  /**
   * Binds the port. Calling it again while listening returns the same port.
   *
   * @throws AppError `HTTP_LISTEN_FAILED` when the port is in use or may not be bound.
   */
  listen(): Promise<{ port: number }>
  /**
   * Stops accepting connections, lets in-flight requests finish for up to `closeTimeoutMs`,
   * then destroys whatever sockets remain. Never rejects; safe to call more than once.
   */
  close(): Promise<void>
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  })
  res.end(JSON.stringify(body))
}

/**
 * Creates (without binding) the HTTP server behind `GET /healthz` (200 `{"status":"ok"}` while the
 * process runs), `GET /readyz` (200 or 503 `{"ready","reason"?}` from `readiness`) and
 * `GET /metrics` (Prometheus text); then `routes`; anything else is a JSON 404.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const host = options.host ?? '127.0.0.1'
  const closeTimeoutMs = options.closeTimeoutMs ?? 5000
  const { registry, logger } = options
  let closing: Promise<void> | undefined

  const builtIn = async (path: string, res: ServerResponse): Promise<boolean> => {
    switch (path) {
      case '/healthz':
        json(res, 200, { status: 'ok' })
        return true
      case '/readyz': {
        const { ready, reason } = await checkReadiness(options.readiness, logger)
        json(res, ready ? 200 : 503, reason === undefined ? { ready } : { ready, reason })
        return true
      }
      case '/metrics': {
        const text = await registry.metrics()
        res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' })
        res.end(text)
        return true
      }
      default:
        return false
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (closing !== undefined) res.setHeader('connection', 'close')
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
    const isRead = req.method === 'GET' || req.method === 'HEAD'
    if (isRead && (await builtIn(path, res))) return
    if (options.routes !== undefined && (await options.routes(req, res))) return
    json(res, 404, { error: { code: 'NOT_FOUND', message: `No route for ${path}` } })
  }

  const inFlight = new Set<ServerResponse>()
  const server: Server = createServer((req, res) => {
    inFlight.add(res)
    res.once('close', () => {
      inFlight.delete(res)
      // Its keep-alive socket is idle only after this tick; then it may go.
      if (closing !== undefined) setImmediate(() => server.closeIdleConnections())
    })
    handle(req, res).catch((error: unknown) => {
      logger?.error('http request failed', { err: error, method: req.method, url: req.url })
      if (res.headersSent) res.destroy()
      else json(res, 500, { error: 'internal error' })
    })
  })

  return {
    listen: () => listen(server, options.port, host, logger),
    close: () => {
      if (closing === undefined) {
        // Tells keep-alive clients not to send another request on this socket.
        for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close')
        closing = close(server, closeTimeoutMs, logger)
      }
      return closing
    },
  }
}

async function checkReadiness(
  check: ReadinessCheck | undefined,
  logger: Logger | undefined,
): Promise<{ ready: boolean; reason?: string }> {
  if (check === undefined) return { ready: true }
  try {
    const answer = await check()
    return typeof answer === 'boolean' ? { ready: answer } : answer
  } catch (error) {
    logger?.warn('readiness check threw', { err: error })
    return { ready: false, reason: 'readiness check failed' }
  }
}

function listen(
  server: Server,
  port: number,
  host: string,
  logger: Logger | undefined,
): Promise<{ port: number }> {
  if (server.listening) return Promise.resolve({ port: (server.address() as AddressInfo).port })
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening)
      reject(
        new AppError('HTTP_LISTEN_FAILED', `Could not listen on ${host}:${port}`, {
          cause: error,
          details: { host, port },
        }),
      )
    }
    const onListening = (): void => {
      server.off('error', onError)
      const actual = (server.address() as AddressInfo).port
      logger?.info('http server listening', { host, port: actual })
      resolve({ port: actual })
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen({ port, host })
  })
}

async function close(server: Server, timeoutMs: number, logger: Logger | undefined): Promise<void> {
  if (!server.listening) return
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  const timer = setTimeout(() => {
    logger?.warn('http server close timed out; destroying open connections', { timeoutMs })
    server.closeAllConnections()
  }, timeoutMs)
  try {
    await closed
  } finally {
    clearTimeout(timer)
  }
  logger?.info('http server closed')
}
