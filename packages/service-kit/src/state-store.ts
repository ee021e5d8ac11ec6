import { createHash } from 'node:crypto'
import { toRedisError, unlinkMatching, type Redis } from '@wolkvox-chat-stream/redis'
import { parseApplyReply, type ApplyResult, type ApplyScript } from './apply-script.js'
import type { ServiceKeys } from './keys.js'
import { encodeGroups, type OpGroup } from './state-ops.js'

/**
 * What Redis holds about one partition: its applied offset, the epoch it was written in, and the
 * Kafka log it was built from (cluster id, topic, and the mark of the record at `offset`). The
 * log fields are `undefined` in state written before they existed.
 */
export interface PartitionMeta {
  /** The last applied offset; `undefined` when the partition has no state. */
  offset: number | undefined
  epoch: string | undefined
  cluster: string | undefined
  topic: string | undefined
  /** {@link recordMark} of the record at `offset`. */
  mark: string | undefined
}

/** The Kafka log a chunk was read from. */
export interface LogIdentity {
  cluster: string
  topic: string
}

/**
 * The mark of one record: a hash of its timestamp, key and value. Two logs holding records with
 * the same mark at the same offset hold the same record there, as far as a consumer can tell.
 */
export function recordMark(record: {
  timestamp: string
  key: Buffer | null
  value: Buffer | null
}): string {
  const hash = createHash('sha256').update(record.timestamp).update('\0')
  hash.update(record.key === null ? '-' : `${record.key.length}:`)
  if (record.key !== null) hash.update(record.key)
  if (record.value !== null) hash.update(record.value)
  return hash.digest('hex').slice(0, 32)
}

const META_FIELDS = ['offset', 'epoch', 'cluster', 'topic', 'mark'] as const

/** One chunk to apply (see the apply script's header). */
export interface ApplyInput {
  partition: number
  epoch: string
  /** The caller found no state for the partition in this epoch and feeds it from its start. */
  fresh: boolean
  /**
   * The applied offset the caller saw stored last: the script refuses (`BEHIND`) when Redis now
   * holds a lower one, i.e. lost writes it had acknowledged.
   */
  knownOffset?: number
  eventIdTtlMs: number
  lastOffset: string
  /** {@link recordMark} of the record at `lastOffset`. */
  lastMark: string
  log: LogIdentity
  groups: readonly OpGroup[]
}

/** The Redis side of a consumer service's state. Every method maps failures with `toRedisError`. */
export interface StateStore {
  readMeta(partition: number): Promise<PartitionMeta>
  /**
   * The meta hash and, for each id, whether it is in the applied event_id set and (with
   * `revisions`) the revision token stored for it: one round trip.
   */
  prefilter(
    partition: number,
    eventIds: readonly string[],
    revisions?: boolean,
  ): Promise<{ meta: PartitionMeta; known: boolean[]; tokens: (string | null)[] }>
  apply(input: ApplyInput): Promise<ApplyResult>
  /** Deletes every key of the partition (state, offset, event_ids); returns how many. */
  wipePartition(partition: number): Promise<number>
  /** Adds the partition to the registry merged reads use. */
  registerPartition(partition: number): Promise<void>
}

function toMeta(fields: readonly (string | null | undefined)[]): PartitionMeta {
  const [offset, epoch, cluster, topic, mark] = fields
  return {
    offset: offset === null || offset === undefined ? undefined : Number(offset),
    epoch: epoch ?? undefined,
    cluster: cluster ?? undefined,
    topic: topic ?? undefined,
    mark: mark ?? undefined,
  }
}

/** Deletes every key matching `pattern` (on every master of a cluster); returns how many. */
export async function deleteMatching(redis: Redis, pattern: string): Promise<number> {
  try {
    return await unlinkMatching(redis, pattern)
  } catch (error) {
    throw toRedisError(error)
  }
}

/**
 * The KEYS of the apply script for `groups` of `partition`, and the ARGV tail that points into them
 * (see the script's header): the partition's meta hash, event_id set and revisions, then every
 * state key the groups touch, each once. All carry the partition's hash tag: one cluster slot.
 */
export function applyScriptKeys(
  keys: ServiceKeys,
  partition: number,
  groups: readonly OpGroup[],
): { keys: string[]; argv: string[] } {
  const { keys: opKeys, argv } = encodeGroups(groups, (path) => keys.state(partition, path))
  return {
    keys: [keys.meta(partition), keys.events(partition), keys.revisions(partition), ...opKeys],
    argv,
  }
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
        return toMeta(await redis.hmget(keys.meta(partition), ...META_FIELDS))
      } catch (error) {
        throw toRedisError(error)
      }
    },
    async prefilter(partition, eventIds, revisions = false) {
      try {
        // The partition's keys only (one hash tag): a single-slot pipeline on a cluster too.
        const pipeline = redis.pipeline().hmget(keys.meta(partition), ...META_FIELDS)
        if (eventIds.length > 0) {
          pipeline.call('ZMSCORE', [keys.events(partition), ...eventIds])
          if (revisions) pipeline.hmget(keys.revisions(partition), ...eventIds)
        }
        const replies = (await pipeline.exec()) ?? []
        for (const [error] of replies) if (error) throw error
        const scores = (replies[1]?.[1] ?? []) as (string | null)[]
        const tokens = (replies[2]?.[1] ?? []) as (string | null)[]
        return {
          meta: toMeta((replies[0]?.[1] ?? []) as (string | null)[]),
          known: eventIds.map((_, i) => scores[i] !== null && scores[i] !== undefined),
          tokens: eventIds.map((_, i) => tokens[i] ?? null),
        }
      } catch (error) {
        throw toRedisError(error)
      }
    },
    async apply(input) {
      const { keys: allKeys, argv } = applyScriptKeys(keys, input.partition, input.groups)
      try {
        const reply = await run([
          allKeys.length,
          ...allKeys,
          input.epoch,
          input.fresh ? 'fresh' : String(input.knownOffset ?? -1),
          String(input.eventIdTtlMs),
          input.lastOffset,
          input.log.cluster,
          input.log.topic,
          input.lastMark,
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
