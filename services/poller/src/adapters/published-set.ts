import { redisKeys, toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import type { PublishedSet } from '../core/ports.js'

const DAY_MS = 86_400_000

/**
 * The ids of published events in Redis, one set per UTC day of publication, each expiring after
 * `horizonMs` plus a day. A lookup checks every day within the horizon, so an event re-fetched by
 * any later poll within the horizon (lookback, sweep) is skipped. Past the horizon a re-fetch is
 * published again: the topic is at-least-once and subscribers de-duplicate by `event_id`.
 */
export function createRedisPublishedSet(options: {
  redis: Redis
  server: string
  report: string
  horizonMs: number
  now?: () => number
}): PublishedSet {
  const now = options.now ?? Date.now
  const key = (dayMs: number): string =>
    redisKeys.key(
      options.server,
      'published',
      options.report,
      new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', ''),
    )
  const days = (): string[] => {
    const today = Math.floor(now() / DAY_MS) * DAY_MS
    const keys: string[] = []
    for (let day = today; day >= today - options.horizonMs - DAY_MS; day -= DAY_MS)
      keys.push(key(day))
    return keys
  }
  return {
    unpublished: async (eventIds) => {
      const fresh = new Set(eventIds)
      if (eventIds.length === 0) return fresh
      try {
        // Only days that have a set can hold an id: skip the others without sending the ids.
        const keys = days()
        const present = await options.redis.pipeline(keys.map((k) => ['exists', k])).exec()
        const existing = keys.filter((_, i) => present?.[i]?.[1] === 1)
        for (const setKey of existing) {
          const ids = [...fresh]
          if (ids.length === 0) break
          const member = await options.redis.smismember(setKey, ...ids)
          ids.forEach((id, i) => {
            if (member[i] === 1) fresh.delete(id)
          })
        }
      } catch (error) {
        throw toRedisError(error)
      }
      return fresh
    },
    clear: async () => {
      try {
        // Every day a lookup reads: `add` writes only today's set, which is among them.
        await options.redis.del(...days())
      } catch (error) {
        throw toRedisError(error)
      }
    },
    add: async (eventIds) => {
      if (eventIds.length === 0) return
      const setKey = key(now())
      try {
        const pipeline = options.redis.pipeline()
        for (let i = 0; i < eventIds.length; i += 10_000)
          pipeline.sadd(setKey, ...eventIds.slice(i, i + 10_000))
        pipeline.pexpire(setKey, options.horizonMs + DAY_MS)
        const results = await pipeline.exec()
        const failed = results?.find(([error]) => error !== null)
        if (failed?.[0]) throw failed[0]
      } catch (error) {
        throw toRedisError(error)
      }
    },
  }
}
