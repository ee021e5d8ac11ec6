import type { ErrorCode } from '@wolkvox-chat-stream/errors'

/** A complete upstream answer: status and body (as text, and as JSON when it is JSON). */
export interface UpstreamAnswer {
  status: number
  text: string
  /** The parsed body, or `undefined` when it is not JSON. */
  json: unknown
}

/** What an answer means for the caller. */
export type Verdict =
  | { kind: 'rows'; data: unknown[] }
  | { kind: 'empty' }
  | {
      kind: 'error'
      code: ErrorCode
      /** The status the verdict rests on (the body's `code` when HTTP said 200 but the body did not). */
      status: number
      /** What went wrong, in words, without the upstream text. */
      explanation: string
      /** The upstream's own words (`msg`, else `error`, else the start of the body). */
      upstreamText: string
    }

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** `code` may be the number 200 or the string "200"; anything else is not a status. */
export function statusOf(code: unknown): number | undefined {
  const text = typeof code === 'number' ? String(code) : typeof code === 'string' ? code.trim() : ''
  if (!/^[1-5]\d\d$/.test(text)) return undefined
  return Number(text)
}

function upstreamTextOf(answer: UpstreamAnswer): string {
  if (isRecord(answer.json)) {
    for (const key of ['msg', 'error', 'message']) {
      const value = answer.json[key]
      if (typeof value === 'string' && value.trim() !== '') return value.trim()
    }
  }
  return answer.text.replace(/\s+/g, ' ').trim()
}

const error = (
  code: ErrorCode,
  status: number,
  explanation: string,
  upstreamText: string,
): Verdict => ({ kind: 'error', code, status, explanation, upstreamText })

/**
 * Turns an answer into rows, an empty result or an error row of the contract's table. Error texts
 * are matched loosely (case-insensitive substrings) because only their gist is documented; `msg`
 * of a success is never read, the rows are counted instead.
 */
export function judgeAnswer(answer: UpstreamAnswer): Verdict {
  const bodyStatus = isRecord(answer.json) ? statusOf(answer.json.code) : undefined
  // Some PHP endpoints say 200 on the wire and the real status in the body: believe the body.
  const status = answer.status === 200 && bodyStatus !== undefined ? bodyStatus : answer.status
  const upstream = upstreamTextOf(answer)
  const said = upstream.toUpperCase()

  if (status === 200) {
    if (!isRecord(answer.json)) {
      return error('WOLKVOX_MALFORMED_RESPONSE', status, 'the body is not a JSON object', '')
    }
    const data = answer.json.data
    if (!Array.isArray(data)) {
      return error('WOLKVOX_MALFORMED_RESPONSE', status, '`data` is not an array', '')
    }
    return { kind: 'rows', data }
  }
  if (status >= 300 && status < 400) {
    return error('WOLKVOX_REDIRECT_REFUSED', status, 'redirects are never followed', '')
  }
  switch (status) {
    case 400:
      return said.includes('API') && said.includes('NOT EXIST')
        ? error('WOLKVOX_API_UNKNOWN', status, 'the report does not exist', upstream)
        : error('WOLKVOX_BAD_REQUEST', status, 'the parameters were refused', upstream)
    case 416:
      return error('WOLKVOX_BAD_REQUEST', status, 'the date range was refused', upstream)
    case 401:
      return error('WOLKVOX_TOKEN_MISSING', status, 'no token reached Wolkvox', upstream)
    case 403:
      if (said.includes('VALIDATE TOKEN')) {
        return error('WOLKVOX_TOKEN_INVALID', status, 'the token is invalid or expired', upstream)
      }
      if (said.includes('TOKEN LIMIT EXCEEDED')) {
        return error('WOLKVOX_QUOTA_EXCEEDED', status, 'the daily quota is used up', upstream)
      }
      if (said.includes('SIMULTANEOUS')) {
        return error(
          'WOLKVOX_CONCURRENT_LIMIT',
          status,
          'another call used the token at the same time',
          upstream,
        )
      }
      return error('WOLKVOX_MAINTENANCE', status, 'upstream maintenance', upstream)
    case 404: {
      // Local validation guarantees a sound request, so the API's own 404 can only mean "no
      // records". A 404 that is not the API's JSON is a wrong URL, never an empty window.
      if (!isRecord(answer.json)) {
        return error(
          'WOLKVOX_ENDPOINT_NOT_FOUND',
          status,
          'the base URL or path is wrong',
          upstream,
        )
      }
      const data = answer.json.data
      if (data === undefined || data === null || (Array.isArray(data) && data.length === 0)) {
        return { kind: 'empty' }
      }
      return error('WOLKVOX_MALFORMED_RESPONSE', status, 'a 404 that carries data', upstream)
    }
    case 429:
      return error('WOLKVOX_RATE_LIMITED', status, 'too many requests', upstream)
  }
  if (status >= 500 && status < 600) {
    return error('WOLKVOX_SERVER_ERROR', status, 'server error', upstream)
  }
  return error(
    'WOLKVOX_UNEXPECTED_STATUS',
    status,
    'a status the contract does not describe',
    upstream,
  )
}
