import { toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import { serviceKeys, type KeyPath, type ServiceKeys } from './keys.js'

/**
 * Reads a consumer service's state for queries. A handler's keys live per partition (see README:
 * cross-partition state), so a value the service keeps "per agent" is the merge of one part per
 * partition. Only partitions whose state belongs to the current epoch take part: while Redis is
 * rebuilt, a query sees the rebuilt partitions, never stale ones.
 */
export interface StateReader {
  /** The partitions whose state belongs to the current epoch, in order. */
  partitions(): Promise<number[]>
  /** The Redis key of `path` in `partition`. */
  key(partition: number, path: KeyPath): string
  /**
   * `read(key)` for `path` in every current partition, in parallel: one command per partition, all
   * sent at once (one round trip on one node), never one pipeline, since the partitions' keys are
   * in as many slots (on as many nodes) of a cluster.
   */
  collect<T>(path: KeyPath, read: (redis: Redis, key: string) => Promise<T>): Promise<T[]>
  /**
   * `read` once per current partition, in parallel, given that partition's keys: for reads of
   * several keys of one partition in turn (an index, then what it names).
   */
  eachPartition<T>(
    read: (redis: Redis, key: (path: KeyPath) => string, partition: number) => Promise<T>,
  ): Promise<T[]>
  /** The hash at `path`, each field summed over the partitions (counters). */
  sumHash(path: KeyPath): Promise<Record<string, number>>
  /** The integer or float string at `path`, summed over the partitions. */
  sum(path: KeyPath): Promise<number>
  /** The union of the set at `path` over the partitions, sorted. */
  unionSet(path: KeyPath): Promise<string[]>
  /**
   * The same reads over a fixed list of partitions (from {@link partitions}), so that many reads in
   * a row skip checking the partitions' epochs each time.
   */
  withPartitions(partitions: readonly number[]): StateReader
}

/** A {@link StateReader} of service `name`. Reads map failures with `toRedisError`. */
export function createStateReader(options: { redis: Redis; name: string }): StateReader {
  const { redis } = options
  const keys = serviceKeys(options.name)
  return readerOf(redis, keys, async (): Promise<number[]> => {
    try {
      // Each its own command: the epoch and the registry carry the service's hash tag, each meta
      // hash its partition's, so a cluster serves them from different nodes.
      const [epoch, members] = await Promise.all([
        redis.get(keys.epoch),
        redis.smembers(keys.partitions),
      ])
      if (epoch === null) return []
      const list = members.map(Number).sort((a, b) => a - b)
      const epochs = await Promise.all(list.map((p) => redis.hget(keys.meta(p), 'epoch')))
      return list.filter((_, i) => epochs[i] === epoch)
    } catch (error) {
      throw toRedisError(error)
    }
  })
}

function readerOf(
  redis: Redis,
  keys: ServiceKeys,
  partitions: () => Promise<number[]>,
): StateReader {
  const collect = async <T>(
    path: KeyPath,
    read: (redis: Redis, key: string) => Promise<T>,
  ): Promise<T[]> => {
    const current = await partitions()
    try {
      return await Promise.all(current.map((p) => read(redis, keys.state(p, path))))
    } catch (error) {
      throw toRedisError(error)
    }
  }
  return {
    partitions,
    key: (partition, path) => keys.state(partition, path),
    collect,
    async eachPartition(read) {
      const current = await partitions()
      try {
        return await Promise.all(current.map((p) => read(redis, (path) => keys.state(p, path), p)))
      } catch (error) {
        throw toRedisError(error)
      }
    },
    async sumHash(path) {
      const parts = await collect(path, (r, key) => r.hgetall(key))
      const out: Record<string, number> = {}
      for (const part of parts) {
        for (const [field, value] of Object.entries(part))
          out[field] = (out[field] ?? 0) + Number(value)
      }
      return out
    },
    async sum(path) {
      const parts = await collect(path, (r, key) => r.get(key))
      return parts.reduce((total, value) => total + Number(value ?? 0), 0)
    },
    async unionSet(path) {
      const parts = await collect(path, (r, key) => r.smembers(key))
      return [...new Set(parts.flat())].sort()
    },
    withPartitions(list) {
      const fixed = [...list]
      return readerOf(redis, keys, () => Promise.resolve(fixed))
    },
  }
}
