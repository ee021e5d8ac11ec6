import { Cluster } from 'ioredis'
import type { Redis } from './client.js'

/** Whether `redis` is a connection to a Redis Cluster (commands then go to the node of their slot). */
export function isCluster(redis: Redis): redis is Cluster {
  return redis instanceof Cluster
}

/**
 * Every key matching `pattern`, in pages of up to `count`. SCAN walks one node's keyspace, so on a
 * cluster every master is walked in turn (a pattern inside one hash tag finds its keys on one of
 * them); on a single node it is one walk. A key may be seen twice (SCAN's own guarantee): callers
 * must be idempotent.
 */
export async function* scanKeys(
  redis: Redis,
  pattern: string,
  count = 1_000,
): AsyncGenerator<string[]> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis]
  for (const node of nodes) {
    let cursor = '0'
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count)
      cursor = next
      if (keys.length > 0) yield keys
    } while (cursor !== '0')
  }
}

/**
 * The part of `key` Redis Cluster hashes: the text inside the first `{…}` when it is not empty,
 * else the whole key. Keys with the same hash tag share a slot, so one command may take them all.
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{')
  if (open === -1) return key
  const close = key.indexOf('}', open + 1)
  return close > open + 1 ? key.slice(open + 1, close) : key
}

/**
 * Deletes every key matching `pattern` (SCAN, then UNLINK of each page's keys grouped by hash tag,
 * so that no command spans two slots on a cluster); returns how many were deleted.
 */
export async function unlinkMatching(redis: Redis, pattern: string): Promise<number> {
  let deleted = 0
  for await (const keys of scanKeys(redis, pattern)) {
    const groups = new Map<string, string[]>()
    for (const key of keys) {
      const tag = hashTagOf(key)
      const group = groups.get(tag)
      if (group === undefined) groups.set(tag, [key])
      else group.push(key)
    }
    for (const group of groups.values()) deleted += await redis.unlink(...group)
  }
  return deleted
}
