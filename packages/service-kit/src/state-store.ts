import { toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import { parseApplyReply, type ApplyResult, type ApplyScript } from './apply-script.js'
import type { ServiceKeys } from './keys.js'
import { encodeGroups, type OpGroup } from './state-ops.js'

/** What Redis holds about one partition: its applied offset and the epoch it was written in. */
export interface PartitionMeta {
  /** The last applied offset; `undefined` when the partition has no state. */
  offset: number | undefined
  epoch: string | undefined
}

/** One chunk to apply (see the apply script's header). */
export interface ApplyInput {
  partition: number
  epoch: string
  /** The caller found no state for the partition in this epoch and feeds it from its start. */
  fresh: boolean
  eventIdTtlMs: number
  lastOffset: string
  groups: readonly OpGroup[]
}

/** The Redis side of a consumer service's state. Every method maps failures with `toRedisError`. */
export interface StateStore {
  readMeta(partition: number): Promise<PartitionMeta>
  /** The meta hash and, for each id, whether it is in the applied event_id set: one round trip. */
  prefilter(
    partition: number,
    eventIds: readonly string[],
  ): Promise<{ meta: PartitionMeta; known: boolean[] }>
  apply(input: ApplyInput): Promise<ApplyResult>
  /** Deletes every key of the partition (state, offset, event_ids); returns how many. */
  wipePartition(partition: number): Promise<number>
  /** Adds the partition to the registry merged reads use. */
  registerPartition(partition: number): Promise<void>
}

function toMeta(
  offset: string | null | undefined,
  epoch: string | null | undefined,
): PartitionMeta {
  return {
    offset: offset === null || offset === undefined ? undefined : Number(offset),
    epoch: epoch ?? undefined,
  }
}

/** Deletes every key matching `pattern` with SCAN and UNLINK; returns how many. */
export async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0'
  let deleted = 0
  try {
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) deleted += await redis.unlink(...keys)
    } while (cursor !== '0')
  } catch (error) {
    throw toRedisError(error)
  }
  return deleted
}

/** The {@link StateStore} of a service on `redis`. */
export function createStateStore(redis: Redis, keys: ServiceKeys, script: ApplyScript): StateStore {
  const run = async (args: (string | number)[]): Promise<unknown> => {
    try {
      return await redis.call('EVALSHA', [script.sha, ...args])
    } catch (error) {
      // After a restart or SCRIPT FLUSH the script cache is empty: EVAL loads it again.
      if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error
      return redis.call('EVAL', [script.lua, ...args])
    }
  }
  return {
    async readMeta(partition) {
      try {
        const [offset, epoch] = await redis.hmget(keys.meta(partition), 'offset', 'epoch')
        return toMeta(offset, epoch)
      } catch (error) {
        throw toRedisError(error)
      }
    },
    async prefilter(partition, eventIds) {
      try {
        const pipeline = redis.pipeline().hmget(keys.meta(partition), 'offset', 'epoch')
        if (eventIds.length > 0) pipeline.call('ZMSCORE', [keys.events(partition), ...eventIds])
        const replies = (await pipeline.exec()) ?? []
        for (const [error] of replies) if (error) throw error
        const [offset, epoch] = (replies[0]?.[1] ?? []) as (string | null)[]
        const scores = (replies[1]?.[1] ?? []) as (string | null)[]
        return {
          meta: toMeta(offset, epoch),
          known: eventIds.map((_, i) => scores[i] !== null && scores[i] !== undefined),
        }
      } catch (error) {
        throw toRedisError(error)
      }
    },
    async apply(input) {
      const { keys: opKeys, argv } = encodeGroups(input.groups, (path) =>
        keys.state(input.partition, path),
      )
      const allKeys = [keys.meta(input.partition), keys.events(input.partition), ...opKeys]
      try {
        const reply = await run([
          allKeys.length,
          ...allKeys,
          input.epoch,
          input.fresh ? '1' : '0',
          String(input.eventIdTtlMs),
          input.lastOffset,
          ...argv,
        ])
        return parseApplyReply(reply)
      } catch (error) {
        throw toRedisError(error)
      }
    },
    wipePartition: (partition) => deleteMatching(redis, keys.partitionPattern(partition)),
    async registerPartition(partition) {
      try {
        await redis.sadd(keys.partitions, String(partition))
      } catch (error) {
        throw toRedisError(error)
      }
    },
  }
}
