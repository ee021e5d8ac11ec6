import { redisKeys, toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import type { DueReason, EventRevision, PublishedSet } from '../core/ports.js'

const DAY_MS = 86_400_000
/** Ids per HMGET / SMISMEMBER, field-value pairs per HSET: bounded commands, bounded replies. */
const BATCH = 5_000

/**
 * The keys of the published set of `report` on `server`, per UTC day (of `dayMs`): the revisions
 * hash, and the set of ids of earlier versions. All under the operation's `{server}` hash tag, so
 * one command (or pipeline) may take them all on a cluster.
 */
export function publishedSetKeys(
  server: string,
  report: string,
): { revisions: (dayMs: number) => string; legacy: (dayMs: number) => string } {
  const day = (dayMs: number): string =>
    new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '')
  return {
    revisions: (dayMs) => redisKeys.key(server, 'published-revisions', report, day(dayMs)),
    legacy: (dayMs) => redisKeys.key(server, 'published', report, day(dayMs)),
  }
}

/**
 * The revisions of published events in Redis: one hash `event_id -> revision` per UTC day of
 * publication (`wcs:{server}:published-revisions:<report>:<yyyymmdd>`), each expiring `horizonMs`
 * plus a day after its last write. A lookup checks every day within the horizon, newest first: the
 * newest day that holds an id has the revision published last. An event re-fetched by any later
 * poll within the horizon (lookback, sweep) is skipped when its revision is the one remembered, and
 * published again (and remembered under today) when it is another. Past the horizon a re-fetch is
 * published again: the topic is at-least-once and subscribers de-duplicate by `event_id` and
 * `revision`.
 *
 * Upgrade: versions before revisions wrote one set of ids per day
 * (`wcs:{server}:published:<report>:<yyyymmdd>`). Those sets are still read (never written; they
 * expire on their own within the horizon): an id found only there was published with a revision
 * not known, so it is due as `revised` and published once more with its revision, after which its
 * revision is known. `clear` deletes both kinds.
 */
export function createRedisPublishedSet(options: {
  redis: Redis
  server: string
  report: string
  horizonMs: number
  now?: () => number
}): PublishedSet {
  const { redis } = options
  const now = options.now ?? Date.now
  const { revisions: revisionsKey, legacy: legacyKey } = publishedSetKeys(
    options.server,
    options.report,
  )
  /** The days a lookup reads, newest first (`add` writes the first). */
  const days = (): number[] => {
    const today = Math.floor(now() / DAY_MS) * DAY_MS
    const out: number[] = []
    for (let d = today; d >= today - options.horizonMs - DAY_MS; d -= DAY_MS) out.push(d)
    return out
  }
  /** The keys among `keys` that exist. */
  const existing = async (keys: readonly string[]): Promise<Set<string>> => {
    const results = await redis.pipeline(keys.map((k) => ['exists', k])).exec()
    return new Set(
      keys.filter((_, i) => {
        const [error, count] = results?.[i] ?? [new Error('no reply to EXISTS'), 0]
        if (error) throw error
        return count === 1
      }),
    )
  }
  return {
    unpublished: async (events) => {
      const due = new Map<string, DueReason>()
      if (events.length === 0) return due
      try {
        const dayList = days()
        // Only days that have a hash (or an old set) can hold an id: skip the others unasked.
        const present = await existing([...dayList.map(revisionsKey), ...dayList.map(legacyKey)])
        const hashes = dayList.map(revisionsKey).filter((k) => present.has(k))
        const legacy = dayList.map(legacyKey).filter((k) => present.has(k))
        let pending: readonly EventRevision[] = events
        // Looks the pending events up in `keys`, newest day first; `seen` decides for an event found
        // there (given what the key holds for it); the others stay pending for the next key.
        const lookUp = async (
          keys: readonly string[],
          read: (key: string, ids: string[]) => Promise<unknown[]>,
          seen: (event: EventRevision, held: unknown) => boolean,
        ): Promise<void> => {
          for (const key of keys) {
            if (pending.length === 0) return
            const next: EventRevision[] = []
            for (let i = 0; i < pending.length; i += BATCH) {
              const batch = pending.slice(i, i + BATCH)
              const held = await read(
                key,
                batch.map((e) => e.eventId),
              )
              batch.forEach((event, j) => {
                if (!seen(event, held[j])) next.push(event)
              })
            }
            pending = next
          }
        }
        await lookUp(
          hashes,
          (key, ids) => redis.hmget(key, ...ids),
          (event, revision) => {
            if (revision === null || revision === undefined) return false
            if (revision !== event.revision) due.set(event.eventId, 'revised')
            return true
          },
        )
        await lookUp(
          legacy,
          (key, ids) => redis.smismember(key, ...ids),
          (event, member) => {
            if (member !== 1) return false
            // Published by an earlier version: its revision is not known, so publish it again.
            due.set(event.eventId, 'revised')
            return true
          },
        )
        for (const event of pending) due.set(event.eventId, 'new')
      } catch (error) {
        throw toRedisError(error)
      }
      return due
    },
    clear: async () => {
      try {
        // Every day a lookup reads, both kinds: `add` writes only today's hash, among them.
        const dayList = days()
        await redis.del(...dayList.map(revisionsKey), ...dayList.map(legacyKey))
      } catch (error) {
        throw toRedisError(error)
      }
    },
    add: async (events) => {
      if (events.length === 0) return
      const key = revisionsKey(now())
      try {
        const pipeline = redis.pipeline()
        for (let i = 0; i < events.length; i += BATCH) {
          const pairs: string[] = []
          for (const event of events.slice(i, i + BATCH)) pairs.push(event.eventId, event.revision)
          pipeline.hset(key, ...pairs)
        }
        pipeline.pexpire(key, options.horizonMs + DAY_MS)
        const results = await pipeline.exec()
        const failed = results?.find(([error]) => error !== null)
        if (failed?.[0]) throw failed[0]
      } catch (error) {
        throw toRedisError(error)
      }
    },
  }
}
