/*
 * The same-origin proxy: `GET /api/<service>/<path>` is forwarded to that service's base URL, so
 * the page needs no CORS and reaches nothing but the four configured services.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { hasControlCharacter, type Secret } from '@wolkvox-chat-stream/config'
import type { ErrorCode } from '@wolkvox-chat-stream/errors'
import { sendError, type Logger, type MetricsRegistry } from '@wolkvox-chat-stream/observability'
import { upstreamNames, type UpstreamName } from './config.js'

/** The largest answer the proxy passes on (the services' JSON is a few kB to a few hundred kB). */
export const MAX_PROXIED_BYTES = 8 * 1024 * 1024

/** The headers of a service's answer the proxy passes on, besides its content type. */
const PASSED_HEADERS = ['allow', 'retry-after'] as const

/** Where a request to the dashboard goes. */
export type ProxyTarget =
  | { kind: 'forward'; service: UpstreamName; url: string }
  | { kind: 'refused'; status: 400 | 404; message: string }

/**
 * Maps a request path (with its query) under `/api/` to the service URL it is forwarded to. The
 * rest of the path and the query are passed on as they are (an agent key stays percent-encoded);
 * a dot segment, raw or encoded, is refused so a path can never climb out of the service's base.
 */
export function resolveProxyTarget(
  requestUrl: string,
  upstreams: Readonly<Record<UpstreamName, string>>,
): ProxyTarget {
  const queryAt = requestUrl.indexOf('?')
  const path = queryAt === -1 ? requestUrl : requestUrl.slice(0, queryAt)
  const query = queryAt === -1 ? '' : requestUrl.slice(queryAt)
  const match = /^\/api\/([a-z]+)(\/.*)?$/u.exec(path)
  const service = upstreamNames.find((name) => name === match?.[1])
  if (match === null || service === undefined) {
    return {
      kind: 'refused',
      status: 404,
      message: `Only ${upstreamNames.map((n) => `/api/${n}/`).join(', ')} are proxied`,
    }
  }
  const rest = match[2] ?? '/'
  const segments = rest.split('/')
  const dotted = segments.some((segment) => {
    let decoded: string
    try {
      decoded = decodeURIComponent(segment)
    } catch {
      return true
    }
    return decoded === '.' || decoded === '..'
  })
  // A control character (a raw TAB, CR or LF) is refused: a URL parser drops it, so `.\t.` would
  // become `..` after the check above.
  if (dotted || rest.includes('\\') || rest.startsWith('//') || hasControlCharacter(rest)) {
    return {
      kind: 'refused',
      status: 400,
      message: 'The path has a dot segment, a backslash or a control character',
    }
  }
  return { kind: 'forward', service, url: `${upstreams[service]}${rest}${query}` }
}

/** Options for {@link createProxy}. */
export interface ProxyOptions {
  upstreams: Readonly<Record<UpstreamName, string>>
  timeoutMs: number
  registry: MetricsRegistry
  logger: Logger
  maxBytes?: number
  /** Sent to the services as `Authorization: Bearer …`; never passed to the browser. */
  token?: Secret
}

const refuse = (
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  extra: Record<string, string> = {},
): void => {
  sendError(res, status, code, message, {
    ...(status === 405 ? { headers: { allow: 'GET, HEAD' } } : {}),
    extra,
  })
}

/** Reads a body up to `maxBytes`; `null` when it is larger. */
async function readCapped(response: Response, maxBytes: number): Promise<Buffer | null> {
  const declared = Number(response.headers.get('content-length') ?? '0')
  if (declared > maxBytes) {
    await response.body?.cancel()
    return null
  }
  const chunks: Uint8Array[] = []
  let size = 0
  if (response.body === null) return Buffer.alloc(0)
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > maxBytes) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** Why a fetch failed, in words, without the URL's query (it could carry a name). */
function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause
  if (typeof cause?.code === 'string') return cause.code
  if (typeof cause?.message === 'string') return cause.message
  return error instanceof Error ? error.message : String(error)
}

/**
 * The proxy as a route of the dashboard's HTTP server: answers every path under `/api/` (and only
 * those). The service's own status and JSON are passed on; when it cannot be reached the answer is
 * 502 `DASHBOARD_UPSTREAM_UNAVAILABLE` (504 `DASHBOARD_UPSTREAM_TIMEOUT` after `timeoutMs`), with
 * `service` naming it, so the page can say which part is down.
 */
export function createProxy(
  options: ProxyOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const maxBytes = options.maxBytes ?? MAX_PROXIED_BYTES
  const requests = options.registry.counter<'upstream' | 'outcome'>({
    name: 'wolkvox_dashboard_proxy_requests_total',
    help: 'Requests the dashboard forwarded, by upstream service and outcome (answered, unavailable, timeout, too_large).',
    labelNames: ['upstream', 'outcome'],
  })
  const duration = options.registry.histogram<'upstream'>({
    name: 'wolkvox_dashboard_proxy_duration_seconds',
    help: 'Time from forwarding a request to having the whole answer, by upstream service.',
    labelNames: ['upstream'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  })

  return async (req, res) => {
    const url = req.url ?? '/'
    if (url !== '/api' && !url.startsWith('/api/') && !url.startsWith('/api?')) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(res, 405, 'HTTP_METHOD_NOT_ALLOWED', 'The proxy answers GET and HEAD only')
      return true
    }
    const target = resolveProxyTarget(url, options.upstreams)
    if (target.kind === 'refused') {
      refuse(res, target.status, 'DASHBOARD_PROXY_REFUSED', target.message)
      return true
    }
    const { service } = target
    const base = options.upstreams[service]
    const started = performance.now()
    let outcome = 'answered'
    try {
      const response = await fetch(target.url, {
        headers: {
          accept: req.headers.accept ?? 'application/json',
          ...(options.token === undefined
            ? {}
            : { authorization: `Bearer ${options.token.reveal()}` }),
        },
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
      })
      const body = await readCapped(response, maxBytes)
      if (body === null) {
        outcome = 'too_large'
        refuse(
          res,
          502,
          'DASHBOARD_UPSTREAM_TOO_LARGE',
          `The ${service} answered more than ${maxBytes} bytes`,
          { service },
        )
        return true
      }
      // The service's own `allow` (405) and `retry-after` (429) are passed on; its
      // `www-authenticate` never is, so a browser is not asked for a service's token.
      const passed = Object.fromEntries(
        PASSED_HEADERS.flatMap((name) => {
          const value = response.headers.get(name)
          return value === null ? [] : [[name, value]]
        }),
      )
      res.writeHead(response.status, {
        'content-type': response.headers.get('content-type') ?? 'application/octet-stream',
        'cache-control': 'no-store',
        ...passed,
      })
      res.end(body)
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError'
      outcome = timedOut ? 'timeout' : 'unavailable'
      options.logger.warn('proxied request failed', {
        service,
        outcome,
        reason: describeFailure(error),
      })
      if (timedOut) {
        refuse(
          res,
          504,
          'DASHBOARD_UPSTREAM_TIMEOUT',
          `The ${service} at ${base} did not answer within ${options.timeoutMs} ms`,
          { service },
        )
      } else {
        refuse(
          res,
          502,
          'DASHBOARD_UPSTREAM_UNAVAILABLE',
          `The ${service} at ${base} is unavailable (${describeFailure(error)})`,
          { service },
        )
      }
    } finally {
      requests.inc({ upstream: service, outcome })
      duration.observe({ upstream: service }, (performance.now() - started) / 1000)
    }
    return true
  }
}
