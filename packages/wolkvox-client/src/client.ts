import { setTimeout as delay } from 'node:timers/promises'
import { Agent, request, type Dispatcher } from 'undici'
import { AppError, type ErrorCode } from '@wolkvox-chat-stream/errors'
import type { Secret } from '@wolkvox-chat-stream/config'
import {
  checkChat2Row,
  itemJsonText,
  parseChat2Row,
  type ChatRow,
  type InvalidRow,
  type RowCheck,
  type RowParse,
} from './chat-2.js'
import { reportsManagerUrl, validateServer } from './endpoint.js'
import { createRedactor, sanitizeCause } from './redact.js'
import { createDataStreamParser, DataStreamError } from './data-stream.js'
import { judgeAnswer } from './response.js'
import {
  backoffDelayMs,
  defaultRetryOptions,
  parseRetryAfterMs,
  type RetryOptions,
} from './retry.js'
import { formatWallClock, isTimeZone } from './wall-clock.js'

/** The row type of each report the client can read; a new report adds a parser and a line here. */
export interface ReportRowTypes {
  chat_2: ChatRow
}

/** A report the client can read (`chat_2`). */
export type ReportName = keyof ReportRowTypes

/** Per report: a cheap check of a `data` item, and the parse that builds its row. */
const rowParsers: {
  [R in ReportName]: {
    check: (item: unknown) => RowCheck
    parse: (item: unknown) => RowParse<ReportRowTypes[R]>
  }
} = {
  chat_2: { check: checkChat2Row, parse: parseChat2Row },
}

/** The subset of the project's logger the client uses. */
export interface WolkvoxClientLogger {
  debug(msg: string, fields?: Readonly<Record<string, unknown>>): void
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void
}

/** What happened in one attempt, for metrics: `code` is null on success. */
export interface AttemptEvent {
  report: ReportName
  attempt: number
  durationMs: number
  /** The HTTP status, when one arrived. */
  status: number | undefined
  code: ErrorCode | null
  bytes: number
}

/** Options for {@link createWolkvoxClient}. */
export interface WolkvoxClientOptions {
  /** The operation's server code, 1 to 6 digits (`0010`); the host is `wv{server}.wolkvox.com`. */
  server: string
  /** Sent as `wolkvox-token`; never printed. */
  token: Secret
  /** Instead of `https://wv{server}.wolkvox.com`: https, or plain http to a loopback host. */
  baseUrl?: string
  /** The zone of `date_ini`, `date_end` and the rows' `date`. Default `America/Bogota`. */
  timeZone?: string
  /**
   * An undici dispatcher (a `MockAgent` in tests). It must not follow redirects or skip TLS
   * verification. Default: the client's own `Agent`, closed by {@link WolkvoxClient.close}.
   */
  dispatcher?: Dispatcher
  /** Connect timeout of the client's own Agent. Default 10000. */
  connectTimeoutMs?: number
  /** Until the response headers arrive; Wolkvox may think for 60 s. Default 75000. */
  headersTimeoutMs?: number
  /** The longest gap between two body chunks. Default 30000. */
  bodyTimeoutMs?: number
  /** One attempt from start to last byte, so a trickling body cannot hold a call. Default 180000. */
  attemptTimeoutMs?: number
  /** Larger bodies are abandoned mid-stream with `WOLKVOX_RESPONSE_TOO_LARGE`. Default 64 MiB. */
  maxResponseBytes?: number
  /** The upstream's records cap; a response at it may be truncated. Default 60000. */
  rowCap?: number
  /**
   * How long the upstream may go on serving a call the client abandoned (its 60 s server limit).
   * A retry after a timeout or a broken connection waits until that long after the abandoned
   * attempt began, so two calls never overlap on the token upstream. Default 60000.
   */
  upstreamCallLimitMs?: number
  retry?: Partial<RetryOptions>
  logger?: WolkvoxClientLogger
  /** Called after every attempt, successful or not (for metrics); what it throws is logged and ignored. */
  onAttempt?: (event: AttemptEvent) => void
  /** Clock, epoch milliseconds. Default `Date.now`. */
  now?: () => number
  /** Waits between attempts; rejects when `signal` aborts. Default a timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** In [0, 1), for jitter. Default `Math.random`. */
  random?: () => number
}

/** One report request. Times are instants; they are sent as local wall-clock times in the zone. */
export interface ReportRequest<R extends ReportName = ReportName> {
  report: R
  /** First second of the window, inclusive (milliseconds are dropped). */
  from: Date
  /** Last second of the window, inclusive; at most 31 days after `from` counting both ends. */
  to: Date
  /** Abandons the call (and any wait between attempts) with `WOLKVOX_ABORTED`. */
  signal?: AbortSignal
  /**
   * An instant (a lock lease's end) after which no attempt starts, no wait ends and no attempt
   * runs: an attempt in flight is aborted with `WOLKVOX_DEADLINE_EXCEEDED`. A function is asked
   * again each time the deadline is checked, so a lease renewed meanwhile moves it (a streamed
   * call lasts as long as its caller takes to handle the items).
   */
  deadline?: Date | number | (() => number)
  /**
   * Hands the `data` items out while the body is still downloading, instead of in `items`: see
   * {@link ReportStream}.
   */
  stream?: ReportStream
}

/**
 * Streaming of a report's items: the body is parsed as it arrives and its `data` items are handed
 * out in order, in groups of about `messages` messages (a smaller first group), every item as
 * parsed (valid or not, like `items`). The body is not read further until `onItems` resolves, so
 * memory stays bounded by a group, not by the response.
 *
 * Items are handed out before the end of the body is seen: an attempt that fails later (a
 * truncated or malformed body, an error status in the body after `data`, a row-cap hit) has handed
 * out part of its items already, and a retry hands them out again from the first (`onRetry` is
 * awaited before it). Whatever `onItems` or `onRetry` throw ends the call with that very error,
 * without retrying. With a stream, `items` of the result is empty.
 */
export interface ReportStream {
  onItems(items: unknown[]): Promise<void>
  onRetry?(): Promise<void>
  /** Messages in the first group (default 1,000): the caller starts its work sooner. */
  firstMessages?: number
  /** Messages per later group (default 5,000). */
  messages?: number
}

/** An error thrown by the caller's stream, carried out of the attempt untouched. */
class StreamFailure extends Error {
  constructor(readonly original: unknown) {
    super('the report stream failed')
  }
}

/** The answer to one report request. */
export interface ReportResult<Row> {
  report: ReportName
  server: string
  /** The window as requested, and as sent (`date_ini`, `date_end`). */
  window: { from: Date; to: Date; dateIni: string; dateEnd: string }
  /** 200, or 404 for an empty window. */
  status: number
  /** Built on first read: a caller that uses `items` (the poller) never pays for them. */
  rows: Row[]
  /**
   * The `data` items exactly as parsed from the JSON, in order, valid or not: for a caller that
   * builds its own records from the upstream shape. Empty when the request streamed them.
   */
  items: readonly unknown[]
  /** Items that could not be read as rows, for the dead-letter topic. */
  invalidRows: InvalidRow[]
  /** Items in `data` (rows plus invalid rows). */
  rowCount: number
  /** Messages in all rows. */
  messageCount: number
  /** Bytes of the response body. */
  bytes: number
  rowCap: number
  /** True when `rowCount` or `messageCount` reached `rowCap`: the upstream may have cut the answer silently, so split the window and ask again. */
  hitRowCap: boolean
  /** Attempts used, 1 when the first succeeded. */
  attempts: number
  durationMs: number
}

/** A client for one Wolkvox operation (one server code and token). */
export interface WolkvoxClient {
  readonly server: string
  readonly timeZone: string
  /** Where requests go, without the query. */
  readonly endpoint: string
  /**
   * Reads one window of a report, retrying retriable failures with jittered exponential backoff
   * (honouring `Retry-After`) within the retry budget and the request's deadline.
   *
   * @throws AppError `WOLKVOX_REQUEST_INVALID` before sending anything; otherwise the code of the
   * last failure (see the README table), whose `details` carry `status`, `attempt`,
   * `upstreamMessage` and `retryAfterMs` where known. Never the token.
   */
  fetchReport<R extends ReportName>(
    request: ReportRequest<R>,
  ): Promise<ReportResult<ReportRowTypes[R]>>
  /** Closes the client's own connection pool (not a dispatcher passed in). */
  close(): Promise<void>
}

/** A response body as read: judged by the caller, its items kept or handed out already. */
interface BodyRead {
  bytes: number
  /** Over `maxResponseBytes`: abandoned. */
  exceeded: boolean
  /** The start of the body, for the upstream's words in an error. */
  head: string
  /** The body as JSON (a 200's `data` stands for its items, already taken), or undefined. */
  json: unknown
  /** Where the body stopped being JSON. */
  parsePosition: number | undefined
  /** The items, when not streamed. */
  items: unknown[]
  counted: { rowCount: number; messageCount: number; invalidRows: InvalidRow[] }
  /** Hands out the streamed items still held back. */
  flush: () => Promise<void>
}

const MAX_WINDOW_SECONDS = 31 * 86_400
const ERROR_BODY_LIMIT = 64 * 1024
const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  delay(ms, undefined, signal === undefined ? undefined : { signal })

type AbortCause = 'signal' | 'deadline' | 'attempt-timeout'

/**
 * Creates a client for the Reports Manager API of one operation. Validates everything up front.
 *
 * @throws AppError `WOLKVOX_SERVER_INVALID` (the server code is not 1–6 digits),
 * `WOLKVOX_BASE_URL_INVALID`, `CONFIG_INVALID` (an unknown zone or a bad number).
 */
export function createWolkvoxClient(options: WolkvoxClientOptions): WolkvoxClient {
  const server = validateServer(options.server)
  const url = reportsManagerUrl(server, options.baseUrl)
  const timeZone = options.timeZone ?? 'America/Bogota'
  if (!isTimeZone(timeZone)) {
    throw new AppError('CONFIG_INVALID', `Unknown time zone ${JSON.stringify(timeZone)}`)
  }
  const retry: RetryOptions = {
    ...defaultRetryOptions,
    ...Object.fromEntries(Object.entries(options.retry ?? {}).filter(([, v]) => v !== undefined)),
  }
  const numbers = {
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    headersTimeoutMs: options.headersTimeoutMs ?? 75_000,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 30_000,
    attemptTimeoutMs: options.attemptTimeoutMs ?? 180_000,
    maxResponseBytes: options.maxResponseBytes ?? 64 * 1024 * 1024,
    rowCap: options.rowCap ?? 60_000,
    upstreamCallLimitMs: options.upstreamCallLimitMs ?? 60_000,
    ...retry,
  }
  for (const [name, value] of Object.entries(numbers)) {
    const positive = name !== 'upstreamCallLimitMs' && !name.endsWith('DelayMs')
    const whole = name === 'maxAttempts' || name === 'rowCap' || name === 'maxResponseBytes'
    if (
      !Number.isFinite(value) ||
      value < 0 ||
      (positive && value === 0) ||
      (whole && !Number.isInteger(value))
    ) {
      throw new AppError(
        'CONFIG_INVALID',
        `Wolkvox client option ${name} must be a ${positive ? 'positive' : 'non-negative'} ${whole ? 'whole ' : ''}number, not ${String(value)}`,
      )
    }
  }
  const ownAgent =
    options.dispatcher === undefined
      ? new Agent({ connect: { timeout: numbers.connectTimeoutMs } })
      : undefined
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as Agent)
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? defaultSleep
  const random = options.random ?? Math.random
  const redact = createRedactor([options.token.reveal()])
  const { logger } = options
  const onAttempt = (event: AttemptEvent): void => {
    try {
      options.onAttempt?.(event)
    } catch (error) {
      // A metrics hook must never change the outcome of a call.
      logger?.warn('wolkvox onAttempt hook threw', { err: error })
    }
  }

  const fail = (
    code: ErrorCode,
    message: string,
    details: Record<string, unknown>,
    cause?: unknown,
  ): AppError =>
    new AppError(code, redact(message), {
      details,
      ...(cause === undefined ? {} : { cause: sanitizeCause(cause, redact) }),
    })

  function validate(req: ReportRequest): { dateIni: string; dateEnd: string } {
    const problem = (text: string): AppError =>
      fail('WOLKVOX_REQUEST_INVALID', `Invalid ${String(req.report)} request: ${text}`, {
        report: String(req.report),
      })
    if (!Object.hasOwn(rowParsers, req.report)) {
      throw problem(
        `unknown report ${JSON.stringify(String(req.report))} (known: ${Object.keys(rowParsers).join(', ')})`,
      )
    }
    const from = req.from instanceof Date ? req.from.getTime() : NaN
    const to = req.to instanceof Date ? req.to.getTime() : NaN
    if (Number.isNaN(from) || Number.isNaN(to)) throw problem('from and to must be valid Dates')
    const dateIni = formatWallClock(from, timeZone)
    const dateEnd = formatWallClock(to, timeZone)
    if (!/^\d{14}$/.test(dateIni) || !/^\d{14}$/.test(dateEnd)) {
      throw problem(`times must fall in years 1000–9999 (got ${dateIni} and ${dateEnd})`)
    }
    const fromSecond = Math.floor(from / 1000)
    const toSecond = Math.floor(to / 1000)
    if (fromSecond > toSecond) {
      throw problem(`start ${dateIni} is after end ${dateEnd}`)
    }
    if (toSecond - fromSecond + 1 > MAX_WINDOW_SECONDS) {
      throw problem(`window ${dateIni}–${dateEnd} is longer than 31 days`)
    }
    return { dateIni, dateEnd }
  }

  /** A non-200 body: small, read whole up to a limit (over it, the start is enough to judge). */
  async function readErrorBody(body: Dispatcher.ResponseData['body']): Promise<BodyRead> {
    const chunks: Buffer[] = []
    let bytes = 0
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.length
      if (bytes > ERROR_BODY_LIMIT) {
        discard(body)
        chunks.push(chunk.subarray(0, chunk.length - (bytes - ERROR_BODY_LIMIT)))
        break
      }
      chunks.push(chunk)
    }
    const text = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
    let json: unknown
    // Only where parsing stopped is kept: V8's message quotes the body, which is personal data.
    let parsePosition: number | undefined
    try {
      json = JSON.parse(text)
    } catch (error) {
      const message = error instanceof Error ? error.message : ''
      const position = /position (\d+)/.exec(message)
      if (position !== null) parsePosition = Number(position[1])
      else if (message.includes('end of JSON')) parsePosition = text.length
    }
    return {
      bytes,
      exceeded: false,
      head: text.slice(0, 2_000),
      json,
      parsePosition,
      items: [],
      counted: { rowCount: 0, messageCount: 0, invalidRows: [] },
      flush: () => Promise.resolve(),
    }
  }

  /**
   * A 200 body, parsed as it arrives: the `data` items are checked and counted one by one, and
   * either kept (in `items`) or handed to the caller's stream in groups. Stops reading at the size
   * cap or at the first byte that is not JSON. Past the row cap, a stream gets no more items (the
   * window is split and asked again): the rest is only counted.
   */
  async function readData(
    body: Dispatcher.ResponseData['body'],
    report: ReportName,
    stream: ReportStream | undefined,
  ): Promise<BodyRead> {
    const { check } = rowParsers[report]
    const parser = createDataStreamParser()
    const counted: BodyRead['counted'] = { rowCount: 0, messageCount: 0, invalidRows: [] }
    const kept: unknown[] = []
    let group: unknown[] = []
    let groupMessages = 0
    let groups = 0
    let head = ''
    let bytes = 0
    const handOut = async (): Promise<void> => {
      if (stream === undefined || group.length === 0) return
      const items = group
      group = []
      groupMessages = 0
      groups++
      try {
        await stream.onItems(items)
      } catch (error) {
        throw new StreamFailure(error)
      }
    }
    const take = async (items: unknown[]): Promise<void> => {
      for (const item of items) {
        const checked = check(item)
        if (checked.ok) counted.messageCount += checked.messageCount
        else {
          counted.invalidRows.push({
            index: counted.rowCount,
            reason: checked.reason,
            raw: itemJsonText(item),
          })
        }
        counted.rowCount++
        if (stream === undefined) kept.push(item)
        else if (counted.rowCount <= numbers.rowCap && counted.messageCount < numbers.rowCap) {
          group.push(item)
          groupMessages += checked.ok ? checked.messageCount : 1
          const size = groups === 0 ? (stream.firstMessages ?? 1_000) : (stream.messages ?? 5_000)
          if (groupMessages >= size) await handOut()
        }
      }
    }
    const read = (extra: Partial<BodyRead>): BodyRead => ({
      bytes,
      exceeded: false,
      head,
      json: undefined,
      parsePosition: undefined,
      items: kept,
      counted,
      flush: handOut,
      ...extra,
    })
    for await (const chunk of body as AsyncIterable<Buffer>) {
      bytes += chunk.length
      if (bytes > numbers.maxResponseBytes) {
        // Stop reading at once: memory stays bounded whatever the upstream sends.
        discard(body)
        return read({ exceeded: true })
      }
      if (head.length < 2_000) head += chunk.subarray(0, 2_000).toString('utf8')
      let items: unknown[]
      try {
        items = parser.push(chunk)
      } catch (error) {
        if (!(error instanceof DataStreamError)) throw error
        discard(body)
        return read({ parsePosition: error.position })
      }
      await take(items)
    }
    try {
      const { envelope, dataCount } = parser.end()
      // The judge sees `data` as long as it was; its items went out (or into `kept`) already.
      const json =
        dataCount !== undefined && typeof envelope === 'object' && envelope !== null
          ? { ...envelope, data: new Array<unknown>(dataCount) }
          : envelope
      return read({ json, head: head.replace(/^\uFEFF/, '') })
    } catch (error) {
      if (!(error instanceof DataStreamError)) throw error
      return read({ parsePosition: error.position })
    }
  }

  function transportError(
    error: unknown,
    abortCause: AbortCause | undefined,
    base: Record<string, unknown>,
    phase: 'headers' | 'body',
  ): AppError {
    if (abortCause === 'signal') {
      return fail(
        'WOLKVOX_ABORTED',
        `Wolkvox ${String(base.report)} call aborted by the caller`,
        base,
        error,
      )
    }
    if (abortCause === 'deadline') {
      return fail(
        'WOLKVOX_DEADLINE_EXCEEDED',
        `Wolkvox ${String(base.report)} call aborted at the caller's deadline while waiting for the ${phase}`,
        base,
        error,
      )
    }
    if (abortCause === 'attempt-timeout') {
      return fail(
        'WOLKVOX_TIMEOUT',
        `Wolkvox ${String(base.report)} attempt took longer than ${numbers.attemptTimeoutMs} ms`,
        { ...base, phase },
        error,
      )
    }
    const code = errorCode(error)
    if (
      code === 'UND_ERR_HEADERS_TIMEOUT' ||
      code === 'UND_ERR_BODY_TIMEOUT' ||
      code === 'UND_ERR_CONNECT_TIMEOUT'
    ) {
      const what =
        code === 'UND_ERR_HEADERS_TIMEOUT'
          ? `no response headers within ${numbers.headersTimeoutMs} ms`
          : code === 'UND_ERR_BODY_TIMEOUT'
            ? `no body data for ${numbers.bodyTimeoutMs} ms`
            : 'could not connect in time'
      return fail(
        'WOLKVOX_TIMEOUT',
        `Wolkvox ${String(base.report)} call timed out: ${what}`,
        { ...base, phase },
        error,
      )
    }
    if (isTlsFailure(error)) {
      return fail(
        'WOLKVOX_TLS_ERROR',
        `Wolkvox's TLS certificate did not verify (${code ?? 'TLS'})`,
        base,
        error,
      )
    }
    return fail(
      'WOLKVOX_NETWORK_ERROR',
      `Wolkvox ${String(base.report)} call failed in the network while reading the ${phase}${code === undefined ? '' : ` (${code})`}`,
      { ...base, phase },
      error,
    )
  }

  async function attemptOnce<R extends ReportName>(
    req: ReportRequest<R>,
    sent: { dateIni: string; dateEnd: string },
    attempt: number,
    deadlineAt: () => number,
  ): Promise<{
    result: Omit<ReportResult<ReportRowTypes[R]>, 'attempts' | 'durationMs' | 'rows'>
    /** Builds the rows (once checked, every valid item parses). */
    rows: () => ReportRowTypes[R][]
    status: number
  }> {
    const base = { report: req.report, server, attempt }
    const target = new URL(url)
    target.searchParams.set('api', req.report)
    target.searchParams.set('date_ini', sent.dateIni)
    target.searchParams.set('date_end', sent.dateEnd)

    const controller = new AbortController()
    let abortCause: AbortCause | undefined
    const abort = (cause: AbortCause): void => {
      abortCause ??= cause
      controller.abort()
    }
    const onSignal = (): void => abort('signal')
    req.signal?.addEventListener('abort', onSignal, { once: true })
    const timers = [setTimeout(() => abort('attempt-timeout'), numbers.attemptTimeoutMs)]
    // Checked again when it comes: a deadline that moved (a renewed lease) is waited for anew.
    const watchDeadline = (): void => {
      const leftMs = deadlineAt() - now()
      if (!Number.isFinite(leftMs)) return
      if (leftMs <= 0) abort('deadline')
      // setTimeout holds 2^31 - 1 ms at most (a longer delay fires at once).
      else timers.push(setTimeout(watchDeadline, Math.min(leftMs, 2 ** 31 - 1)))
    }
    watchDeadline()
    let response: Dispatcher.ResponseData | undefined
    try {
      try {
        response = await request(target, {
          dispatcher,
          method: 'GET',
          headers: {
            'wolkvox-token': options.token.reveal(),
            wolkvox_server: server,
            accept: 'application/json',
          },
          signal: controller.signal,
          headersTimeout: numbers.headersTimeoutMs,
          bodyTimeout: numbers.bodyTimeoutMs,
        })
      } catch (error) {
        throw transportError(error, abortCause, base, 'headers')
      }
      const status = response.statusCode
      const withStatus = { ...base, status }
      if (status >= 300 && status < 400) {
        const location = response.headers.location
        throw fail(
          'WOLKVOX_REDIRECT_REFUSED',
          `Wolkvox answered ${status} (a redirect) to the ${req.report} call; redirects are never followed`,
          { ...withStatus, location: redact(String(location ?? '')).slice(0, 200) },
        )
      }
      const declared = Number(response.headers['content-length'])
      if (status === 200 && Number.isFinite(declared) && declared > numbers.maxResponseBytes) {
        throw fail(
          'WOLKVOX_RESPONSE_TOO_LARGE',
          `Wolkvox announced a ${declared}-byte ${req.report} response, over maxResponseBytes (${numbers.maxResponseBytes}); ask for a smaller window`,
          { ...withStatus, limitBytes: numbers.maxResponseBytes, announcedBytes: declared },
        )
      }
      let read: BodyRead
      try {
        read =
          status === 200
            ? await readData(response.body, req.report, req.stream)
            : await readErrorBody(response.body)
      } catch (error) {
        if (error instanceof StreamFailure) throw error
        throw transportError(error, abortCause, withStatus, 'body')
      }
      if (read.exceeded) {
        throw fail(
          'WOLKVOX_RESPONSE_TOO_LARGE',
          `The ${req.report} response passed maxResponseBytes (${numbers.maxResponseBytes}) and was abandoned; ask for a smaller window`,
          { ...withStatus, limitBytes: numbers.maxResponseBytes, receivedBytes: read.bytes },
        )
      }
      const verdict = judgeAnswer({ status, text: read.head, json: read.json })
      if (verdict.kind === 'error') {
        const upstreamMessage = redact(verdict.upstreamText).slice(0, 200)
        const retryAfterMs = parseRetryAfterMs(response.headers['retry-after'], now())
        throw fail(
          verdict.code,
          `Wolkvox answered ${verdict.status}${upstreamMessage === '' ? '' : ` "${upstreamMessage}"`} to the ${req.report} call for ${sent.dateIni}–${sent.dateEnd}: ${verdict.explanation}`,
          {
            ...base,
            status: verdict.status,
            upstreamMessage,
            bytes: read.bytes,
            ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            ...(read.parsePosition === undefined ? {} : { jsonErrorAt: read.parsePosition }),
          },
        )
      }
      const rows = verdict.kind === 'rows'
      // What is still held back goes out once the body is judged sound.
      if (rows) await read.flush()
      const { parse } = rowParsers[req.report]
      const items = rows ? read.items : []
      const rowCap = numbers.rowCap
      const counted = rows ? read.counted : { rowCount: 0, messageCount: 0, invalidRows: [] }
      return {
        status: rows ? 200 : 404,
        rows: () =>
          items.flatMap((item) => {
            const parsed = parse(item)
            return parsed.ok ? [parsed.row] : []
          }),
        result: {
          report: req.report,
          server,
          window: { from: req.from, to: req.to, ...sent },
          status: rows ? 200 : 404,
          items,
          invalidRows: counted.invalidRows,
          rowCount: counted.rowCount,
          messageCount: counted.messageCount,
          bytes: read.bytes,
          rowCap,
          hitRowCap: counted.rowCount >= rowCap || counted.messageCount >= rowCap,
        },
      }
    } finally {
      for (const timer of timers) clearTimeout(timer)
      req.signal?.removeEventListener('abort', onSignal)
      // Frees the socket whatever happened; a no-op once the body was read to the end.
      if (response !== undefined) discard(response.body)
    }
  }

  async function fetchReport<R extends ReportName>(
    req: ReportRequest<R>,
  ): Promise<ReportResult<ReportRowTypes[R]>> {
    const sent = validate(req)
    const startedMs = now()
    const given = req.deadline
    const deadlineAt =
      typeof given === 'function'
        ? () => {
            const ms = given()
            return Number.isNaN(ms) ? -Infinity : ms
          }
        : () => (given === undefined ? Infinity : Number(given))
    if (Number.isNaN(deadlineAt()) || (typeof given === 'function' && Number.isNaN(given()))) {
      throw fail(
        'WOLKVOX_REQUEST_INVALID',
        `Invalid ${req.report} request: deadline is not a valid time`,
        {
          report: req.report,
        },
      )
    }
    const aborted = (attempt: number, cause?: unknown): AppError =>
      fail(
        'WOLKVOX_ABORTED',
        `Wolkvox ${req.report} call aborted by the caller`,
        { report: req.report, server, attempt },
        cause,
      )
    let last: AppError | undefined
    for (let attempt = 1; ; attempt += 1) {
      if (req.signal?.aborted) throw aborted(attempt, req.signal.reason)
      if (now() >= deadlineAt()) {
        throw (
          last ??
          fail(
            'WOLKVOX_DEADLINE_EXCEEDED',
            `The caller's deadline passed before the ${req.report} call could start`,
            {
              report: req.report,
              server,
              attempt,
            },
          )
        )
      }
      const attemptStartedMs = now()
      let outcome: { status: number | undefined; code: ErrorCode | null; bytes: number }
      try {
        const { result, rows: readRows, status } = await attemptOnce(req, sent, attempt, deadlineAt)
        outcome = { status, code: null, bytes: result.bytes }
        onAttempt({
          report: req.report,
          attempt,
          durationMs: now() - attemptStartedMs,
          ...outcome,
        })
        const durationMs = now() - startedMs
        logger?.debug('wolkvox report fetched', {
          server,
          report: req.report,
          dateIni: sent.dateIni,
          dateEnd: sent.dateEnd,
          rows: result.rowCount,
          messages: result.messageCount,
          bytes: result.bytes,
          hitRowCap: result.hitRowCap,
          attempts: attempt,
          durationMs,
        })
        let rows: ReportRowTypes[R][] | undefined
        return Object.defineProperty({ ...result, attempts: attempt, durationMs }, 'rows', {
          get: () => (rows ??= readRows()),
          enumerable: true,
        }) as ReportResult<ReportRowTypes[R]>
      } catch (error) {
        // The caller's own failure: theirs to handle, never retried here.
        if (error instanceof StreamFailure) throw error.original
        const failure =
          error instanceof AppError
            ? error
            : fail(
                'WOLKVOX_NETWORK_ERROR',
                `Wolkvox ${req.report} call failed unexpectedly`,
                { report: req.report, server, attempt },
                error,
              )
        const status =
          typeof failure.details.status === 'number' ? failure.details.status : undefined
        const bytes = typeof failure.details.bytes === 'number' ? failure.details.bytes : 0
        onAttempt({
          report: req.report,
          attempt,
          durationMs: now() - attemptStartedMs,
          status,
          code: failure.code,
          bytes,
        })
        last = failure
        if (
          !failure.retriable ||
          failure.code === 'WOLKVOX_DEADLINE_EXCEEDED' ||
          attempt >= retry.maxAttempts
        ) {
          throw failure
        }
        let waitMs = backoffDelayMs(attempt, retry, random)
        const retryAfterMs = failure.details.retryAfterMs
        if (typeof retryAfterMs === 'number') waitMs = Math.max(waitMs, retryAfterMs)
        if (failure.code === 'WOLKVOX_MAINTENANCE')
          waitMs = Math.max(waitMs, retry.maintenanceDelayMs)
        if (failure.code === 'WOLKVOX_TIMEOUT' || failure.code === 'WOLKVOX_NETWORK_ERROR') {
          // The upstream may still be serving the abandoned call: do not overlap it on the token.
          waitMs = Math.max(waitMs, attemptStartedMs + numbers.upstreamCallLimitMs - now())
        }
        const resumeMs = now() + waitMs
        if (resumeMs >= deadlineAt() || resumeMs - startedMs > retry.maxElapsedMs) throw failure
        logger?.warn('wolkvox call failed; retrying', {
          server,
          report: req.report,
          code: failure.code,
          status,
          attempt,
          delayMs: waitMs,
        })
        try {
          await sleep(waitMs, req.signal)
        } catch (sleepError) {
          if (req.signal?.aborted) throw aborted(attempt + 1, req.signal.reason)
          throw sleepError
        }
        await req.stream?.onRetry?.()
      }
    }
  }

  return {
    server,
    timeZone,
    endpoint: url.toString(),
    fetchReport,
    close: async () => {
      await ownAgent?.close()
    },
  }
}

function discard(body: Dispatcher.ResponseData['body']): void {
  // Destroying an unread body emits an abort error that nobody else listens to.
  body.on('error', () => undefined)
  body.destroy()
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

const tlsCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

function isTlsFailure(error: unknown): boolean {
  for (
    let current = error, depth = 0;
    current !== undefined && current !== null && depth < 5;
    depth += 1
  ) {
    const code = errorCode(current)
    if (code !== undefined && tlsCodes.has(code)) return true
    current = (current as { cause?: unknown }).cause
  }
  return false
}
