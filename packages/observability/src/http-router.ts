/*
 * A service's routes as data: a path pattern, a method, and one parser for each path and query
 * parameter. The router matches, decodes and checks every parameter before the handler runs, so a
 * handler sees only values that passed their one definition (README: HTTP API, Validation).
 *
 * Rules for every route: empty path segments are ignored (`//a/` is `/a`); `GET` routes answer
 * `HEAD`; another method on a known path is 405 with `allow`; a query parameter the route does not
 * define, or given twice, is 400; an empty query value counts as absent. A `POST` must come as
 * `content-type: application/json` and, when the browser says where from (`origin`), from the same
 * host: a web page on another site can then never trigger it (no CORS is ever answered).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ErrorCode } from '@wolkvox-chat-stream/errors'
import { HttpError, sendError, sendJson } from './http-respond.js'

/** Thrown by a parameter parser: the reason the value is refused (400). */
export class InputError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InputError'
  }
}

/** Reads one parameter's text into its value, or throws {@link InputError}. */
export type Parser<T> = (text: string) => T

/** What a handler gets: the parsed path and query parameters (absent query ones are missing). */
export interface RouteInput<P, Q> {
  params: P
  query: Partial<Q>
  req: IncomingMessage
}

/** What a handler answers: a status and a JSON body. Refusals may also be thrown as HttpError. */
export interface RouteAnswer {
  status: number
  body: unknown
}

type Parsers<T> = { [K in keyof T]: Parser<T[K]> }

/** One route of a service. */
export interface Route<C, P = Record<string, never>, Q = Record<string, never>> {
  method: 'GET' | 'POST'
  /** Segments, with `:name` for a path parameter: `/operations/:server/agents`. */
  path: string
  params?: Parsers<P>
  query?: Parsers<Q>
  handle(input: RouteInput<P, Q>, context: C): RouteAnswer | Promise<RouteAnswer>
}

/** Declares a route with its parameter types inferred from its parsers. */
export function route<C, P = Record<string, never>, Q = Record<string, never>>(
  definition: Route<C, P, Q>,
): Route<C, unknown, unknown> {
  return definition
}

/** Options for {@link createRouter}. */
export interface RouterOptions {
  /** The code of a refused parameter (400), e.g. `SENTIMENT_QUERY_INVALID`. */
  invalidCode: ErrorCode
}

/** Splits a request path into decoded segments; throws InputError on a bad percent-encoding. */
export function pathSegments(path: string): string[] {
  return path
    .split('/')
    .filter((part) => part !== '')
    .map((part) => {
      try {
        return decodeURIComponent(part)
      } catch {
        throw new InputError(`${JSON.stringify(part)} is not a valid path segment`)
      }
    })
}

/** The media type of a content-type header, lower-cased, without parameters. */
const mediaType = (header: string | undefined): string =>
  (header ?? '').split(';', 1)[0]!.trim().toLowerCase()

/** Refuses a state-changing request a web page on another site could have sent. */
function refuseCrossSite(req: IncomingMessage): void {
  if (mediaType(req.headers['content-type']) !== 'application/json')
    throw new HttpError(
      403,
      'HTTP_CROSS_SITE_REFUSED',
      'A POST needs content-type: application/json (no web page can send that to another site)',
    )
  const origin = req.headers.origin
  if (origin === undefined) return
  let host: string
  try {
    host = new URL(origin).host
  } catch {
    host = ''
  }
  if (host === '' || host !== req.headers.host)
    throw new HttpError(403, 'HTTP_CROSS_SITE_REFUSED', 'A POST from another origin is refused')
}

/**
 * Creates the route handler of a service (the `routes` option of `createHttpServer`): answers
 * the requests its routes match, falls through (false) for every other path.
 */
export function createRouter<C>(
  routes: readonly Route<C, unknown, unknown>[],
  options: RouterOptions,
): (req: IncomingMessage, res: ServerResponse, context: C) => Promise<boolean> {
  const compiled = routes.map((r) => ({
    ...r,
    segments: r.path.split('/').filter((s) => s !== ''),
  }))

  const match = (segments: readonly string[], pattern: readonly string[]): boolean =>
    segments.length === pattern.length &&
    pattern.every((part, i) => part.startsWith(':') || part === segments[i])

  return async (req, res, context) => {
    // Prefixed, not resolved: a path starting with `//` must stay a path, not become a host.
    let url: URL
    try {
      url = new URL(`http://localhost${req.url ?? '/'}`)
    } catch {
      throw new HttpError(400, 'HTTP_REQUEST_INVALID', 'The request target is not a path')
    }
    let segments: string[]
    try {
      segments = pathSegments(url.pathname)
    } catch (error) {
      if (!(error instanceof InputError)) throw error
      sendError(res, 400, 'HTTP_REQUEST_INVALID', error.message)
      return true
    }
    const candidates = compiled.filter((r) => match(segments, r.segments))
    if (candidates.length === 0) return false
    const method = req.method === 'HEAD' ? 'GET' : req.method
    const chosen = candidates.find((r) => r.method === method)
    try {
      if (chosen === undefined) {
        const allowed: string[] = [...new Set(candidates.map((r) => r.method))]
        if (allowed.includes('GET')) allowed.push('HEAD')
        throw new HttpError(
          405,
          'HTTP_METHOD_NOT_ALLOWED',
          `${req.method ?? '?'} is not answered here: use ${allowed.join(' or ')}`,
          { allow: allowed.join(', ') },
        )
      }
      if (chosen.method === 'POST') refuseCrossSite(req)
      const input = readInput(chosen, segments, url.searchParams)
      const answer = await chosen.handle({ ...input, req }, context)
      sendJson(res, answer.status, answer.body)
    } catch (error) {
      if (error instanceof InputError) sendError(res, 400, options.invalidCode, error.message)
      else if (error instanceof HttpError)
        sendError(res, error.status, error.code, error.message, { headers: error.headers })
      else throw error
    }
    return true
  }
}

function readInput<C>(
  r: Route<C, unknown, unknown> & { segments: string[] },
  segments: readonly string[],
  search: URLSearchParams,
): { params: unknown; query: Partial<unknown> } {
  const params: Record<string, unknown> = {}
  const pathParsers = (r.params ?? {}) as Record<string, Parser<unknown>>
  r.segments.forEach((part, i) => {
    if (!part.startsWith(':')) return
    const name = part.slice(1)
    const parse = pathParsers[name]
    params[name] = parse === undefined ? segments[i] : parse(segments[i]!)
  })
  const queryParsers = (r.query ?? {}) as Record<string, Parser<unknown>>
  const known = Object.keys(queryParsers)
  const query: Record<string, unknown> = {}
  const seen = new Set<string>()
  for (const [name, value] of search) {
    if (!Object.hasOwn(queryParsers, name))
      throw new InputError(
        `Unknown parameter ${JSON.stringify(name.slice(0, 64))}: this route takes ${known.length === 0 ? 'none' : known.join(', ')}`,
      )
    if (seen.has(name)) throw new InputError(`${name} is given more than once`)
    seen.add(name)
    if (value.trim() === '') continue
    query[name] = queryParsers[name]!(value)
  }
  return { params, query }
}
