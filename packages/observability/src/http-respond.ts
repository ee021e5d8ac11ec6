import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { ErrorCode } from '@wolkvox-chat-stream/errors'

/** Answers with JSON, never cached. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<OutgoingHttpHeaders> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  })
  res.end(JSON.stringify(body))
}

/**
 * Answers with the error shape every HTTP API of the product uses:
 * `{ "error": { "code", "message", ...extra } }`, the code one of the registered error codes.
 */
export function sendError(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  options: { headers?: Readonly<OutgoingHttpHeaders>; extra?: Record<string, unknown> } = {},
): void {
  sendJson(res, status, { error: { code, message, ...options.extra } }, options.headers)
}

/**
 * An answer a route gives by throwing: the router or the server sends it with {@link sendError}.
 * For refusals only (bad input, not found); a failure of the service is any other error (500).
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Readonly<OutgoingHttpHeaders> = {},
  ) {
    super(message)
    this.name = 'HttpError'
  }
}
