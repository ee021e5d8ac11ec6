import { redisKeys, toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import { localDay } from './local-day.js'
import type { Range } from './window.js'

/** Why a poll ran: the schedule, the sweep, a backfill or `once`. */
export type PollPurpose = 'live' | 'sweep' | 'backfill' | 'once'

/** An operation paused by an error that needs a person or a new day. */
export interface Pause {
  reason: string
  /** Epoch ms when polling may start again. */
  untilMs: number
  sinceMs: number
  /**
   * `tokenKeyPart` of the token it was paused with (the hash already in the lock's key names): a
   * new token ends the pause at once.
   */
  token: string
}

/** The last successful poll of one purpose. */
export interface PollSuccess {
  atMs: number
  window: Range | null
  published: number
}

/** What the last polls of an operation did, for `status`. */
export interface OperationRecord {
  /** The last success per purpose (`live`, `sweep`, `backfill`, `once`). */
  lastSuccess: Partial<Record<PollPurpose, PollSuccess>>
  lastError: { atMs: number; purpose: string; code: string; message: string } | null
  /** Failed polls in a row, per purpose, and the watermark they could not move past. */
  failing: Partial<
    Record<PollPurpose, { failures: number; sinceMs: number; watermarkMs: number | null }>
  >
}

const PURPOSES: readonly PollPurpose[] = ['live', 'sweep', 'backfill', 'once']
const QUOTA_TTL_MS = 3 * 86_400_000
// Status and coverage are small and rebuilt by polling; they go away with an operation removed.
const RECORD_TTL_MS = 30 * 86_400_000
const MAX_COVERAGE_INTERVALS = 2_000

/*
 * KEYS[1] the operation's call counter for one local day
 * ARGV[1] the limit (calls) this call may take the counter to
 * ARGV[2] the counter's TTL in ms
 * Returns {1, used} when the call is counted and may go, {0, used} when the limit is reached.
 */
const TAKE_CALL = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return {0, used} end
used = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, used}
`

/*
 * KEYS[1] the coverage sorted set: members "<fromSec>:<toSec>", score fromSec, disjoint and
 *         never adjacent (a merged set of inclusive second ranges)
 * ARGV[1] fromSec, ARGV[2] toSec of the range just covered
 * ARGV[3] the most intervals to keep (the oldest go first), ARGV[4] the key's TTL in ms
 * Returns the number of intervals after the merge.
 */
const ADD_COVERAGE = `
local from = tonumber(ARGV[1])
local to = tonumber(ARGV[2])
local candidates = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', to + 1)
for i = #candidates, 1, -1 do
  local member = candidates[i]
  local sep = string.find(member, ':', 1, true)
  local s = tonumber(string.sub(member, 1, sep - 1))
  local e = tonumber(string.sub(member, sep + 1))
  if e + 1 < from then break end
  if s < from then from = s end
  if e > to then to = e end
  redis.call('ZREM', KEYS[1], member)
end
redis.call('ZADD', KEYS[1], from, string.format('%d:%d', from, to))
local count = redis.call('ZCARD', KEYS[1])
if count > tonumber(ARGV[3]) then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, count - tonumber(ARGV[3]) - 1)
  count = tonumber(ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return count
`

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw toRedisError(error)
  }
}

const num = (text: string | undefined): number | null =>
  text === undefined || text === '' ? null : Number(text)

/** The operation's bookkeeping in Redis: quota, pause, last outcomes, coverage, token priority. */
export interface OperationStore {
  readonly server: string
  /** The operation's local day (`YYYYMMDD`) at `nowMs`. */
  quotaDay(nowMs?: number): string
  /** Calls counted today. */
  quotaUsed(nowMs?: number): Promise<number>
  /** Counts one call if that keeps today's count within `limit`. */
  takeCall(limit: number): Promise<{ ok: boolean; used: number }>
  /** Counts a call made anyway (a retry inside the client). */
  countCall(): Promise<void>
  pause(pause: Pause): Promise<void>
  /** The pause in force for the token whose `tokenKeyPart` is `token`, or null. */
  readPause(token: string, nowMs?: number): Promise<Pause | null>
  clearPause(): Promise<void>
  recordSuccess(input: {
    atMs: number
    purpose: PollPurpose
    window: Range | null
    published: number
  }): Promise<void>
  /** Records a failure; returns the failures in a row for `purpose`. */
  recordFailure(input: {
    atMs: number
    purpose: PollPurpose
    code: string
    message: string
    watermarkMs: number | null
  }): Promise<number>
  readRecord(): Promise<OperationRecord>
  /** Remembers that `range` is wholly on the topic. */
  addCoverage(range: Range): Promise<void>
  /** Covered ranges, merged, oldest first. */
  readCoverage(): Promise<Range[]>
  /** A live poll wants the token: backfills hold back until it had it (or `ttlMs` passed). */
  wantToken(ttlMs: number): Promise<void>
  tokenServed(): Promise<void>
  isTokenWanted(): Promise<boolean>
}

/**
 * The Redis keys of one operation's bookkeeping (`report` is the report polled). Every one carries
 * the operation's `{server}` hash tag, like its lock and watermark: one cluster slot.
 */
export function operationKeys(
  server: string,
  report: string,
): {
  /** The call counter of local day `day` (`YYYYMMDD`). */
  quota: (day: string) => string
  pause: string
  record: string
  coverage: string
  wanted: string
} {
  return {
    quota: (day) => redisKeys.key(server, 'quota', day),
    pause: redisKeys.key(server, 'paused'),
    record: redisKeys.key(server, 'status', report),
    coverage: redisKeys.key(server, 'coverage', report),
    wanted: redisKeys.key(server, 'live-wanted'),
  }
}

/** The {@link OperationStore} of one operation, on a default-role connection. */
export function createOperationStore(options: {
  redis: Redis
  server: string
  report: string
  zone: string
  now?: () => number
}): OperationStore {
  const { redis, server, report, zone } = options
  const now = options.now ?? Date.now
  const keys = operationKeys(server, report)
  const quotaKey = (nowMs: number): string => keys.quota(localDay(nowMs, zone))
  const { pause: pauseKey, record: recordKey, coverage: coverageKey, wanted: wantedKey } = keys

  return {
    server,
    quotaDay: (nowMs = now()) => localDay(nowMs, zone),
    quotaUsed: (nowMs = now()) =>
      call(async () => Number((await redis.get(quotaKey(nowMs))) ?? '0')),
    takeCall: (limit) =>
      call(async () => {
        const [ok, used] = (await redis.eval(
          TAKE_CALL,
          1,
          quotaKey(now()),
          String(limit),
          String(QUOTA_TTL_MS),
        )) as [number, number]
        return { ok: ok === 1, used: Number(used) }
      }),
    countCall: () =>
      call(async () => {
        // One key for both, even when the local day turns between two reads of the clock.
        const key = quotaKey(now())
        await redis.multi().incr(key).pexpire(key, QUOTA_TTL_MS).exec()
      }),
    pause: (pause) =>
      call(async () => {
        const ttl = Math.max(1000, pause.untilMs - now())
        await redis
          .multi()
          .del(pauseKey)
          .hset(pauseKey, {
            reason: pause.reason,
            untilMs: String(pause.untilMs),
            sinceMs: String(pause.sinceMs),
            token: pause.token,
          })
          .pexpire(pauseKey, ttl)
          .exec()
      }),
    readPause: (token, nowMs = now()) =>
      call(async () => {
        const h = await redis.hgetall(pauseKey)
        const untilMs = num(h.untilMs)
        if (h.reason === undefined || untilMs === null || untilMs <= nowMs || h.token !== token)
          return null
        return { reason: h.reason, untilMs, sinceMs: num(h.sinceMs) ?? 0, token }
      }),
    clearPause: () =>
      call(async () => {
        await redis.del(pauseKey)
      }),
    recordSuccess: ({ atMs, purpose, window, published }) =>
      call(async () => {
        await redis
          .multi()
          .hset(recordKey, {
            [`success.${purpose}.at`]: String(atMs),
            [`success.${purpose}.from`]: window ? String(window.fromMs) : '',
            [`success.${purpose}.to`]: window ? String(window.toMs) : '',
            [`success.${purpose}.published`]: String(published),
          })
          .hdel(
            recordKey,
            `failing.${purpose}.count`,
            `failing.${purpose}.since`,
            `failing.${purpose}.watermark`,
          )
          .pexpire(recordKey, RECORD_TTL_MS)
          .exec()
      }),
    recordFailure: ({ atMs, purpose, code, message, watermarkMs }) =>
      call(async () => {
        const results = await redis
          .multi()
          .hset(recordKey, {
            'error.at': String(atMs),
            'error.purpose': purpose,
            'error.code': code,
            'error.message': message.slice(0, 500),
            [`failing.${purpose}.watermark`]: watermarkMs === null ? '' : String(watermarkMs),
          })
          .hsetnx(recordKey, `failing.${purpose}.since`, String(atMs))
          .hincrby(recordKey, `failing.${purpose}.count`, 1)
          .pexpire(recordKey, RECORD_TTL_MS)
          .exec()
        return Number(results?.[2]?.[1] ?? 1)
      }),
    readRecord: () =>
      call(async () => {
        const h = await redis.hgetall(recordKey)
        const record: OperationRecord = { lastSuccess: {}, lastError: null, failing: {} }
        for (const purpose of PURPOSES) {
          const failures = num(h[`failing.${purpose}.count`])
          if (failures !== null) {
            record.failing[purpose] = {
              failures,
              sinceMs: num(h[`failing.${purpose}.since`]) ?? 0,
              watermarkMs: num(h[`failing.${purpose}.watermark`]),
            }
          }
          const at = num(h[`success.${purpose}.at`])
          if (at !== null) {
            const from = num(h[`success.${purpose}.from`])
            const to = num(h[`success.${purpose}.to`])
            record.lastSuccess[purpose] = {
              atMs: at,
              window: from === null || to === null ? null : { fromMs: from, toMs: to },
              published: num(h[`success.${purpose}.published`]) ?? 0,
            }
          }
        }
        if (h['error.at'] !== undefined) {
          record.lastError = {
            atMs: Number(h['error.at']),
            purpose: h['error.purpose'] ?? '',
            code: h['error.code'] ?? '',
            message: h['error.message'] ?? '',
          }
        }
        return record
      }),
    addCoverage: (range) =>
      call(async () => {
        await redis.eval(
          ADD_COVERAGE,
          1,
          coverageKey,
          String(Math.floor(range.fromMs / 1000)),
          String(Math.floor(range.toMs / 1000)),
          String(MAX_COVERAGE_INTERVALS),
          String(RECORD_TTL_MS),
        )
      }),
    readCoverage: () =>
      call(async () => {
        const members = await redis.zrange(coverageKey, 0, -1)
        return members.map((m) => {
          const [from, to] = m.split(':')
          return { fromMs: Number(from) * 1000, toMs: Number(to) * 1000 }
        })
      }),
    wantToken: (ttlMs) =>
      call(async () => {
        await redis.set(wantedKey, '1', 'PX', Math.max(1, ttlMs))
      }),
    tokenServed: () =>
      call(async () => {
        await redis.del(wantedKey)
      }),
    isTokenWanted: () => call(async () => (await redis.exists(wantedKey)) === 1),
  }
}

/**
 * The holes in `covered` (merged, oldest first) between `fromMs` and `toMs`, both inclusive at
 * one-second resolution.
 */
export function coverageGaps(covered: readonly Range[], fromMs: number, toMs: number): Range[] {
  const gaps: Range[] = []
  let next = fromMs
  for (const r of covered) {
    if (r.toMs < next) continue
    if (r.fromMs > toMs) break
    if (r.fromMs > next) gaps.push({ fromMs: next, toMs: Math.min(toMs, r.fromMs - 1000) })
    next = Math.max(next, r.toMs + 1000)
    if (next > toMs) break
  }
  if (next <= toMs) gaps.push({ fromMs: next, toMs })
  return gaps
}
