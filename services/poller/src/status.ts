import { isCluster, toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import type { SchedulerInfo } from './adapters/bullmq-schedule.js'
import { bindingKeys, readBindingState } from './adapters/checkpoint-log.js'
import { listBackfills, type BackfillRecord } from './backfill-store.js'
import type { PollerConfig } from './config.js'
import { checkpointMissingCommands } from './core/poll-operation.js'
import { coverageGaps, operationKeys, type PollPurpose } from './operation-store.js'
import type { OperationHandle } from './runtime.js'
import type { Range } from './window.js'

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString()
const isoRange = (r: Range): { from: string; to: string } => ({
  from: new Date(r.fromMs).toISOString(),
  to: new Date(r.toMs).toISOString(),
})
const MAX_GAPS_SHOWN = 50

/** A window that keeps failing: the watermark (or a backfill) has not moved past it. */
export interface StuckWindow {
  purpose: PollPurpose
  /** The first second not yet on the topic. */
  from: string | null
  failures: number
  since: string | null
  code: string | null
}

/** What `status` prints and `GET /status` answers, per operation. Never a token. */
export interface OperationStatus {
  server: string
  /** Where the operation stands, by {@link classifyOperation} (worst first: see OPERATION_STATES). */
  state: OperationState
  timeZone: string
  /** The last second wholly on the topic, and how far behind now it is. */
  watermark: string | null
  lagSeconds: number | null
  lastSuccess: Record<
    string,
    { at: string; window: { from: string; to: string } | null; published: number }
  >
  lastError: { at: string; purpose: string; code: string; message: string } | null
  paused: { reason: string; since: string; until: string } | null
  lock: { held: boolean; expiresInMs: number | null }
  quota: {
    day: string
    used: number
    budget: number
    reserve: number
    /** Calls left today for live polls, and for backfills (which never touch the reserve). */
    liveLeft: number
    backfillLeft: number
  }
  coverage: {
    intervals: number
    from: string | null
    to: string | null
    /** Holes between the first covered second and the watermark (the first 50). */
    gaps: { from: string; to: string }[]
    gapCount: number
  }
  stuckWindows: StuckWindow[]
  /**
   * The watermark's binding to the checkpoint topic (adapters/checkpoint-log.ts): `bound` when
   * the last checkpoint's place in the log is recorded, `unverified` when not yet (checked by the
   * next poll's full read), `missing` while polling is stopped by `POLL_CHECKPOINT_MISSING`.
   */
  checkpoint: {
    state: 'bound' | 'unverified' | 'missing'
    /** Where the last checkpoint landed: the cluster id, partition and offset. */
    cluster: string | null
    partition: number | null
    offset: number | null
    missing: {
      code: 'POLL_CHECKPOINT_MISSING'
      reason: string
      since: string
      /** The watermark the topic does not back, and the newest one the topic holds. */
      watermark: string
      topicWatermark: string | null
      cluster: string | null
      /** The commands that resolve it (README, "When Kafka is replaced"). */
      resolve: string[]
    } | null
  }
  backfills: BackfillRecord[]
  schedule: { kind: string; everyMs: number | null; next: string | null }[] | null
}

/**
 * Reads the status of one operation from Redis (and the schedule, when given). Works from any
 * process: the `status` command, or `GET /status` of a running poller.
 */
export async function readOperationStatus(input: {
  handle: OperationHandle
  config: Readonly<PollerConfig>
  redis: Redis
  describeSchedule?: (server: string) => Promise<SchedulerInfo[]>
  nowMs?: number
}): Promise<OperationStatus> {
  const { handle, config, redis } = input
  const { operation, store, lock } = handle
  const nowMs = input.nowMs ?? Date.now()
  const [stored, record, pause, used, coverage, pttl, backfills, schedule, binding] =
    await Promise.all([
      lock.readState(`watermark.${config.report}`),
      store.readRecord(),
      store.readPause(handle.tokenHash, nowMs),
      store.quotaUsed(nowMs),
      store.readCoverage(),
      redis.pttl(lock.keys.lock).catch((error: unknown) => {
        throw toRedisError(error)
      }),
      listBackfills(redis, operation.server),
      input.describeSchedule ? input.describeSchedule(operation.server) : Promise.resolve(null),
      readBindingState(redis, operation.server, config.report),
    ])
  const watermarkMs = stored === null ? null : Number(stored)
  const state = classifyOperation(
    {
      watermarkMs,
      failures: Object.fromEntries(
        Object.entries(record.failing).map(([purpose, f]) => [purpose, f.failures]),
      ),
      paused: pause !== null,
      checkpointMissing: binding.missing !== null,
    },
    stateRules(config, nowMs),
  )
  const reserve = handle.reserveAt(nowMs)
  const gapEnd = watermarkMs ?? coverage.at(-1)?.toMs ?? null
  const gaps =
    coverage[0] !== undefined && gapEnd !== null
      ? coverageGaps(coverage, coverage[0].fromMs, gapEnd)
      : []
  const stuck: StuckWindow[] = []
  for (const [purpose, failing] of Object.entries(record.failing)) {
    if (failing.failures < config.stuckAfter) continue
    stuck.push({
      purpose: purpose as PollPurpose,
      from: iso(failing.watermarkMs === null ? null : failing.watermarkMs + 1000),
      failures: failing.failures,
      since: iso(failing.sinceMs),
      code: record.lastError?.purpose === purpose ? record.lastError.code : null,
    })
  }
  for (const backfill of backfills) {
    if (backfill.state === 'running' && backfill.failures >= config.stuckAfter) {
      stuck.push({
        purpose: 'backfill',
        from: backfill.next,
        failures: backfill.failures,
        since: backfill.updatedAt,
        code: backfill.error?.code ?? null,
      })
    }
  }
  return {
    server: operation.server,
    state,
    timeZone: operation.timeZone,
    watermark: iso(watermarkMs),
    lagSeconds: lagSecondsOf(watermarkMs, nowMs),
    lastSuccess: Object.fromEntries(
      Object.entries(record.lastSuccess).map(([purpose, s]) => [
        purpose,
        { at: iso(s.atMs)!, window: s.window ? isoRange(s.window) : null, published: s.published },
      ]),
    ),
    lastError: record.lastError
      ? {
          at: iso(record.lastError.atMs)!,
          purpose: record.lastError.purpose,
          code: record.lastError.code,
          message: record.lastError.message,
        }
      : null,
    paused: pause
      ? { reason: pause.reason, since: iso(pause.sinceMs)!, until: iso(pause.untilMs)! }
      : null,
    lock: { held: pttl > 0 || pttl === -1, expiresInMs: pttl > 0 ? pttl : null },
    quota: {
      day: store.quotaDay(nowMs),
      used,
      budget: handle.budget,
      reserve,
      liveLeft: Math.max(0, handle.budget - used),
      backfillLeft: Math.max(0, handle.budget - reserve - used),
    },
    coverage: {
      intervals: coverage.length,
      from: iso(coverage[0]?.fromMs),
      to: iso(coverage.at(-1)?.toMs),
      gaps: gaps.slice(0, MAX_GAPS_SHOWN).map(isoRange),
      gapCount: gaps.length,
    },
    stuckWindows: stuck,
    checkpoint: {
      state: binding.missing ? 'missing' : binding.location ? 'bound' : 'unverified',
      cluster: binding.location?.cluster ?? null,
      partition: binding.location?.partition ?? null,
      offset: binding.location?.offset ?? null,
      missing: binding.missing
        ? {
            code: 'POLL_CHECKPOINT_MISSING',
            reason: binding.missing.reason,
            since: iso(binding.missing.sinceMs)!,
            watermark: iso(binding.missing.watermarkMs)!,
            topicWatermark: iso(binding.missing.topicWatermarkMs),
            cluster: binding.missing.cluster,
            resolve: checkpointMissingCommands(operation.server, operation.startMs),
          }
        : null,
    },
    backfills,
    schedule: schedule
      ? schedule.map((s) => ({ kind: s.kind, everyMs: s.everyMs, next: iso(s.nextAtMs) }))
      : null,
  }
}

// --- The fleet: states, summary, order and pages (`GET /status`, `GET /status/servers`) ---------

/**
 * Where an operation stands, worst first: the order of `GET /status`. Each operation has one, the
 * first of these that applies:
 * - `checkpoint_missing`: polling is stopped by `POLL_CHECKPOINT_MISSING` until `rebind`;
 * - `paused`: paused for its current token by an error that needs a person or a new day (an
 *   invalid token, a used-up quota);
 * - `failing`: its last live or sweep poll failed (failures since that purpose's last success),
 *   or a window of any purpose failed `POLL_STUCK_AFTER` times in a row (a stuck window);
 * - `lagging`: its watermark is more than {@link lagThresholdSeconds} behind now;
 * - `never_polled`: no watermark yet (a new operation before its first successful poll);
 * - `ok`: none of these.
 */
export const OPERATION_STATES = [
  'checkpoint_missing',
  'paused',
  'failing',
  'lagging',
  'never_polled',
  'ok',
] as const

/** One of {@link OPERATION_STATES}. */
export type OperationState = (typeof OPERATION_STATES)[number]

/** What {@link classifyOperation} needs to know of one operation. */
export interface StateFacts {
  watermarkMs: number | null
  /** Failed polls in a row per purpose, since that purpose's last success (absent: none). */
  failures: Partial<Record<string, number>>
  /** Whether a pause is in force for the operation's current token. */
  paused: boolean
  /** Whether a `POLL_CHECKPOINT_MISSING` refusal is recorded. */
  checkpointMissing: boolean
}

/** The thresholds of {@link classifyOperation}, from the configuration ({@link stateRules}). */
export interface StateRules {
  nowMs: number
  lagThresholdSeconds: number
  stuckAfter: number
}

/** How far `watermarkMs` is behind `nowMs`, in whole seconds; null without a watermark. */
export function lagSecondsOf(watermarkMs: number | null, nowMs: number): number | null {
  return watermarkMs === null ? null : Math.max(0, Math.round((nowMs - watermarkMs) / 1000))
}

/**
 * The lag beyond which an operation is `lagging`: `POLL_SETTLE_LAG` plus three `POLL_INTERVAL`s.
 * An operation polled on time trails now by the settle lag plus at most one interval; the alert
 * `WolkvoxPollerLagging` fires beyond three intervals of lag counted from now (settle lag included).
 */
export function lagThresholdSeconds(
  config: Pick<PollerConfig, 'intervalMs' | 'settleLagMs'>,
): number {
  return Math.round((config.settleLagMs + 3 * config.intervalMs) / 1000)
}

/** The {@link StateRules} of a configuration at `nowMs`. */
export function stateRules(
  config: Pick<PollerConfig, 'intervalMs' | 'settleLagMs' | 'stuckAfter'>,
  nowMs: number,
): StateRules {
  return { nowMs, lagThresholdSeconds: lagThresholdSeconds(config), stuckAfter: config.stuckAfter }
}

/** The state of one operation (see {@link OPERATION_STATES} for the definitions). */
export function classifyOperation(facts: StateFacts, rules: StateRules): OperationState {
  if (facts.checkpointMissing) return 'checkpoint_missing'
  if (facts.paused) return 'paused'
  const failing = Object.entries(facts.failures).some(
    ([purpose, failures = 0]) =>
      (failures > 0 && (purpose === 'live' || purpose === 'sweep')) || failures >= rules.stuckAfter,
  )
  if (failing) return 'failing'
  const lag = lagSecondsOf(facts.watermarkMs, rules.nowMs)
  if (lag === null) return 'never_polled'
  return lag > rules.lagThresholdSeconds ? 'lagging' : 'ok'
}

/** What the summary, the order and the server list need of one operation (few keys, one batch). */
export interface OperationFacts extends StateFacts {
  server: string
  /** Calls counted today (the operation's local day), and its daily budget. */
  quotaUsed: number
  budget: number
  /** The newest success of any purpose. */
  lastSuccessAtMs: number | null
  lastError: { atMs: number; purpose: string; code: string } | null
}

const PURPOSES: readonly PollPurpose[] = ['live', 'sweep', 'backfill', 'once']
/** The fields of the operation's record (operation-store.ts) the facts read. */
const RECORD_FIELDS = [
  ...PURPOSES.map((p) => `failing.${p}.count`),
  ...PURPOSES.map((p) => `success.${p}.at`),
  'error.at',
  'error.purpose',
  'error.code',
]
/** Commands queued per operation by {@link readOperationFacts}. */
const FACT_COMMANDS = 5

const numberOf = (value: unknown): number | null => {
  if (typeof value !== 'string' || value === '') return null
  const n = Number(value)
  return Number.isFinite(n) ? n : null
}

/**
 * Reads the {@link OperationFacts} of `handles` (in their order): five keys per operation, its
 * watermark, its record's failure counts and last success and error times, its pause, today's call
 * counter and its checkpoint refusal, with the same meaning as {@link readOperationStatus} gives
 * them. Every key of one operation carries its `{server}` hash tag (one cluster slot), those of two
 * operations usually not: on a single Redis all of them go in one pipeline (one round trip), on a
 * cluster one pipeline per operation (all sent at once), since a cluster pipeline must stay in one
 * slot.
 */
export async function readOperationFacts(input: {
  handles: readonly OperationHandle[]
  config: Readonly<PollerConfig>
  redis: Redis
  nowMs?: number
}): Promise<OperationFacts[]> {
  const { handles, config, redis } = input
  const nowMs = input.nowMs ?? Date.now()
  const batches = isCluster(redis) ? handles.map((h) => [h]) : [handles]
  const replies = await Promise.all(
    batches.map(async (batch) => {
      if (batch.length === 0) return []
      const pipeline = redis.pipeline()
      for (const handle of batch) {
        const { server } = handle.operation
        const keys = operationKeys(server, config.report)
        pipeline
          .hget(handle.lock.keys.state(`watermark.${config.report}`), 'value')
          .hmget(keys.record, ...RECORD_FIELDS)
          .hmget(keys.pause, 'reason', 'untilMs', 'token')
          .get(keys.quota(handle.store.quotaDay(nowMs)))
          .hget(bindingKeys(server, config.report).missing, 'watermarkMs')
      }
      let results: [Error | null, unknown][] | null
      try {
        results = await pipeline.exec()
      } catch (error) {
        throw toRedisError(error)
      }
      if (results === null || results.length !== batch.length * FACT_COMMANDS)
        throw toRedisError(new Error('the status pipeline was not executed'))
      return results.map(([error, value]) => {
        if (error) throw toRedisError(error)
        return value
      })
    }),
  )
  const values = replies.flat()
  return handles.map((handle, i) => {
    const [watermark, record, pause, quota, missing] = values.slice(
      i * FACT_COMMANDS,
      (i + 1) * FACT_COMMANDS,
    ) as [string | null, (string | null)[], (string | null)[], string | null, string | null]
    const failures: Partial<Record<PollPurpose, number>> = {}
    PURPOSES.forEach((purpose, p) => {
      const count = numberOf(record[p])
      if (count !== null) failures[purpose] = count
    })
    const successes = PURPOSES.map((_, p) => numberOf(record[PURPOSES.length + p])).filter(
      (at): at is number => at !== null,
    )
    const errorAt = numberOf(record[2 * PURPOSES.length])
    const [reason, untilText, token] = pause
    const untilMs = numberOf(untilText)
    return {
      server: handle.operation.server,
      watermarkMs: numberOf(watermark),
      failures,
      // As OperationStore.readPause: in force, and set for the token the operation has now.
      paused: reason !== null && untilMs !== null && untilMs > nowMs && token === handle.tokenHash,
      checkpointMissing: numberOf(missing) !== null,
      quotaUsed: numberOf(quota) ?? 0,
      budget: handle.budget,
      lastSuccessAtMs: successes.length === 0 ? null : Math.max(...successes),
      lastError:
        errorAt === null
          ? null
          : {
              atMs: errorAt,
              purpose: record[2 * PURPOSES.length + 1] ?? '',
              code: record[2 * PURPOSES.length + 2] ?? '',
            },
    }
  })
}

/** The whole fleet at a glance: part of every `GET /status` answer and of `status`. */
export interface FleetSummary {
  /** Operations configured. */
  operations: number
  /** Operations per state, every state present (0 when none). */
  states: Record<OperationState, number>
  /** The lag beyond which an operation is `lagging`: POLL_SETTLE_LAG + 3 × POLL_INTERVAL. */
  lagThresholdSeconds: number
  /** The operation furthest behind, of those with a watermark (the lowest code on a tie). */
  maxLag: { server: string; seconds: number } | null
  /** Calls counted today (each operation's own local day) and the daily budgets, all summed. */
  quota: { used: number; budget: number }
  /** The newest successful poll of any operation and purpose. */
  lastPollAt: string | null
  /** The newest error of any operation (it stays after the operation recovers). */
  lastError: { server: string; at: string; purpose: string; code: string } | null
}

const byServerCode = (a: { server: string }, b: { server: string }): number =>
  a.server < b.server ? -1 : a.server > b.server ? 1 : 0

/** The {@link FleetSummary} of every operation's facts. */
export function summarize(facts: readonly OperationFacts[], rules: StateRules): FleetSummary {
  const states = Object.fromEntries(OPERATION_STATES.map((s) => [s, 0])) as Record<
    OperationState,
    number
  >
  let maxLag: FleetSummary['maxLag'] = null
  let lastPollMs: number | null = null
  let lastError: (OperationFacts['lastError'] & { server: string }) | null = null
  let used = 0
  let budget = 0
  for (const f of [...facts].sort(byServerCode)) {
    states[classifyOperation(f, rules)] += 1
    const lag = lagSecondsOf(f.watermarkMs, rules.nowMs)
    if (lag !== null && (maxLag === null || lag > maxLag.seconds))
      maxLag = { server: f.server, seconds: lag }
    if (f.lastSuccessAtMs !== null && (lastPollMs === null || f.lastSuccessAtMs > lastPollMs))
      lastPollMs = f.lastSuccessAtMs
    if (f.lastError !== null && (lastError === null || f.lastError.atMs > lastError.atMs))
      lastError = { ...f.lastError, server: f.server }
    used += f.quotaUsed
    budget += f.budget
  }
  return {
    operations: facts.length,
    states,
    lagThresholdSeconds: rules.lagThresholdSeconds,
    maxLag,
    quota: { used, budget },
    lastPollAt: iso(lastPollMs),
    lastError:
      lastError === null
        ? null
        : {
            server: lastError.server,
            at: iso(lastError.atMs)!,
            purpose: lastError.purpose,
            code: lastError.code,
          },
  }
}

/** One operation in `GET /status/servers`, and what `GET /status` orders and pages. */
export interface OperationBrief {
  server: string
  state: OperationState
  watermark: string | null
  lagSeconds: number | null
}

/** The {@link OperationBrief} of one operation's facts. */
export function briefOf(facts: OperationFacts, rules: StateRules): OperationBrief {
  return {
    server: facts.server,
    state: classifyOperation(facts, rules),
    watermark: iso(facts.watermarkMs),
    lagSeconds: lagSecondsOf(facts.watermarkMs, rules.nowMs),
  }
}

const STATE_RANK = new Map<OperationState, number>(OPERATION_STATES.map((s, i) => [s, i]))

/** Worst state first (the order of {@link OPERATION_STATES}), then by server code. */
export function worstFirst(
  a: { server: string; state: OperationState },
  b: { server: string; state: OperationState },
): number {
  return STATE_RANK.get(a.state)! - STATE_RANK.get(b.state)! || byServerCode(a, b)
}

/** Where a page of `GET /status` is in the list it was cut from. */
export interface StatusPageInfo {
  offset: number
  limit: number
  /** Operations the filters (`server`, `state`) keep, on every page. */
  total: number
  /** The `offset` of the next page; null on the last one. */
  next: number | null
}

/** `GET /status`'s query, parsed (status-http.ts). */
export interface StatusQuery {
  /** Only this operation. */
  server?: string
  /** Only operations in one of these states. */
  states?: readonly OperationState[]
  /** Default {@link STATUS_DEFAULT_LIMIT}, at most {@link STATUS_MAX_LIMIT}. */
  limit?: number
  offset?: number
}

export const STATUS_DEFAULT_LIMIT = 50
export const STATUS_MAX_LIMIT = 500

/** Filters (`server`, `states`), orders worst first and cuts one page of `briefs`. */
export function selectOperations<T extends { server: string; state: OperationState }>(
  briefs: readonly T[],
  query: StatusQuery,
): { items: T[]; page: StatusPageInfo } {
  const offset = query.offset ?? 0
  const limit = query.limit ?? STATUS_DEFAULT_LIMIT
  const states = query.states === undefined ? undefined : new Set(query.states)
  const kept = briefs
    .filter((b) => query.server === undefined || b.server === query.server)
    .filter((b) => states === undefined || states.has(b.state))
    .sort(worstFirst)
  const items = kept.slice(offset, offset + limit)
  return {
    items,
    page: {
      offset,
      limit,
      total: kept.length,
      next: offset + limit < kept.length ? offset + limit : null,
    },
  }
}

/** `GET /status`: the fleet's summary and one page of full operation statuses. */
export interface StatusPage {
  generatedAt: string
  summary: FleetSummary
  page: StatusPageInfo
  /** Worst first, then by server code; each {@link OperationStatus} as its own read found it. */
  operations: OperationStatus[]
}

/** `GET /status/servers`: the fleet's summary and every operation's state, by server code. */
export interface ServerList {
  generatedAt: string
  summary: FleetSummary
  servers: OperationBrief[]
}

/** The {@link FleetSummary} of `handles` (one batch of reads, {@link readOperationFacts}). */
export async function readFleetSummary(input: {
  handles: readonly OperationHandle[]
  config: Readonly<PollerConfig>
  redis: Redis
  nowMs?: number
}): Promise<FleetSummary> {
  const nowMs = input.nowMs ?? Date.now()
  return summarize(await readOperationFacts({ ...input, nowMs }), stateRules(input.config, nowMs))
}

/**
 * `GET /status`: the summary of every operation in `handles` and the full status
 * ({@link readOperationStatus}) of the operations on the page only; null when `query.server` is
 * not one of them.
 */
export async function readStatusPage(input: {
  handles: readonly OperationHandle[]
  config: Readonly<PollerConfig>
  redis: Redis
  describeSchedule?: (server: string) => Promise<SchedulerInfo[]>
  query: StatusQuery
  nowMs?: number
}): Promise<StatusPage | null> {
  const { handles, config, redis, query } = input
  const byServer = new Map(handles.map((h) => [h.operation.server, h]))
  if (query.server !== undefined && !byServer.has(query.server)) return null
  const nowMs = input.nowMs ?? Date.now()
  const rules = stateRules(config, nowMs)
  const facts = await readOperationFacts({ handles, config, redis, nowMs })
  const { items, page } = selectOperations(
    facts.map((f) => briefOf(f, rules)),
    query,
  )
  const operations = await Promise.all(
    items.map((brief) =>
      readOperationStatus({
        handle: byServer.get(brief.server)!,
        config,
        redis,
        nowMs,
        ...(input.describeSchedule ? { describeSchedule: input.describeSchedule } : {}),
      }),
    ),
  )
  return { generatedAt: iso(nowMs)!, summary: summarize(facts, rules), page, operations }
}

/** `GET /status/servers`: every operation's state by server code (`states` filters), no full read. */
export async function readServerList(input: {
  handles: readonly OperationHandle[]
  config: Readonly<PollerConfig>
  redis: Redis
  states?: readonly OperationState[]
  nowMs?: number
}): Promise<ServerList> {
  const nowMs = input.nowMs ?? Date.now()
  const rules = stateRules(input.config, nowMs)
  const facts = await readOperationFacts({ ...input, nowMs })
  const states = input.states === undefined ? undefined : new Set(input.states)
  const servers = facts
    .map((f) => briefOf(f, rules))
    .filter((b) => states === undefined || states.has(b.state))
    .sort(byServerCode)
  return { generatedAt: iso(nowMs)!, summary: summarize(facts, rules), servers }
}
