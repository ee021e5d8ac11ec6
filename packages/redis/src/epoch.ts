import { randomUUID } from 'node:crypto'
import type { Redis } from './client.js'
import { AppError } from '@wolkvox-chat-stream/errors'
import { redisKeys } from './keys.js'
import { toRedisError } from './redis-error.js'

/** What {@link ensureEpoch} found. */
export interface Epoch {
  /** A random id that changes only when the epoch key is lost. */
  epoch: string
  /**
   * True when this call created the key: Redis is new or lost its data (restart without
   * persistence, failover to an empty replica, FLUSHALL), so state kept in it must be rebuilt.
   */
  created: boolean
}

/**
 * Reads the epoch key, creating it with `SET NX` of a random id when missing. Without `scope` the
 * key is `wcs:global:epoch`; with one it is `wcs:{<scope>}:epoch`, in the same cluster slot as that
 * server's other keys. The key has no TTL; of concurrent callers exactly one sees `created: true`.
 *
 * @throws AppError `REDIS_UNAVAILABLE` / `REDIS_COMMAND_FAILED` (see `toRedisError`), or
 * `REDIS_KEY_INVALID` for a malformed `scope`.
 */
export async function ensureEpoch(redis: Redis, scope?: string): Promise<Epoch> {
  const key = scope === undefined ? redisKeys.globalKey('epoch') : redisKeys.key(scope, 'epoch')
  try {
    // Read first: the key almost always exists, so this is usually one round trip.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await redis.get(key)
      if (current !== null) return { epoch: current, created: false }
      const candidate = randomUUID()
      if ((await redis.set(key, candidate, 'NX')) === 'OK')
        return { epoch: candidate, created: true }
      // Someone else created it between our GET and SET: read theirs.
    }
  } catch (error) {
    throw toRedisError(error)
  }
  throw new AppError('REDIS_UNAVAILABLE', `Epoch key ${key} keeps disappearing`, {
    details: { key },
  })
}
