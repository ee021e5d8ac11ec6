import { readFileSync } from 'node:fs'
import {
  optional,
  readConfig,
  readHttpHost,
  readHttpSecurity,
  type HttpSecurity,
  type EnvReader,
  type Env,
  type Secret,
} from '@wolkvox-chat-stream/config'
import { readKafkaSettings, type KafkaSettings } from '@wolkvox-chat-stream/kafka'
import { readRedisTarget, type RedisTarget } from '@wolkvox-chat-stream/redis'
import {
  readSchemaRegistrySettings,
  type SchemaRegistrySettings,
} from '@wolkvox-chat-stream/schema-registry'
import { isValidZone } from './local-time.js'
import {
  baseUrlProblem,
  parseOperationsFile,
  readTokenFile,
  type OperationConfig,
} from './operations-file.js'
import { parseTimeInput } from './time-input.js'

export type { OperationConfig } from './operations-file.js'

/**
 * The daily reserve for live polling: what the schedule still needs today (`auto`), a number of
 * calls, or a share of the budget.
 */
export type QuotaReserve = { auto: true } | { calls: number } | { percent: number }

/** The poller's settings (ARCHITECTURE.md, Configuration). */
export interface PollerConfig {
  operations: OperationConfig[]
  /** `WOLKVOX_OPERATIONS_FILE` when the operations came from a file. */
  operationsFile?: string
  report: 'chat_2'
  intervalMs: number
  lookbackMs: number
  settleLagMs: number
  maxWindowMs: number
  /** How often `run` re-reads the last `sweepLookbackMs` without moving the watermark; 0: never. */
  sweepIntervalMs: number
  sweepLookbackMs: number
  dedupHorizonMs: number
  maxResponseBytes: number
  rowCap: number
  lockTtlMs: number
  /**
   * `REDIS_WAIT_REPLICAS`: replicas the token lease and the watermark must reach (`WAIT`) before
   * they count; unset: 1 on a Redis Cluster (at most the replicas a master has), else 0 (token-lock
   * README).
   */
  redisWaitReplicas?: number
  lockWaitMs: number
  /** Daily calls reserved for live polls (and sweeps): a backfill stops before it touches them. */
  quotaReserve: QuotaReserve
  /** Jobs one `run` process works on at once (different operations; one token is always serial). */
  concurrency: number
  /** After SIGTERM, how long the window in flight may take before it is abandoned. */
  shutdownTimeoutMs: number
  /** Failed polls in a row, the watermark not moving, after which a window is reported stuck. */
  stuckAfter: number
  /**
   * What a poll does when the checkpoint topic holds no checkpoint at or after the watermark (a
   * new cluster, a re-created topic): `stop` (default) refuses with `POLL_CHECKPOINT_MISSING` until
   * an operator runs `rebind`; `repoll` re-polls the operation from `POLL_START` at once.
   */
  onCheckpointMissing: 'stop' | 'repoll'
  /** The ChatMessage schema version written (`POLL_CHAT_MESSAGE_VERSION`): 2, or 1 while migrating. */
  chatMessageVersion: 1 | 2
  backfill: {
    /** A backfill window waits this long for the token, then yields and tries again. */
    lockWaitMs: number
    /** The pause between two backfill windows, so live polls waiting for the token get it. */
    pauseMs: number
  }
  /** Personal-data options (QUALITY.md promise 7); both off by default. */
  privacy: {
    /** Replace `customer_id` and `customer_phone` by HMAC-SHA256(hashKey, value) in hex. */
    hashCustomerIds: boolean
    hashKey?: Secret
    /** Replace inline `data:image/…;base64,…` by `[image sha256=<hex> bytes=<n>]`. */
    redactImages: boolean
  }
  redis: RedisTarget
  /** `SCHEMA_REGISTRY_*`: registry mode (README: Registry mode); undefined: single-object. */
  schemaRegistry?: SchemaRegistrySettings
  kafka: KafkaSettings
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
  httpPort: number
  /** `HTTP_HOST`: the address the HTTP server binds (default `127.0.0.1`). */
  httpHost: string
  /** `HTTP_AUTH_TOKEN_FILE`, `HTTP_METRICS_PUBLIC`, `HTTP_RATE_LIMIT` (README: Security). */
  httpSecurity: HttpSecurity
}

const SERVER = /^[0-9]{1,6}$/

function readToken(r: EnvReader): Secret | undefined {
  const inline = r.secret('WOLKVOX_TOKEN')
  const file = r.string('WOLKVOX_TOKEN_FILE')
  if (inline && file)
    r.report('WOLKVOX_TOKEN_FILE', 'set only one of WOLKVOX_TOKEN and WOLKVOX_TOKEN_FILE')
  if (inline) return inline
  if (file) {
    const read = readTokenFile(file)
    if (typeof read === 'string') r.report('WOLKVOX_TOKEN_FILE', read)
    else return read
  }
  return undefined
}

function readReserve(r: EnvReader): QuotaReserve {
  const text = r.string('POLL_QUOTA_RESERVE', 'auto')
  if (text === 'auto') return { auto: true }
  const percent = /^(\d{1,3})%$/.exec(text)
  if (percent && Number(percent[1]) <= 100) return { percent: Number(percent[1]) }
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return { calls: Number(text) }
  r.report(
    'POLL_QUOTA_RESERVE',
    `"${text}" is not auto, a share such as 20%, nor a number of calls`,
  )
  return { auto: true }
}

/** What the `auto` reserve is computed from. */
export interface ScheduleNeeds {
  /** Milliseconds left in the operation's local day. */
  remainingMs: number
  intervalMs: number
  sweepIntervalMs: number
  sweepLookbackMs: number
  maxWindowMs: number
}

/**
 * The calls of `budget` kept for live polls. `auto` is what the schedule needs for the rest of the
 * local day: one call per poll and `ceil(POLL_SWEEP_LOOKBACK / POLL_MAX_WINDOW)` per sweep, plus
 * a tenth for splits and retries; it shrinks as the day goes by, so a backfill gets what the live
 * feed will not need.
 */
export function reserveCalls(reserve: QuotaReserve, budget: number, needs: ScheduleNeeds): number {
  let calls: number
  if ('auto' in reserve) {
    const polls = Math.ceil(needs.remainingMs / needs.intervalMs)
    const sweeps =
      needs.sweepIntervalMs > 0
        ? Math.ceil(needs.remainingMs / needs.sweepIntervalMs) *
          Math.ceil(needs.sweepLookbackMs / needs.maxWindowMs)
        : 0
    calls = Math.ceil((polls + sweeps) * 1.1)
  } else if ('calls' in reserve) {
    calls = reserve.calls
  } else {
    calls = Math.floor((budget * reserve.percent) / 100)
  }
  return Math.min(budget, calls)
}

/**
 * Reads the poller's configuration from the environment, once, reporting every problem together.
 * The operations come from `WOLKVOX_SERVER` with `WOLKVOX_TOKEN` or `WOLKVOX_TOKEN_FILE` (one
 * operation), or from `WOLKVOX_OPERATIONS_FILE` (several; see operations-file.ts).
 * @throws AppError `CONFIG_INVALID`
 */
export function readPollerConfig(
  env: Env = process.env,
  nowMs: number = Date.now(),
): Readonly<PollerConfig> {
  return readConfig(env, (r) => {
    const timeZone = r.string('WOLKVOX_TIMEZONE', 'America/Bogota')
    if (!isValidZone(timeZone))
      r.report('WOLKVOX_TIMEZONE', `"${timeZone}" is not an IANA time zone such as America/Bogota`)
    const lookbackMs = r.durationMs('POLL_LOOKBACK', '10m')
    const startText = r.string('POLL_START', '1h')
    const start = isValidZone(timeZone) ? parseTimeInput(startText, timeZone, nowMs) : nowMs
    if (typeof start === 'string') r.report('POLL_START', start)
    const baseUrl = r.string('WOLKVOX_BASE_URL')
    const dailyQuota = r.integer('POLL_DAILY_QUOTA', 1000, { min: 1 })

    const operationsFile = r.string('WOLKVOX_OPERATIONS_FILE')
    let operations: OperationConfig[] = []
    if (operationsFile !== undefined) {
      for (const name of ['WOLKVOX_SERVER', 'WOLKVOX_TOKEN', 'WOLKVOX_TOKEN_FILE']) {
        if (r.string(name) !== undefined)
          r.report(name, 'set either WOLKVOX_OPERATIONS_FILE or a single operation, not both')
      }
      let text: string | undefined
      try {
        text = readFileSync(operationsFile, 'utf8')
      } catch {
        r.report('WOLKVOX_OPERATIONS_FILE', `${operationsFile} cannot be read`)
      }
      if (text !== undefined) {
        const parsed = parseOperationsFile(
          operationsFile,
          text,
          env,
          { timeZone, start: startText, dailyQuota, ...(baseUrl ? { baseUrl } : {}) },
          nowMs,
        )
        for (const problem of parsed.problems) r.report('WOLKVOX_OPERATIONS_FILE', problem)
        operations = parsed.operations
      }
    } else {
      const server = r.required(
        'WOLKVOX_SERVER',
        'is required: the operation server code, such as 0010 (or set WOLKVOX_OPERATIONS_FILE)',
      )
      if (server !== '' && !SERVER.test(server))
        r.report('WOLKVOX_SERVER', 'must be 1 to 6 digits, such as 0010')
      const token = readToken(r)
      if (!token && !r.problems.some((p) => p.variable === 'WOLKVOX_TOKEN_FILE')) {
        r.report('WOLKVOX_TOKEN', 'is required (or WOLKVOX_TOKEN_FILE naming a file that holds it)')
      }
      if (baseUrl !== undefined && SERVER.test(server)) {
        const problem = baseUrlProblem(server, baseUrl)
        if (problem !== undefined) r.report('WOLKVOX_BASE_URL', problem)
      }
      if (token && server !== '') {
        operations = [
          {
            server,
            token,
            timeZone,
            startMs: typeof start === 'number' ? start : nowMs,
            dailyQuota,
            ...(baseUrl ? { baseUrl } : {}),
          },
        ]
      }
    }

    const maxWindowMs = r.durationMs('POLL_MAX_WINDOW', '6h')
    // A DST widening adds up to two hours to a request, which must stay within 31 days.
    if (maxWindowMs > 30 * 86_400_000)
      r.report('POLL_MAX_WINDOW', 'must be at most 30d (the upstream allows 31 days per call)')
    // The sweep's lookback bounds how late a change upstream is still seen (and re-published as a
    // new revision); the published set must remember every revision at least that long, or an
    // unchanged re-read would publish again. Subscribers' CONSUMER_EVENT_ID_TTL (4d) must in turn
    // outlast the horizon: another process, so the README says it, nothing here can check it.
    const sweepLookbackMs = r.durationMs('POLL_SWEEP_LOOKBACK', '25h')
    const dedupHorizonMs = r.durationMs('POLL_DEDUP_HORIZON', '3d')
    if (dedupHorizonMs <= Math.max(lookbackMs, sweepLookbackMs)) {
      r.report(
        'POLL_DEDUP_HORIZON',
        'must be longer than POLL_LOOKBACK and POLL_SWEEP_LOOKBACK, or re-reads publish unchanged messages again',
      )
    }
    const intervalMs = r.durationMs('POLL_INTERVAL', '5m')
    if (intervalMs < 1000) r.report('POLL_INTERVAL', 'must be at least 1s')
    const hashCustomerIds = r.boolean('POLL_HASH_CUSTOMER_IDS', false)
    const hashKey = r.secret('POLL_HASH_KEY')
    if (hashCustomerIds && (hashKey === undefined || hashKey.reveal().length < 16)) {
      r.report(
        'POLL_HASH_KEY',
        'POLL_HASH_CUSTOMER_IDS=true needs a secret key of at least 16 characters (keep it: changing it changes every hash)',
      )
    }
    return {
      operations,
      ...(operationsFile === undefined ? {} : { operationsFile }),
      report: 'chat_2' as const,
      intervalMs,
      lookbackMs,
      settleLagMs: r.durationMs('POLL_SETTLE_LAG', '2m'),
      maxWindowMs,
      sweepIntervalMs: r.durationMs('POLL_SWEEP_INTERVAL', '1h'),
      sweepLookbackMs,
      dedupHorizonMs,
      maxResponseBytes: r.integer('POLL_MAX_RESPONSE_BYTES', 64 * 1024 * 1024, { min: 1024 }),
      rowCap: r.integer('POLL_ROW_CAP', 60_000, { min: 1 }),
      // One upstream call may take 60 s of server time; each call must fit in the lease it starts in.
      lockTtlMs: r.durationMs('POLL_LOCK_TTL', '90s'),
      ...(r.string('REDIS_WAIT_REPLICAS') === undefined
        ? {}
        : { redisWaitReplicas: r.integer('REDIS_WAIT_REPLICAS', 0, { min: 0, max: 5 }) }),
      lockWaitMs: r.durationMs('POLL_LOCK_WAIT', '2m'),
      quotaReserve: readReserve(r),
      concurrency: r.integer('POLL_CONCURRENCY', 4, { min: 1, max: 100 }),
      shutdownTimeoutMs: r.durationMs('POLL_SHUTDOWN_TIMEOUT', '20s'),
      stuckAfter: r.integer('POLL_STUCK_AFTER', 3, { min: 1 }),
      // ChatMessage v2 carries `revision`; v1 only while some subscriber cannot read v2 yet.
      chatMessageVersion: Number(r.oneOf('POLL_CHAT_MESSAGE_VERSION', ['2', '1'] as const, '2')) as
        1 | 2,
      onCheckpointMissing: r.oneOf(
        'POLL_ON_CHECKPOINT_MISSING',
        ['stop', 'repoll'] as const,
        'stop',
      ),
      backfill: {
        lockWaitMs: r.durationMs('POLL_BACKFILL_LOCK_WAIT', '5s'),
        pauseMs: r.durationMs('POLL_BACKFILL_PAUSE', '1s'),
      },
      privacy: {
        hashCustomerIds,
        ...(hashKey === undefined ? {} : { hashKey }),
        redactImages: r.boolean('POLL_REDACT_IMAGES', false),
      },
      redis: readRedisTarget(r),
      ...optional('schemaRegistry', readSchemaRegistrySettings(r)),
      kafka: readKafkaSettings(r, 'wolkvox-poller'),
      logLevel: r.oneOf(
        'LOG_LEVEL',
        ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const,
        'info',
      ),
      httpPort: r.integer('HTTP_PORT', 8081, { min: 0, max: 65_535 }),
      httpHost: readHttpHost(r),
      httpSecurity: readHttpSecurity(r),
    }
  })
}
