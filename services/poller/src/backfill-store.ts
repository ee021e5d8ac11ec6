import { randomBytes } from 'node:crypto'
import { redisKeys, toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import type { Range } from './window.js'

/** Where a backfill stands. */
export type BackfillState = 'running' | 'stopped' | 'failed' | 'done'

/** A backfill's own checkpoint, as `status` shows it. */
export interface BackfillRecord {
  id: string
  from: string
  to: string
  windowMs: number
  /** The first second still to do; null once done. */
  next: string | null
  windowsDone: number
  windowsTotal: number
  published: number
  fetched: number
  state: BackfillState
  /** Failed tries in a row of the window at `next`. */
  failures: number
  error: { code: string; message: string } | null
  startedAt: string | null
  updatedAt: string | null
}

/** The fields a backfill writes as it goes. */
export interface BackfillProgressFields {
  nextMs: number | null
  windowsDone: number
  windowsTotal: number
  published: number
  fetched: number
  state: BackfillState
  failures: number
  error?: { code: string; message: string } | null
}

/*
 * KEYS[1] the runner key of one backfill
 * ARGV[1] this process's random runner value, ARGV[2] TTL in ms
 * Renews the key while it holds ARGV[1], or takes it again when it vanished (a Redis flush).
 * Returns 1 when the key is this runner's, 0 when another runner holds it.
 */
const RENEW_RUNNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] or redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`

/*
 * KEYS[1] the runner key of one backfill
 * ARGV[1] this process's random runner value
 * Deletes the key only while it holds ARGV[1]. Returns 1 when deleted, else 0.
 */
const RELEASE_RUNNER = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`

const RUNNER_TTL_MS = 6_000
const DONE_TTL_MS = 7 * 86_400_000
const RUNNING_TTL_MS = 30 * 86_400_000

async function call<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw toRedisError(error)
  }
}

/** The id of a backfill: its range in whole seconds, so the same command resumes it. */
export const backfillId = (range: Range): string =>
  `${Math.floor(range.fromMs / 1000)}-${Math.floor(range.toMs / 1000)}`

const indexKey = (server: string): string => redisKeys.key(server, 'backfills')
const recordKey = (server: string, id: string): string => redisKeys.key(server, 'backfill', id)

/**
 * The Redis keys of the backfills of `server` (the index) and of backfill `id` (its record and its
 * runner key): all under the operation's `{server}` hash tag, one cluster slot.
 */
export function backfillKeys(
  server: string,
  id: string,
): { index: string; record: string; runner: string } {
  return {
    index: indexKey(server),
    record: recordKey(server, id),
    runner: redisKeys.key(server, 'backfill', id, 'runner'),
  }
}

function toRecord(id: string, h: Record<string, string>): BackfillRecord | null {
  if (h.from === undefined || h.to === undefined) return null
  const iso = (text: string | undefined): string | null =>
    text === undefined || text === '' ? null : new Date(Number(text)).toISOString()
  return {
    id,
    from: iso(h.from)!,
    to: iso(h.to)!,
    windowMs: Number(h.windowMs ?? 0),
    next: iso(h.next),
    windowsDone: Number(h.windowsDone ?? 0),
    windowsTotal: Number(h.windowsTotal ?? 0),
    published: Number(h.published ?? 0),
    fetched: Number(h.fetched ?? 0),
    state: (h.state ?? 'running') as BackfillState,
    failures: Number(h.failures ?? 0),
    error: h.errorCode ? { code: h.errorCode, message: h.errorMessage ?? '' } : null,
    startedAt: iso(h.startedAt),
    updatedAt: iso(h.updatedAt),
  }
}

/** Every backfill of `server` still remembered (done ones for 7 days), newest range first. */
export async function listBackfills(redis: Redis, server: string): Promise<BackfillRecord[]> {
  return call(async () => {
    const ids = await redis.smembers(indexKey(server))
    const out: BackfillRecord[] = []
    for (const id of ids.sort().reverse()) {
      const record = toRecord(id, await redis.hgetall(recordKey(server, id)))
      if (record) out.push(record)
      else await redis.srem(indexKey(server), id)
    }
    return out
  })
}

/** One backfill's checkpoint and runner key in Redis. */
export interface BackfillStore {
  readonly id: string
  /** The checkpoint, or null for a backfill never started (or forgotten). */
  read(): Promise<BackfillRecord | null>
  /** The raw next second to do (epoch ms), or null. */
  nextMs(): Promise<number | null>
  /** Starts (or resumes) the record with these bounds. */
  begin(range: Range, windowMs: number, nowMs: number): Promise<void>
  save(fields: BackfillProgressFields, nowMs: number): Promise<void>
  /** Forgets the checkpoint (`--restart`). */
  forget(): Promise<void>
  /**
   * Takes the runner key (one process per backfill), renewed until {@link BackfillStore.release}.
   * A runner killed without releasing it leaves it for at most `ttlMs`, so a busy key is waited
   * for that long; false when another process still holds it then.
   */
  claim(ttlMs?: number): Promise<boolean>
  release(): Promise<void>
}

/** The {@link BackfillStore} of the backfill of `range` on `server`. */
export function createBackfillStore(redis: Redis, server: string, range: Range): BackfillStore {
  const id = backfillId(range)
  const { record: key, runner: runnerKey } = backfillKeys(server, id)
  const runner = randomBytes(12).toString('hex')
  let renewal: NodeJS.Timeout | undefined
  return {
    id,
    read: () => call(async () => toRecord(id, await redis.hgetall(key))),
    nextMs: () =>
      call(async () => {
        const text = await redis.hget(key, 'next')
        return text === null || text === '' ? null : Number(text)
      }),
    begin: (r, windowMs, nowMs) =>
      call(async () => {
        await redis
          .multi()
          .hsetnx(key, 'startedAt', String(nowMs))
          .hsetnx(key, 'next', String(r.fromMs))
          .hset(key, {
            from: String(r.fromMs),
            to: String(r.toMs),
            windowMs: String(windowMs),
            state: 'running',
            updatedAt: String(nowMs),
          })
          .pexpire(key, RUNNING_TTL_MS)
          .sadd(indexKey(server), id)
          .exec()
      }),
    save: (f, nowMs) =>
      call(async () => {
        const tx = redis.multi().hset(key, {
          next: f.nextMs === null ? '' : String(f.nextMs),
          windowsDone: String(f.windowsDone),
          windowsTotal: String(f.windowsTotal),
          published: String(f.published),
          fetched: String(f.fetched),
          state: f.state,
          failures: String(f.failures),
          updatedAt: String(nowMs),
        })
        if (f.error === null) tx.hdel(key, 'errorCode', 'errorMessage')
        else if (f.error)
          tx.hset(key, { errorCode: f.error.code, errorMessage: f.error.message.slice(0, 500) })
        tx.pexpire(key, f.state === 'done' ? DONE_TTL_MS : RUNNING_TTL_MS)
        await tx.exec()
      }),
    forget: () =>
      call(async () => {
        await redis.multi().del(key).srem(indexKey(server), id).exec()
      }),
    claim: (ttlMs = RUNNER_TTL_MS) =>
      call(async () => {
        const giveUpAt = Date.now() + ttlMs + 1_000
        while ((await redis.set(runnerKey, runner, 'PX', ttlMs, 'NX')) !== 'OK') {
          if (Date.now() > giveUpAt) return false
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        renewal = setInterval(
          () => {
            // Renewed only while still ours; a lost key is simply taken again on the next tick.
            void redis
              .eval(RENEW_RUNNER, 1, runnerKey, runner, String(ttlMs))
              .catch(() => undefined)
          },
          Math.max(100, Math.floor(ttlMs / 3)),
        )
        renewal.unref()
        return true
      }),
    release: () =>
      call(async () => {
        clearInterval(renewal)
        await redis.eval(RELEASE_RUNNER, 1, runnerKey, runner)
      }),
  }
}
