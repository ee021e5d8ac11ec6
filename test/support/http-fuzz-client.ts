/*
 * The client side of the HTTP fuzz (test/integration/http-fuzz.test.ts): requests through node:http
 * for the well-formed ones, raw bytes on a node:net socket for the malformed ones (with a small
 * HTTP/1.1 response parser that reads pipelined, chunked and 1xx answers), slow trickles, and the
 * check of the documented error shape `{ "error": { "code", "message" } }`.
 */
import { request, type Agent, type OutgoingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { errorCodes } from '@wolkvox-chat-stream/errors'

/** One HTTP answer as received. */
export interface Answer {
  status: number
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>
  body: Buffer
}

/** What came back on one connection (or one node:http request). */
export interface Exchange {
  answers: Answer[]
  /**
   * `complete`: every expected answer arrived; `closed`: the server closed the connection (answers
   * holds what arrived before); `reset`: the connection failed (ECONNRESET, EPIPE);
   * `timeout`: nothing more came within the time allowed (a hang).
   */
  end: 'complete' | 'closed' | 'reset' | 'timeout'
  /** The error code of a reset, or what a malformed answer looked like. */
  note?: string
  ms: number
}

const CRLF2 = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')

/**
 * Reads the answers in `buf`, one per entry of `heads` (true: the answer to a HEAD, without a
 * body). 1xx answers are skipped. `eof`: the server closed, so a body without a length ends here.
 */
export function parseAnswers(
  buf: Buffer,
  heads: readonly boolean[],
  eof: boolean,
): { answers: Answer[]; done: boolean; malformed?: string } {
  const answers: Answer[] = []
  let offset = 0
  while (answers.length < heads.length) {
    const headEnd = buf.indexOf(CRLF2, offset)
    if (headEnd === -1) return { answers, done: false }
    const lines = buf.subarray(offset, headEnd).toString('latin1').split('\r\n')
    const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/u.exec(lines[0]!)
    if (statusLine === null)
      return { answers, done: true, malformed: `status line ${JSON.stringify(lines[0])}` }
    const status = Number(statusLine[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon <= 0) return { answers, done: true, malformed: `header ${JSON.stringify(line)}` }
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    let pos = headEnd + 4
    if (status >= 100 && status < 200) {
      offset = pos
      continue
    }
    let body: Buffer
    if (heads[answers.length] === true || status === 204 || status === 304) {
      body = Buffer.alloc(0)
    } else if (/\bchunked\b/iu.test(headers['transfer-encoding'] ?? '')) {
      const chunks: Buffer[] = []
      for (;;) {
        const lineEnd = buf.indexOf(CRLF, pos)
        if (lineEnd === -1) return { answers, done: false }
        const size = Number.parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16)
        if (!Number.isInteger(size) || size < 0)
          return { answers, done: true, malformed: 'a chunk size' }
        pos = lineEnd + 2
        if (size === 0) {
          // No trailers from these servers: the empty line ends the body.
          const trailerEnd = buf.indexOf(CRLF, pos)
          if (trailerEnd === -1) return { answers, done: false }
          pos = trailerEnd + 2
          break
        }
        if (buf.length < pos + size + 2) return { answers, done: false }
        chunks.push(buf.subarray(pos, pos + size))
        pos += size + 2
      }
      body = Buffer.concat(chunks)
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      if (!Number.isInteger(length) || length < 0)
        return { answers, done: true, malformed: `content-length ${headers['content-length']}` }
      if (buf.length < pos + length) return { answers, done: false }
      body = buf.subarray(pos, pos + length)
      pos += length
    } else {
      if (!eof) return { answers, done: false }
      body = buf.subarray(pos)
      pos = buf.length
    }
    answers.push({ status, headers, body: Buffer.from(body) })
    offset = pos
  }
  return { answers, done: true }
}

/**
 * Writes `bytes` on a new connection to 127.0.0.1:`port` and reads the answers (one per entry of
 * `heads`) until they are all in, the server closes, or `timeoutMs` passes. With `halfClose`, our
 * side is ended after the write (the server still answers: Node's HTTP server allows half-open).
 */
export function rawExchange(
  port: number,
  bytes: Buffer,
  heads: readonly boolean[],
  options: { timeoutMs: number; halfClose: boolean },
): Promise<Exchange> {
  const started = performance.now()
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const received: Buffer[] = []
    let settled = false
    let resetCode: string | undefined
    const finish = (end: Exchange['end'], eof: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      const parsed = parseAnswers(Buffer.concat(received), heads, eof)
      resolve({
        answers: parsed.answers,
        end: parsed.done && end !== 'timeout' ? 'complete' : end,
        ...(parsed.malformed !== undefined
          ? { note: `malformed answer: ${parsed.malformed}` }
          : resetCode !== undefined
            ? { note: resetCode }
            : {}),
        ms: performance.now() - started,
      })
    }
    const timer = setTimeout(() => finish('timeout', false), options.timeoutMs)
    socket.on('connect', () => {
      socket.write(bytes)
      if (options.halfClose) socket.end()
    })
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk)
      const parsed = parseAnswers(Buffer.concat(received), heads, false)
      if (parsed.done) finish('complete', false)
    })
    socket.on('error', (error: Error & { code?: string }) => {
      resetCode = error.code ?? error.message
    })
    socket.on('close', () => finish(resetCode === undefined ? 'closed' : 'reset', true))
  })
}

/** A well-formed request for {@link httpExchange}. */
export interface HttpRequestSpec {
  method: string
  /** Sent as it is (node:http refuses only characters outside `!`..`ÿ`). */
  target: string
  headers: readonly (readonly [string, string])[]
  /** Sent with a content-length… */
  body?: string
  /** …or as these chunks (transfer-encoding: chunked). */
  chunks?: readonly string[]
}

/** Sends `spec` with node:http through `agent` and reads the whole answer. */
export function httpExchange(
  port: number,
  spec: HttpRequestSpec,
  agent: Agent,
  timeoutMs: number,
): Promise<Exchange> {
  const started = performance.now()
  return new Promise((resolve) => {
    let settled = false
    const finish = (exchange: Omit<Exchange, 'ms'>): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ ...exchange, ms: performance.now() - started })
    }
    const headers: OutgoingHttpHeaders = {}
    for (const [name, value] of spec.headers) {
      const key = name.toLowerCase()
      const previous = headers[key]
      headers[key] =
        previous === undefined
          ? value
          : Array.isArray(previous)
            ? [...previous, value]
            : [String(previous), value]
    }
    // Framing said outright: node:http frames no body of a GET (nor HEAD, DELETE, OPTIONS) itself.
    if (spec.chunks !== undefined) headers['transfer-encoding'] = 'chunked'
    else if (spec.body !== undefined)
      headers['content-length'] = String(Buffer.byteLength(spec.body, 'latin1'))
    // Throws (rejecting) when node:http will not send the target: the caller sends those raw.
    const req = request({
      host: '127.0.0.1',
      port,
      method: spec.method,
      path: spec.target,
      headers,
      agent,
    })
    const timer = setTimeout(() => {
      req.destroy()
      finish({ answers: [], end: 'timeout' })
    }, timeoutMs)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', (error: Error & { code?: string }) =>
        finish({ answers: [], end: 'reset', note: `${error.code ?? error.message} mid-answer` }),
      )
      res.on('end', () => {
        const flat: Record<string, string> = {}
        for (const [name, value] of Object.entries(res.headers))
          if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value
        finish({
          answers: [{ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks) }],
          end: 'complete',
        })
      })
    })
    req.on('error', (error: Error & { code?: string }) =>
      finish({ answers: [], end: 'reset', note: error.code ?? error.message }),
    )
    if (spec.chunks !== undefined) {
      for (const chunk of spec.chunks) req.write(Buffer.from(chunk, 'latin1'))
      req.end()
    } else if (spec.body !== undefined) req.end(Buffer.from(spec.body, 'latin1'))
    else req.end()
  })
}

/** What a slow trickle of bytes got. */
export interface TrickleOutcome {
  /** When the server closed the connection, after the first byte; undefined if it never did. */
  closedAfterMs: number | undefined
  bytesSent: number
  answers: Answer[]
}

/**
 * Slowloris: connects, writes `head` at once, then one byte of `drip` every `everyMs`, until the
 * server closes the connection or `giveUpMs` passes.
 */
export function trickle(
  port: number,
  input: { head: string; drip: string; everyMs: number; giveUpMs: number },
): Promise<TrickleOutcome> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const received: Buffer[] = []
    let sent = 0
    let started = 0
    let ticker: NodeJS.Timeout | undefined
    let settled = false
    const finish = (closed: boolean): void => {
      if (settled) return
      settled = true
      clearInterval(ticker)
      clearTimeout(giveUp)
      socket.destroy()
      resolve({
        closedAfterMs: closed ? performance.now() - started : undefined,
        bytesSent: sent,
        answers: parseAnswers(Buffer.concat(received), [false], true).answers,
      })
    }
    const giveUp = setTimeout(() => finish(false), input.giveUpMs)
    socket.on('connect', () => {
      started = performance.now()
      socket.write(input.head)
      sent += input.head.length
      ticker = setInterval(() => {
        if (!socket.writable) return
        socket.write(input.drip[sent % input.drip.length]!)
        sent += 1
      }, input.everyMs)
    })
    socket.on('data', (chunk: Buffer) => received.push(chunk))
    socket.on('error', () => undefined)
    socket.on('close', () => finish(true))
  })
}

/** The media type of a content-type header, lower-cased, without parameters. */
export const mediaTypeOf = (answer: Answer): string =>
  (answer.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase()

/**
 * Why `answer` is not in the documented error shape: `content-type: application/json` and a body
 * `{ "error": { "code": <a code of errorCodes>, "message": <string>, …extra } }` (no body to a
 * HEAD). Undefined when it is.
 */
export function errorShapeProblem(answer: Answer, head: boolean): string | undefined {
  if (mediaTypeOf(answer) !== 'application/json')
    return `content-type ${JSON.stringify(answer.headers['content-type'] ?? null)}, not application/json`
  if (head) return answer.body.length === 0 ? undefined : 'a body to a HEAD'
  let json: unknown
  try {
    json = JSON.parse(answer.body.toString('utf8'))
  } catch {
    return `a body that is not JSON: ${JSON.stringify(answer.body.toString('latin1').slice(0, 120))}`
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return 'a JSON body that is not an object'
  const keys = Object.keys(json)
  if (keys.length !== 1 || keys[0] !== 'error') return `top-level keys ${keys.join(', ')}`
  const error = (json as { error: unknown }).error
  if (typeof error !== 'object' || error === null) return '"error" is not an object'
  const { code, message } = error as { code?: unknown; message?: unknown }
  if (typeof code !== 'string') return 'no string error.code'
  if (!Object.hasOwn(errorCodes, code)) return `the unregistered code ${code}`
  if (typeof message !== 'string' || message === '') return 'no error.message'
  return undefined
}

/** The code of an error answer, if it has one. */
export function errorCodeOf(answer: Answer): string | undefined {
  try {
    const json = JSON.parse(answer.body.toString('utf8')) as { error?: { code?: unknown } }
    return typeof json.error?.code === 'string' ? json.error.code : undefined
  } catch {
    return undefined
  }
}

/** Runs `work` on every item, `limit` at a time. */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++
        await work(items[index]!, index)
      }
    }),
  )
}

let collect: (() => void) | undefined

/**
 * A full garbage collection of this process: `global.gc` when node runs with --expose-gc, else the
 * same function fetched through V8's flag (allowed at run time) in a fresh context.
 */
export function collectGarbage(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc
    if (typeof exposed === 'function') collect = exposed
    else {
      setFlagsFromString('--expose-gc')
      collect = runInNewContext('gc') as () => void
    }
  }
  collect()
  collect()
}

/** The value of a metric without labels other than the defaults, in Prometheus text. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
  if (line === undefined) return undefined
  const value = Number(line.slice(line.lastIndexOf(' ') + 1))
  return Number.isFinite(value) ? value : undefined
}
