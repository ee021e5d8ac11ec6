import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { isLoopbackAddress, type HttpSecurity } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import { createTokenAuth, type TokenAuth } from './http-auth.js'
import { createRateLimiter } from './http-rate-limit.js'
import { HttpError, sendError, sendJson } from './http-respond.js'
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
  /**
   * Bearer tokens and the per-client rate (`readHttpSecurity`). Default: no token needed, and
   * 100 requests a second per client address.
   */
  security?: HttpSecurity
  /**
   * Asks browsers for the token with a `Basic` challenge (any user name, the token as the
   * password) besides `Bearer`: the dashboard's page. Default false.
   */
  browserLogin?: boolean
  /** Connection and request limits; the defaults are {@link defaultHttpLimits}. */
  limits?: Partial<HttpLimits>
}

/** How much one client may hold of a server (README: Security, Limits). */
export interface HttpLimits {
  /** All request headers must arrive within this (slow-header clients are cut). */
  headersTimeoutMs: number
  /** The whole request must arrive within this. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number
  /** Connections beyond this are refused (closed at once). */
  maxConnections: number
  /** Larger request headers are answered 431. */
  maxHeaderBytes: number
  /** A larger request body is answered 413. */
  maxBodyBytes: number
  /** A longer path is answered 400. */
  maxPathLength: number
}

/** The limits every service's HTTP server applies unless told otherwise. */
export const defaultHttpLimits: Readonly<HttpLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 512,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 4 * 1024,
  maxPathLength: 2048,
})

/** Routes that answer without a token and are not rate-limited: the probes. */
const PROBES = new Set(['/healthz', '/readyz'])

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

/** The answer to a request Node's parser refused before any handler saw it. */
function clientErrorAnswer(error: Error & { code?: string }): string {
  return error.code === 'HPE_HEADER_OVERFLOW'
    ? rawAnswer(431, 'HTTP_REQUEST_INVALID', 'The request headers are too large')
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? rawAnswer(408, 'HTTP_REQUEST_TIMEOUT', 'The request did not arrive in time')
      : rawAnswer(400, 'HTTP_REQUEST_INVALID', 'The request cannot be read as HTTP/1.1')
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
}

/** A whole answer written on a socket no request object owns (refused before or beside parsing). */
function rawAnswer(status: number, code: string, message: string, extra = ''): string {
  const body = JSON.stringify({ error: { code, message } })
  return (
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Bad Request'}\r\n` +
    'content-type: application/json; charset=utf-8\r\ncache-control: no-store\r\n' +
    `${extra}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
  )
}

/**
 * Creates (without binding) the HTTP server behind `GET /healthz` (200 `{"status":"ok"}` while the
 * process runs), `GET /readyz` (200 or 503 `{"ready","reason"?}` from `readiness`) and
 * `GET /metrics` (Prometheus text); then `routes`; anything else is a JSON 404.
 */
export function createHttpServer(options: HttpServerOptions): HttpServer {
  const host = options.host ?? '127.0.0.1'
  const closeTimeoutMs = options.closeTimeoutMs ?? 5000
  const limits: HttpLimits = { ...defaultHttpLimits, ...options.limits }
  const { registry, logger } = options
  const security = options.security ?? { ratePerSecond: 100 }
  let closing: Promise<void> | undefined
  let auth: TokenAuth | undefined

  const refusals = registry.counter<'reason'>({
    name: 'wolkvox_http_refused_total',
    help: 'HTTP requests refused before any route ran, by reason (token_missing, token_wrong, rate_limited, body_too_large, path_invalid, unreadable).',
    labelNames: ['reason'],
  })
  const reloads = registry.counter<'outcome'>({
    name: 'wolkvox_http_auth_token_reloads_total',
    help: 'Reads of HTTP_AUTH_TOKEN_FILE after start (on change or SIGHUP), by outcome (loaded; refused: the tokens in force stay).',
    labelNames: ['outcome'],
  })
  const limiter = createRateLimiter(security.ratePerSecond)
  /** RFC 6750 and, for a page, RFC 7617: what a client must send, and why this one failed. */
  /** One header line per scheme: a browser reads the Basic line, a client the Bearer one. */
  const challengeOf = (verdict: 'missing' | 'wrong'): string | string[] => {
    const bearer = `Bearer realm="wolkvox-chat-stream"${verdict === 'wrong' ? ', error="invalid_token"' : ''}`
    return options.browserLogin === true
      ? ['Basic realm="wolkvox-chat-stream", charset="UTF-8"', bearer]
      : bearer
  }

  const builtIn = async (path: string, res: ServerResponse): Promise<boolean> => {
    switch (path) {
      case '/healthz':
        sendJson(res, 200, { status: 'ok' })
        return true
      case '/readyz': {
        const { ready, reason } = await checkReadiness(options.readiness, logger)
        sendJson(res, ready ? 200 : 503, reason === undefined ? { ready } : { ready, reason })
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

  /** Throws the answer of a request that must be refused before any route runs. */
  const refuse = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    // A body of no declared length (chunked) is never read here: whatever the answer, the
    // connection closes after it, so the body costs neither memory nor a read loop.
    if (
      req.headers['content-length'] === undefined &&
      req.headers['transfer-encoding'] !== undefined
    )
      res.setHeader('connection', 'close')
    if (
      !path.startsWith('/') ||
      path.length > limits.maxPathLength ||
      path.includes('\0') ||
      /%00/u.test(path)
    ) {
      refusals.inc({ reason: 'path_invalid' })
      throw new HttpError(
        400,
        'HTTP_REQUEST_INVALID',
        `The path does not start with /, is longer than ${limits.maxPathLength} characters or holds a NUL`,
      )
    }
    const probe = PROBES.has(path)
    if (!probe) {
      const waitS = limiter.take(req.socket.remoteAddress ?? '')
      if (waitS > 0) {
        refusals.inc({ reason: 'rate_limited' })
        throw new HttpError(
          429,
          'HTTP_RATE_LIMITED',
          `More than ${security.ratePerSecond} requests a second from this client (HTTP_RATE_LIMIT)`,
          { 'retry-after': String(waitS) },
        )
      }
    }
    const open = probe || (path === '/metrics' && security.auth?.metricsPublic === true)
    if (auth !== undefined && !open) {
      const verdict = auth.check(req)
      if (verdict !== 'ok') {
        refusals.inc({ reason: verdict === 'missing' ? 'token_missing' : 'token_wrong' })
        throw new HttpError(
          401,
          'HTTP_UNAUTHORIZED',
          verdict === 'missing'
            ? 'This route needs Authorization: Bearer <token> (a token of HTTP_AUTH_TOKEN_FILE)'
            : 'The token is not one of HTTP_AUTH_TOKEN_FILE',
          { 'www-authenticate': challengeOf(verdict) },
        )
      }
    }
    // The server never reads a body itself (a route that wants one reads it): a declared length
    // over the limit is refused at once.
    const declared = req.headers['content-length']
    if (declared !== undefined && Number(declared) > limits.maxBodyBytes) {
      refusals.inc({ reason: 'body_too_large' })
      res.setHeader('connection', 'close')
      throw new HttpError(
        413,
        'HTTP_BODY_TOO_LARGE',
        `The request body is larger than ${limits.maxBodyBytes} bytes`,
      )
    }
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (closing !== undefined) res.setHeader('connection', 'close')
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
    const isRead = req.method === 'GET' || req.method === 'HEAD'
    try {
      refuse(req, res, path)
      if (isRead && (await builtIn(path, res))) return
      if (options.routes !== undefined && (await options.routes(req, res))) return
      sendError(res, 404, 'HTTP_NOT_FOUND', `No route for ${path.slice(0, 200)}`)
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      sendError(res, error.status, error.code, error.message, { headers: error.headers })
    }
  }

  const inFlight = new Set<ServerResponse>()
  const server: Server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
      // Node would answer a request without Host (or whose Host was cut off by the header count
      // limit) with an empty 400 of its own; no route needs it, the cross-site check refuses a
      // POST with an Origin and no Host.
      requireHostHeader: false,
    },
    (req, res) => {
      inFlight.add(res)
      res.once('close', () => {
        inFlight.delete(res)
        // Its keep-alive socket is idle only after this tick; then it may go.
        if (closing !== undefined) setImmediate(() => server.closeIdleConnections())
      })
      handle(req, res).catch((error: unknown) => {
        logger?.error('http request failed', { err: error, method: req.method, path: pathOf(req) })
        if (res.headersSent) res.destroy()
        else
          sendError(
            res,
            500,
            'HTTP_INTERNAL_ERROR',
            "The request failed inside the service; the service's log has the cause",
          )
      })
    },
  )
  server.maxConnections = limits.maxConnections
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    refusals.inc({ reason: 'unreadable' })
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy()
      return
    }
    socket.end(clientErrorAnswer(error))
  })
  // CONNECT (a proxy tunnel) is handed to this event, not to the request handler.
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    refusals.inc({ reason: 'unreadable' })
    socket.end(
      rawAnswer(
        405,
        'HTTP_METHOD_NOT_ALLOWED',
        'CONNECT is not answered here',
        'allow: GET, HEAD, POST\r\n',
      ),
    )
  })
  // An Expect other than 100-continue: Node would answer an empty 417 itself.
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    refusals.inc({ reason: 'unreadable' })
    sendError(res, 417, 'HTTP_REQUEST_INVALID', 'Only Expect: 100-continue is understood', {
      headers: { connection: 'close' },
    })
  })

  return {
    listen: async () => {
      if (security.auth !== undefined && auth === undefined)
        auth = createTokenAuth({
          ...security.auth,
          basic: options.browserLogin === true,
          onReload: (outcome) => reloads.inc({ outcome }),
          ...(logger === undefined ? {} : { logger }),
        })
      else if (security.auth === undefined && !isLoopbackAddress(host) && !server.listening)
        logger?.warn(
          'HTTP_AUTH_TOKEN_FILE is not set: anyone who reaches this address reads every route',
          { code: 'HTTP_AUTH_DISABLED', host },
        )
      return listen(server, options.port, host, logger, security.auth !== undefined)
    },
    close: () => {
      if (closing === undefined) {
        // Tells keep-alive clients not to send another request on this socket.
        for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close')
        auth?.close()
        closing = close(server, closeTimeoutMs, logger)
      }
      return closing
    },
  }
}

/** The path of a request, without its query (it could carry a name), for logs. */
const pathOf = (req: IncomingMessage): string => (req.url ?? '/').split('?', 1)[0]!.slice(0, 200)

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
  authenticated: boolean,
): Promise<{ port: number }> {
  if (server.listening) return Promise.resolve({ port: (server.address() as AddressInfo).port })
  return new Promise((resolve, reject) => {
    const onError = (error: Error & { code?: string }): void => {
      server.off('listening', onListening)
      // Why, in the operator's words: the port number alone does not say what to change.
      const why =
        error.code === 'EADDRINUSE'
          ? `: the port is in use by another process (pick another port, or stop that process: \`ss -ltnp 'sport = :${port}'\` names it)`
          : error.code === 'EACCES'
            ? ': permission denied (ports below 1024 need privileges)'
            : error.code === 'EADDRNOTAVAIL'
              ? `: ${host} is not an address of this machine`
              : `: ${error.message}`
      reject(
        new AppError('HTTP_LISTEN_FAILED', `Could not listen on ${host}:${port}${why}`, {
          cause: error,
          details: { host, port },
        }),
      )
    }
    const onListening = (): void => {
      server.off('error', onError)
      const actual = (server.address() as AddressInfo).port
      logger?.info('http server listening', {
        host,
        port: actual,
        url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
        auth: authenticated ? 'bearer token' : 'none',
      })
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
