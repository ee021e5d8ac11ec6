import type { IncomingMessage, ServerResponse } from 'node:http'
import { AppError } from '@wolkvox-chat-stream/errors'
import {
  createHttpServer,
  createMetricsRegistry,
  type Logger,
  type MetricsRegistry,
} from '@wolkvox-chat-stream/observability'
import {
  createCallLog,
  findOverlaps,
  preciseNowMs,
  tokenFingerprint,
  type Overlap,
  type SimCall,
} from './calls.js'
import { createDataset, type Dataset, type Selection } from './dataset.js'
import type { ChatExpectation } from './expectations.js'
import type { ExpectedEvent } from './expected-events.js'
import {
  answeringFaults,
  createFaultPlan,
  parseFaultSpec,
  type Fault,
  type FaultSpec,
} from './faults.js'
import {
  applyRowCap,
  errorBody,
  renderBody,
  texts,
  toItems,
  withWrongTypes,
  type ChatItem,
  type RowCapUnit,
} from './responses.js'
import {
  createOperationSet,
  DEFAULT_FIRST_SERVER,
  MAX_OPERATIONS,
  MAX_SERVER_CODE,
  operationToken,
  type OperationSet,
  type OperationStatus,
} from './operations.js'
import { formatCompact, isTimeZone, parseCompact, toLocalSec } from './wall-clock.js'

/** The API path, as upstream. */
export const reportsManagerPath = '/api/v2/reports_manager.php'

/** Options for {@link startSimulator}. Every field has a default. */
export interface SimulatorOptions {
  /** Default 0 (a free port); the command line defaults to 8089. */
  port?: number
  /** Default `127.0.0.1`. */
  host?: string
  /** Same seed, same data. Default 1. */
  seed?: number
  /** About this many chats start per hour. Default 60. */
  chatsPerHour?: number
  /** Accepted `wolkvox-token` values. Default `['sim-token']`. Ignored with `operations`. */
  tokens?: readonly string[]
  /**
   * Serve this many operations (1..10,000) instead of one: operation `i` (from 0) has server code
   * `String(firstServer + i)`, token `sim-token-<server>` (not a secret: derived from the code)
   * and data from its own seed (`operationSeed(seed, server)`); a call is routed by its
   * `wolkvox_server` header. Default: one operation, any `tokens`, the header ignored.
   */
  operations?: number
  /** The first operation's server code, with `operations` only. Default 100001. */
  firstServer?: number
  /** Zone of `date`, `date_ini`, `date_end`. Default `America/Bogota`. */
  timeZone?: string
  /** How far back the history reaches from the start. Default 7 days. */
  historyMs?: number
  /** Select chats by closing time (as chat_1 does) or messages by their own time. Default `closing`. */
  selection?: Selection
  /** Records per response before silent truncation. Default 60000. */
  rowCap?: number
  /** What the cap counts. Default `message`. */
  rowCapUnit?: RowCapUnit
  /** Calls per token per local day. Default 10000. */
  dailyQuota?: number
  /** Simultaneous calls allowed per token. Default 2 (Wolkvox's limits page). */
  concurrentLimit?: number
  /** Server time added to every API call. Default 0. */
  latencyMs?: number
  /** Data becomes visible this long after it happens. Default 2000. */
  visibilityLagMs?: number
  /**
   * Late data, as Wolkvox fills `feeling` only some time after a chat is readable: a read earlier
   * than this long after a late chat closed gets its messages with `feeling: ""` (where the final
   * data has a feeling) and, for about half of the late chats (picked by the seed), `customer_id`
   * (and `customer_phone`) `""`; a read from then on gets the final values. The read's time is
   * the simulated clock (`now`). `truth()` always gives the final values; each call counts the
   * messages it served early in `lateMessages`. Default 0: no late data.
   */
  lateDataMs?: number
  /** The share of chats (0..1, picked per chat by the seed) whose data comes late. Default 1. */
  lateShare?: number
  /** A fault for the whole run, applied to each call with probability `faultRate` (default 1). */
  fault?: Fault
  faultRate?: number
  /** The simulated clock (epoch ms). Default `Date.now`. */
  now?: () => number
  /**
   * Generates and renders a throwaway batch of chats before listening, so the first real window
   * does not pay for the JIT's warm-up. Default false (the command line turns it on).
   */
  warmUp?: boolean
  logger?: Logger
  /** Where `GET /metrics` reads from. Default a private registry without process metrics. */
  metrics?: MetricsRegistry
}

/** The options in force, tokens left out. */
export interface SimulatorSettings {
  seed: number
  chatsPerHour: number
  tokenCount: number
  /** With `operations` only: how many, and the first one's server code. */
  operations?: number
  firstServer?: number
  timeZone: string
  historyStartMs: number
  selection: Selection
  rowCap: number
  rowCapUnit: RowCapUnit
  dailyQuota: number
  concurrentLimit: number
  latencyMs: number
  visibilityLagMs: number
  lateDataMs: number
  lateShare: number
}

/**
 * A window for {@link RunningSimulator.truth}: local `YYYYmmddHHiiss` strings or instants, and
 * with `operations`, the server code of the operation (ignored without).
 */
export type TruthWindow = ({ dateIni: string; dateEnd: string } | { from: Date; to: Date }) & {
  selection?: Selection
  server?: string
}

/**
 * Exactly what a window must return: every chat and message, in serving order, uncapped, with the
 * final values of late data (what a read after `lateDataMs` gets).
 */
export interface Truth {
  selection: Selection
  dateIni: string
  dateEnd: string
  chatCount: number
  messageCount: number
  data: ChatItem[]
  /**
   * One per chat of `data`, in the same order: its expected quality figures, known by
   * construction (README: Expectations). Whole chats, whatever part of them `data` holds.
   */
  expectations: ChatExpectation[]
  /**
   * One per message of `data`, in the same order (chat by chat, then conversation order): the
   * `ChatMessage` event it must become, known from what the simulator meant to write (README:
   * Expected events). `position` and `conversation_length` are those of this window.
   */
  events: ExpectedEvent[]
}

/** A simulator listening on a port. */
export interface RunningSimulator {
  /** `http://host:port`: the base URL for the client. */
  readonly url: string
  readonly port: number
  readonly settings: Readonly<SimulatorSettings>
  /** Every call so far (the most recent 100,000). */
  calls(): SimCall[]
  clearCalls(): void
  /** Calls on one token that were in flight at the same time. */
  overlaps(): Overlap[]
  /** Messages served before their late values were filled, over the calls in the log. */
  lateMessagesServed(): number
  /** Queues faults for the next calls. @throws AppError `CONFIG_INVALID` for a malformed fault. */
  injectFaults(...faults: FaultSpec[]): void
  clearFaults(): void
  /**
   * @throws AppError `CONFIG_INVALID` for a malformed window, or with `operations`, a window
   * without `server` or with a code not served.
   */
  truth(window: TruthWindow): Truth
  /**
   * With `operations`, each operation in server-code order: whether its data was created yet, its
   * calls counted today and quota left (never its token). Without, an empty list.
   */
  operations(): OperationStatus[]
  /** Forgets calls, queued faults and used quota. */
  reset(): void
  /** Stops listening and cuts every held call; never rejects. */
  close(): Promise<void>
}

/** Options that determine data and truth, for {@link computeTruth}. */
export interface TruthOptions {
  seed: number
  chatsPerHour: number
  timeZone: string
  historyStartMs: number
  selection: Selection
  visibilityLagMs: number
  /** The clock reading (epoch ms) at which the window is asked. */
  nowMs: number
}

const MAX_RANGE_SEC = 31 * 86_400

function resolveWindow(
  window: TruthWindow,
  timeZone: string,
): { fromLocalSec: number; toLocalSec: number; dateIni: string; dateEnd: string } {
  if ('from' in window) {
    const from = toLocalSec(Math.floor(window.from.getTime() / 1000), timeZone)
    const to = toLocalSec(Math.floor(window.to.getTime() / 1000), timeZone)
    if (Number.isNaN(from) || Number.isNaN(to)) {
      throw new AppError('CONFIG_INVALID', 'Truth window: from and to must be valid Dates')
    }
    return {
      fromLocalSec: from,
      toLocalSec: to,
      dateIni: formatCompact(from),
      dateEnd: formatCompact(to),
    }
  }
  const from = parseCompact(window.dateIni)
  const to = parseCompact(window.dateEnd)
  if (from === undefined || to === undefined) {
    throw new AppError(
      'CONFIG_INVALID',
      'Truth window: date_ini and date_end must be YYYYmmddHHiiss',
    )
  }
  return { fromLocalSec: from, toLocalSec: to, dateIni: window.dateIni, dateEnd: window.dateEnd }
}

function truthFrom(
  dataset: Dataset,
  window: TruthWindow,
  selection: Selection,
  visibleUntilSec: number,
): Truth {
  const resolved = resolveWindow(window, dataset.options.timeZone)
  const chosen = window.selection ?? selection
  const selected = dataset.select({ ...resolved, selection: chosen, visibleUntilSec })
  const data = toItems(selected)
  return {
    selection: chosen,
    dateIni: resolved.dateIni,
    dateEnd: resolved.dateEnd,
    chatCount: data.length,
    messageCount: data.reduce((sum, item) => sum + item.conversation.length, 0),
    data,
    expectations: selected.map(({ chat }) => dataset.expectationOf(chat)),
    events: selected.flatMap((item) => dataset.expectedEventsOf(item)),
  }
}

/**
 * The messages a window must return for a simulator with these options at clock reading `nowMs`,
 * without a running server: the same function the simulator's `GET /__sim/truth` uses.
 *
 * @throws AppError `CONFIG_INVALID` for a malformed window.
 */
export function computeTruth(options: TruthOptions, window: TruthWindow): Truth {
  const dataset = createDataset(options)
  return truthFrom(
    dataset,
    window,
    options.selection,
    visibleUntil(options.nowMs, options.visibilityLagMs),
  )
}

function warmUp(timeZone: string): void {
  const dataset = createDataset({ seed: 0x5eed, chatsPerHour: 1_000, timeZone, historyStartMs: 0 })
  const selected = dataset.select({
    fromLocalSec: parseCompact('20200101000000') as number,
    toLocalSec: parseCompact('20200101035959') as number,
    selection: 'closing',
    visibleUntilSec: Date.parse('2020-01-03T00:00:00Z') / 1000,
  })
  Buffer.byteLength(renderBody(applyRowCap(selected, 60_000, 'message').selected, 200, 0))
}

const visibleUntil = (nowMs: number, lagMs: number): number => Math.floor((nowMs - lagMs) / 1000)

function validated(options: SimulatorOptions): SimulatorSettings & { tokens: readonly string[] } {
  const problems: string[] = []
  const int = (
    name: string,
    value: number | undefined,
    fallback: number,
    min: number,
    max: number,
  ): number => {
    const v = value ?? fallback
    if (!Number.isSafeInteger(v) || v < min || v > max)
      problems.push(`${name} must be a whole number in ${min}..${max}`)
    return v
  }
  const now = options.now ?? Date.now
  const seed = int('seed', options.seed, 1, 0, 2 ** 52)
  const chatsPerHour = int('chatsPerHour', options.chatsPerHour, 60, 0, 1_000_000)
  const historyMs = int('historyMs', options.historyMs, 7 * 86_400_000, 0, 366 * 86_400_000)
  const rowCap = int('rowCap', options.rowCap, 60_000, 1, 10_000_000)
  const dailyQuota = int('dailyQuota', options.dailyQuota, 10_000, 0, 1_000_000_000)
  const concurrentLimit = int('concurrentLimit', options.concurrentLimit, 2, 1, 1_000)
  const latencyMs = int('latencyMs', options.latencyMs, 0, 0, 600_000)
  const visibilityLagMs = int('visibilityLagMs', options.visibilityLagMs, 2_000, 0, 86_400_000)
  const lateDataMs = int('lateDataMs', options.lateDataMs, 0, 0, 31 * 86_400_000)
  const lateShare = options.lateShare ?? 1
  if (!(lateShare >= 0 && lateShare <= 1)) problems.push('lateShare must be in 0..1')
  const timeZone = options.timeZone ?? 'America/Bogota'
  if (!isTimeZone(timeZone)) problems.push(`timeZone ${JSON.stringify(timeZone)} is unknown`)
  const selection = options.selection ?? 'closing'
  if (selection !== 'closing' && selection !== 'message')
    problems.push('selection must be closing or message')
  const rowCapUnit = options.rowCapUnit ?? 'message'
  if (rowCapUnit !== 'message' && rowCapUnit !== 'chat')
    problems.push('rowCapUnit must be message or chat')
  const tokens = options.tokens ?? ['sim-token']
  if (tokens.some((token) => token === '')) problems.push('tokens must not be empty')
  const operations =
    options.operations === undefined
      ? undefined
      : int('operations', options.operations, 1, 1, MAX_OPERATIONS)
  const firstServer = int(
    'firstServer',
    options.firstServer,
    DEFAULT_FIRST_SERVER,
    0,
    MAX_SERVER_CODE,
  )
  if (operations === undefined && options.firstServer !== undefined) {
    problems.push('firstServer needs operations')
  }
  if (operations !== undefined && firstServer + operations - 1 > MAX_SERVER_CODE) {
    problems.push(`firstServer + operations - 1 must be at most ${MAX_SERVER_CODE} (6 digits)`)
  }
  const faultRate = options.faultRate ?? 1
  if (!(faultRate >= 0 && faultRate <= 1)) problems.push('faultRate must be in 0..1')
  if (options.fault !== undefined) {
    try {
      parseFaultSpec(options.fault)
    } catch (error) {
      problems.push((error as Error).message)
    }
  }
  if (problems.length > 0) {
    throw new AppError(
      'CONFIG_INVALID',
      `Invalid simulator options:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    )
  }
  // Whole hours, so the same options give the same history whenever they are read.
  const historyStartMs = Math.floor((now() - historyMs) / 3_600_000) * 3_600_000
  return {
    seed,
    chatsPerHour,
    tokenCount: operations ?? tokens.length,
    ...(operations === undefined ? {} : { operations, firstServer }),
    tokens,
    timeZone,
    historyStartMs,
    selection,
    rowCap,
    rowCapUnit,
    dailyQuota,
    concurrentLimit,
    latencyMs,
    visibilityLagMs,
    lateDataMs,
    lateShare,
  }
}

const sendJson = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

async function readJsonBody(req: IncomingMessage, limit = 1_048_576): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw new AppError('CONFIG_INVALID', 'Request body too large')
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new AppError('CONFIG_INVALID', 'Request body is not JSON', { cause: error })
  }
}

/**
 * Starts a faithful fake of `reports_manager.php?api=chat_2` on `host:port`, with a control API
 * under `/__sim/` (faults, calls, truth) and `/healthz`, `/readyz`, `/metrics`.
 *
 * @throws AppError `CONFIG_INVALID` for bad options, `HTTP_LISTEN_FAILED` when the port is taken.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const { tokens, ...settings } = validated(options)
  const now = options.now ?? Date.now
  const logger = options.logger
  const accepted = new Set(tokens)
  // One operation (the default) reads one dataset, made now; many read theirs, made on first use.
  const served: { kind: 'one'; dataset: Dataset } | { kind: 'many'; group: OperationSet } =
    settings.operations === undefined
      ? { kind: 'one', dataset: createDataset(settings) }
      : {
          kind: 'many',
          group: createOperationSet(
            settings,
            settings.operations,
            settings.firstServer ?? DEFAULT_FIRST_SERVER,
          ),
        }
  const callLog = createCallLog()
  const faults = createFaultPlan(options.fault, options.faultRate ?? 1, settings.seed)
  const inFlight = new Map<string, number>()
  const quotaUsed = new Map<string, number>()
  const open = new Set<ServerResponse>()
  const registry = options.metrics ?? createMetricsRegistry({ collectDefaultMetrics: false })
  const callsTotal = registry.counter<'status' | 'fault'>({
    name: `${registry.prefix}simulator_calls_total`,
    help: 'Calls to reports_manager.php by the status answered (none when nothing was) and fault applied.',
    labelNames: ['status', 'fault'],
  })
  let closing = false

  const visibleUntilSec = (): number => visibleUntil(now(), settings.visibilityLagMs)
  /** The local day quota is counted in, `YYYYmmdd`. */
  const today = (): string =>
    formatCompact(toLocalSec(Math.floor(now() / 1000), settings.timeZone)).slice(0, 8)

  /**
   * Whether a call with this token and `wolkvox_server` header is let in. With many operations the
   * token must be the one of the operation the header names: a token of another operation, an
   * unknown code and a missing header are refused alike, as the real host of an unknown code
   * knows no such token either.
   */
  const accepts = (token: string, server: string | null): boolean =>
    served.kind === 'one'
      ? accepted.has(token)
      : server !== null && served.group.has(server) && token === operationToken(server)

  /** The dataset a call with this header reads (after {@link accepts}). */
  const datasetOf = (server: string | null): Dataset | undefined =>
    served.kind === 'one'
      ? served.dataset
      : server === null
        ? undefined
        : served.group.dataset(server)

  /** The dataset of a truth for `server` (ignored with one operation). */
  function truthDataset(server: string | undefined): Dataset {
    if (served.kind === 'one') return served.dataset
    const { group } = served
    const codes = `server codes ${group.firstServer}..${group.firstServer + group.count - 1}`
    if (server === undefined || server === '') {
      throw new AppError(
        'CONFIG_INVALID',
        `Truth: server is required: this simulator serves ${group.count} operations (${codes})`,
      )
    }
    const dataset = group.dataset(server)
    if (dataset === undefined) {
      throw new AppError(
        'CONFIG_INVALID',
        `Truth: server ${JSON.stringify(server)} is not one of this simulator's operations (${codes})`,
      )
    }
    return dataset
  }

  function operationStatuses(): OperationStatus[] {
    if (served.kind === 'one') return []
    const day = today()
    return served.group.servers().map((server) => {
      const used = quotaUsed.get(`${day}|${operationToken(server)}`) ?? 0
      return {
        server,
        built: served.group.built(server),
        callsToday: used,
        quotaLeft: Math.max(0, settings.dailyQuota - used),
      }
    })
  }

  /** Waits `ms`, or less when the response closes first; true when it closed. */
  const hold = (res: ServerResponse, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      if (res.destroyed) return resolve(true)
      const timer = setTimeout(() => {
        res.off('close', onClose)
        resolve(false)
      }, ms)
      const onClose = (): void => {
        clearTimeout(timer)
        resolve(true)
      }
      res.once('close', onClose)
    })

  function send(
    res: ServerResponse,
    call: SimCall,
    status: number,
    body: string,
    spoil: Fault | undefined,
    headers: Record<string, string> = {},
  ): void {
    call.status = status
    const head = { 'content-type': 'application/json; charset=utf-8', ...headers }
    if (spoil?.kind !== 'truncated' && spoil?.kind !== 'disconnect' && spoil?.kind !== 'slow') {
      // The common path hands the string to the socket as is: no 16 MB copy into a Buffer first.
      res.writeHead(status, { ...head, 'content-length': Buffer.byteLength(body) })
      res.end(body)
      return
    }
    const buffer = Buffer.from(body)
    if (spoil.kind === 'truncated') {
      const cut = buffer.subarray(0, Math.max(1, Math.floor(buffer.length / 2)))
      res.writeHead(status, { ...head, 'content-length': cut.length })
      res.end(cut)
      return
    }
    if (spoil.kind === 'disconnect') {
      res.writeHead(status, { ...head, 'content-length': buffer.length })
      res.write(buffer.subarray(0, Math.floor(buffer.length / 2)), () => res.destroy())
      return
    }
    const chunkBytes = spoil.chunkBytes ?? 64
    const intervalMs = spoil.intervalMs ?? 200
    res.writeHead(status, { ...head, 'content-length': buffer.length })
    let offset = 0
    const timer = setInterval(() => {
      const chunk = buffer.subarray(offset, offset + chunkBytes)
      offset += chunk.length
      if (offset >= buffer.length) {
        clearInterval(timer)
        res.end(chunk)
      } else {
        res.write(chunk)
      }
    }, intervalMs)
    res.once('close', () => clearInterval(timer))
  }

  function streamHuge(res: ServerResponse, call: SimCall, bytes: number): void {
    call.status = 200
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
    const head = JSON.stringify({ code: 200, error: null, msg: '1 records were found' }).slice(
      0,
      -1,
    )
    const prefix = `${head},"data":[{"conn_id":"huge-${call.id}","agent_name":"Laura Gómez","customer_name":"Ana Pérez","conversation":[{"channel":"web","from":"CUSTOMER","from_name":"Ana Pérez","to_name":"Laura Gómez","date":"2025-02-11 10:22:33","message":"data:image/png;base64,`
    const suffix = '","customer_id":"1020304050","feeling":"neutral"}]}]}'
    const chunk = Buffer.alloc(64 * 1024, 'A')
    let left = Math.max(0, bytes - prefix.length - suffix.length)
    res.write(prefix)
    const pump = (): void => {
      while (left > 0 && !res.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left)
        left -= piece.length
        if (!res.write(piece)) {
          res.once('drain', pump)
          return
        }
      }
      if (!res.destroyed) res.end(suffix)
    }
    pump()
  }

  function answerFault(res: ServerResponse, call: SimCall, fault: Fault): void {
    switch (fault.kind) {
      case 'server-error': {
        const status = fault.status ?? 500
        call.status = status
        const html = `<html><head><title>${status}</title></head><body><h1>${status} Server Error</h1></body></html>`
        res.writeHead(status, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(html),
        })
        res.end(html)
        return
      }
      case 'rate-limited':
        send(res, call, 429, errorBody(429, 'TOO MANY REQUESTS'), undefined, {
          'retry-after': String(fault.retryAfterSeconds ?? 1),
        })
        return
      case 'maintenance':
        send(res, call, 403, errorBody(403, texts.maintenance), undefined)
        return
      case 'redirect':
        call.status = 302
        res.writeHead(302, {
          location:
            fault.location ?? `https://wv0010.wolkvox.com.evil.example${reportsManagerPath}`,
          'content-length': 0,
        })
        res.end()
        return
      case 'response':
        send(res, call, fault.status, fault.body ?? '', undefined, fault.headers ?? {})
        return
      case 'huge':
        streamHuge(res, call, fault.bytes ?? 300 * 1024 * 1024)
        return
      case 'no-answer':
        // Holds the call until the client gives up or the simulator closes.
        return
      default:
        return
    }
  }

  async function serveApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const header = req.headers['wolkvox-token']
    const token = typeof header === 'string' && header !== '' ? header : undefined
    const serverHeader = req.headers['wolkvox_server']
    const server = typeof serverHeader === 'string' && serverHeader !== '' ? serverHeader : null
    // Calls in flight are counted per token, and with many operations per token and server code:
    // a token sent to another operation's host does not take a place of its own operation's.
    const flightKey =
      token === undefined ? undefined : served.kind === 'one' ? token : `${server ?? ''}|${token}`
    const params = url.searchParams
    const call = callLog.start({
      token: token === undefined ? null : tokenFingerprint(token),
      server,
      api: params.get('api'),
      dateIni: params.get('date_ini'),
      dateEnd: params.get('date_end'),
      startedAtMs: preciseNowMs(),
    })
    open.add(res)
    if (flightKey !== undefined) inFlight.set(flightKey, (inFlight.get(flightKey) ?? 0) + 1)
    const started = performance.now()
    const finish = (): void => {
      if (call.endedAtMs !== null) return
      call.endedAtMs = preciseNowMs()
      call.outcome = res.writableFinished ? 'completed' : 'aborted'
      open.delete(res)
      if (flightKey !== undefined) {
        const left = (inFlight.get(flightKey) ?? 1) - 1
        if (left <= 0) inFlight.delete(flightKey)
        else inFlight.set(flightKey, left)
      }
      callsTotal.inc({
        status: call.status === null ? 'none' : String(call.status),
        fault: call.fault ?? 'none',
      })
      logger?.debug('wolkvox call', {
        id: call.id,
        token: call.token,
        server: call.server,
        api: call.api,
        dateIni: call.dateIni,
        dateEnd: call.dateEnd,
        status: call.status,
        outcome: call.outcome,
        fault: call.fault,
        chats: call.chats,
        messages: call.messages,
        bytes: call.bytes,
        ...(call.lateMessages > 0 ? { lateMessages: call.lateMessages } : {}),
        ms: Math.round(performance.now() - started),
      })
    }
    res.once('finish', finish)
    res.once('close', finish)

    const fault = faults.next()
    call.fault = fault?.kind ?? null
    if (fault !== undefined && answeringFaults.has(fault.kind)) return answerFault(res, call, fault)
    const reply = (status: number, text: string): void =>
      send(res, call, status, errorBody(status, text), fault)

    if (req.method !== 'GET') return reply(405, 'METHOD NOT ALLOWED')
    if (token === undefined || flightKey === undefined) return reply(401, texts.tokenMissing)
    if (!accepts(token, server)) return reply(403, texts.tokenInvalid)
    if ((inFlight.get(flightKey) ?? 0) > settings.concurrentLimit) {
      return reply(403, texts.concurrent(settings.concurrentLimit))
    }
    const quotaKey = `${today()}|${token}`
    const used = quotaUsed.get(quotaKey) ?? 0
    if (used >= settings.dailyQuota) return reply(403, texts.quotaExceeded)
    quotaUsed.set(quotaKey, used + 1)

    const api = params.get('api')
    if (api === null || api === '') return reply(400, texts.parametersRequired)
    if (api !== 'chat_2') return reply(400, texts.apiUnknown)
    const dateIni = params.get('date_ini')
    const dateEnd = params.get('date_end')
    if (dateIni === null || dateEnd === null || dateIni === '' || dateEnd === '') {
      return reply(400, texts.parametersRequired)
    }
    const fromLocalSec = parseCompact(dateIni)
    const toLocal = parseCompact(dateEnd)
    if (fromLocalSec === undefined || toLocal === undefined) return reply(400, texts.badDate)
    // Upstream says "no records" for an inverted window too: only local validation tells them apart.
    if (fromLocalSec > toLocal) return reply(404, texts.noRecords)
    if (toLocal - fromLocalSec + 1 > MAX_RANGE_SEC) return reply(400, texts.rangeTooLong)

    if (settings.latencyMs > 0 && (await hold(res, settings.latencyMs))) return
    const dataset = datasetOf(server)
    if (dataset === undefined) return reply(403, texts.tokenInvalid)
    const selected = dataset.select(
      {
        fromLocalSec,
        toLocalSec: toLocal,
        selection: settings.selection,
        visibleUntilSec: visibleUntilSec(),
        lateAtSec: Math.floor(now() / 1000),
      },
      { records: settings.rowCap + 1, unit: settings.rowCapUnit },
    )
    if (selected.length === 0) return reply(404, texts.noRecords)
    const capped = applyRowCap(selected, settings.rowCap, settings.rowCapUnit)
    // Wolkvox sends `code` as a number or as a string; both happen.
    const code = call.id % 3 === 0 ? '200' : 200
    const msg = `${capped.records} records were found`
    let body: string
    if (fault?.kind === 'wrong-types') {
      body = JSON.stringify({
        code,
        error: null,
        msg,
        data: withWrongTypes(toItems(capped.selected)),
      })
    } else if (fault?.kind === 'wrong-shape') {
      const data = Object.fromEntries(toItems(capped.selected).map((item) => [item.conn_id, item]))
      body = JSON.stringify({ code, error: null, msg, data })
    } else {
      body = renderBody(capped.selected, code, capped.records)
    }
    call.chats = capped.selected.length
    call.messages = capped.selected.reduce((sum, item) => sum + item.messages.length, 0)
    if (settings.lateDataMs > 0) {
      for (const item of capped.selected) {
        for (const message of item.messages) if (message.pending === true) call.lateMessages += 1
      }
    }
    call.bytes = Buffer.byteLength(body)
    send(res, call, 200, body, fault)
  }

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const route = `${req.method ?? 'GET'} ${url.pathname}`
    try {
      switch (route) {
        case 'GET /__sim/calls': {
          const server = url.searchParams.get('server')
          const calls =
            server === null
              ? callLog.list()
              : callLog.list().filter((call) => call.server === server)
          sendJson(res, 200, { calls, overlaps: findOverlaps(calls).length })
          return true
        }
        case 'DELETE /__sim/calls':
          callLog.clear()
          sendJson(res, 200, { ok: true })
          return true
        case 'GET /__sim/faults':
          sendJson(res, 200, faults.describe())
          return true
        case 'POST /__sim/faults': {
          const body = await readJsonBody(req)
          const list = Array.isArray(body)
            ? body
            : typeof body === 'object' &&
                body !== null &&
                Array.isArray((body as { faults?: unknown }).faults)
              ? (body as { faults: unknown[] }).faults
              : [body]
          faults.push(...list.map(parseFaultSpec))
          sendJson(res, 200, faults.describe())
          return true
        }
        case 'DELETE /__sim/faults':
          faults.clear()
          sendJson(res, 200, faults.describe())
          return true
        case 'GET /__sim/truth': {
          const selection = url.searchParams.get('selection')
          if (selection !== null && selection !== 'closing' && selection !== 'message') {
            throw new AppError('CONFIG_INVALID', 'selection must be closing or message')
          }
          const server = url.searchParams.get('server') ?? undefined
          sendJson(
            res,
            200,
            truthFrom(
              truthDataset(server),
              {
                dateIni: url.searchParams.get('date_ini') ?? '',
                dateEnd: url.searchParams.get('date_end') ?? '',
                ...(selection === null ? {} : { selection }),
              },
              settings.selection,
              visibleUntilSec(),
            ),
          )
          return true
        }
        case 'POST /__sim/reset':
          reset()
          sendJson(res, 200, { ok: true })
          return true
        case 'GET /__sim/settings':
          sendJson(res, 200, settings)
          return true
        case 'GET /__sim/operations':
          if (served.kind === 'one') {
            sendJson(res, 404, {
              error: 'This simulator serves one operation: start it with --operations N for many',
            })
            return true
          }
          sendJson(res, 200, {
            count: served.group.count,
            firstServer: served.group.firstServer,
            built: served.group.builtCount(),
            operations: operationStatuses(),
          })
          return true
        default:
          return false
      }
    } catch (error) {
      if (error instanceof AppError && error.code === 'CONFIG_INVALID') {
        sendJson(res, 400, { error: error.message })
        return true
      }
      throw error
    }
  }

  function reset(): void {
    callLog.clear()
    faults.clear()
    quotaUsed.clear()
  }

  if (options.warmUp === true) warmUp(settings.timeZone)
  const http = createHttpServer({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    registry,
    ...(logger === undefined ? {} : { logger }),
    closeTimeoutMs: 1_000,
    routes: async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://simulator')
      if (url.pathname === reportsManagerPath) {
        await serveApi(req, res, url)
        return true
      }
      if (url.pathname.startsWith('/__sim/')) return control(req, res, url)
      // What a web server says for any other path: not the API's JSON.
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' })
      res.end('<html><body><h1>Not Found</h1></body></html>')
      return true
    },
  })
  const { port } = await http.listen()
  const host = options.host ?? '127.0.0.1'
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host

  return {
    url: `http://${shownHost}:${port}`,
    port,
    settings: Object.freeze({ ...settings }),
    calls: () => callLog.list(),
    clearCalls: () => callLog.clear(),
    overlaps: () => findOverlaps(callLog.list()),
    lateMessagesServed: () => callLog.list().reduce((sum, call) => sum + call.lateMessages, 0),
    injectFaults: (...specs) => faults.push(...specs.map(parseFaultSpec)),
    clearFaults: () => faults.clear(),
    truth: (window) =>
      truthFrom(truthDataset(window.server), window, settings.selection, visibleUntilSec()),
    operations: operationStatuses,
    reset,
    close: async () => {
      if (!closing) {
        closing = true
        // Held calls (no answer, slow, latency) would otherwise keep close() waiting.
        for (const res of open) res.destroy()
      }
      await http.close()
    },
  }
}
