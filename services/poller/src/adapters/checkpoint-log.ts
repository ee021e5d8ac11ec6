/*
 * The watermark bound to the Kafka log it describes.
 *
 * The watermark in Redis says "every message up to here is on the topic". That holds only for
 * the log the poller wrote to: after a new cluster (`stack:down`/`stack:up` under a surviving
 * Redis) or a deleted and re-created topic, the messages before the watermark are not on the log
 * the poller now writes to. The checkpoint topic is the witness: a poll trusts the watermark only
 * while `wolkvox.poller.checkpoint.v1` holds a checkpoint of the operation (key `server|report`)
 * at or after it.
 *
 * Cost. A full read of the checkpoint topic (a throwaway consumer group: seconds) answers that
 * definitively, but is too dear before every poll of every operation. So after each checkpoint
 * is acknowledged, where it landed (cluster id, partition, offset, time, watermark) is stored in
 * Redis beside the watermark, and a poll checks cheaply that it is still there:
 *   - the cluster id (admin DescribeCluster, cached per process for CLUSTER_ID_TTL_MS) is unchanged;
 *   - the partition's start offset <= the stored offset < its end offset (ListOffsets earliest
 *     and latest);
 *   - no record at or before the stored offset is newer than the checkpoint by more than
 *     CLOCK_SKEW_MS (ListOffsets by timestamp): a re-created topic that already grew past the
 *     stored offset holds only records written after the checkpoint.
 * That is two Redis HGETALLs, four ListOffsets requests and at most one metadata request per
 * poll, no records read: a few milliseconds. The definitive read runs once per process at start (one
 * read serves every operation), for a watermark with no stored location (state from an earlier
 * version), and when the cheap check is suspicious; reads asked for while one runs share the
 * next one. A checkpoint that lands at or below the stored offset of the same partition (the log
 * was replaced during the poll) is refused before the watermark moves, at no extra cost.
 *
 * A refusal is stored in Redis and kept until `rebind` (or the `repoll` policy) ends it, so every
 * replica refuses alike, the `status` command shows it, and a checkpoint written to the new log by
 * a poll already in flight cannot make it pass later.
 */
import { AppError } from '@wolkvox-chat-stream/errors'
import { decodePollerCheckpoint, topics } from '@wolkvox-chat-stream/events'
import type { SchemaRegistry } from '@wolkvox-chat-stream/schema-registry'
import {
  readTopicToEnd,
  toKafkaError,
  type Admin,
  type Kafka,
  type ReadRecord,
} from '@wolkvox-chat-stream/kafka'
import { redisKeys, toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import type {
  CheckpointBinding,
  CheckpointMismatch,
  WatermarkRecovery,
} from '../core/poll-operation.js'
import type { Checkpoint } from '../core/ports.js'

/** How long a cluster id read by DescribeCluster is trusted by the cheap check. */
export const CLUSTER_ID_TTL_MS = 30_000
/** How far other writers' clocks may run ahead of this process's, for the timestamp check. */
export const CLOCK_SKEW_MS = 60_000
/**
 * The first try of a full read gives up after this long and a fresh consumer tries again (with
 * the whole timeout): a throwaway consumer sometimes never gets the records of a topic re-created
 * moments before, while a new one reads it at once.
 */
export const FIRST_READ_TIMEOUT_MS = 20_000

/** Where a checkpoint of the operation landed, as stored in Redis beside the watermark. */
export interface CheckpointLocation {
  cluster: string
  partition: number
  offset: number
  /** The record's time (read back), or the time its acknowledgement arrived (written here). */
  timestampMs: number
  /** The watermark the checkpoint carries. */
  watermarkMs: number
}

/** The newest checkpoint of every operation on the topic, from one full read. */
export interface CheckpointIndex {
  cluster: string
  /** When the read started: it saw every checkpoint acknowledged before. */
  startedAtMs: number
  /** By key `server|report`: the checkpoint with the highest watermark. */
  latest: Map<string, Omit<CheckpointLocation, 'cluster'>>
}

/** Why a full read of the checkpoint topic ran (the `reason` label of its counter). */
export type CheckpointReadReason = 'startup' | 'suspicious' | 'recovery'

/** The checkpoint topic of the cluster a poller writes to, shared by its operations. */
export interface CheckpointLog {
  /** The cluster id, cached for {@link CLUSTER_ID_TTL_MS}. */
  clusterId(): Promise<string>
  /** The read made once per process (started by the first caller, then reused). */
  startup(): Promise<CheckpointIndex>
  /** A full read that started at or after `notBeforeMs` (shared with concurrent callers). */
  read(reason: CheckpointReadReason, notBeforeMs: number): Promise<CheckpointIndex>
  /** Whether the stored location is still in the log the poller writes to (the cheap check). */
  stillThere(location: CheckpointLocation): Promise<boolean>
  close(): Promise<void>
}

/**
 * The poller's view of the checkpoint topic: one admin client, the cluster id cache, and the
 * full reads, coalesced (at most one at a time; callers that arrive meanwhile share the next).
 * @throws (from every method) AppError `KAFKA_UNAVAILABLE` and friends (see `toKafkaError`).
 */
export function createCheckpointLog(options: {
  kafka: Kafka
  /** Registry mode: learns the schema ids of checkpoints in the Confluent wire format. */
  registry?: Pick<SchemaRegistry, 'prepare'>
  onRead?: (reason: CheckpointReadReason) => void
  /** A first try of a full read failed; a second one follows. */
  onRetry?: (error: unknown) => void
  /** How long the second try of a full read may take (default 60 s). */
  timeoutMs?: number
  now?: () => number
}): CheckpointLog {
  const now = options.now ?? Date.now
  const topic = topics.pollerCheckpoint.name
  let admin: Promise<Admin> | undefined
  let cluster: { id: string; atMs: number } | undefined
  let startup: Promise<CheckpointIndex> | undefined
  let inflight: { startedAtMs: number; promise: Promise<CheckpointIndex> } | undefined
  let next: Promise<CheckpointIndex> | undefined

  const connected = (): Promise<Admin> => {
    if (admin === undefined) {
      const connecting = (async () => {
        const a = options.kafka.admin()
        await a.connect()
        return a
      })()
      admin = connecting
      // A failed connection is tried again by the next call.
      connecting.catch(() => {
        if (admin === connecting) admin = undefined
      })
    }
    return admin
  }
  const kafkaCall = async <T>(what: string, work: (a: Admin) => Promise<T>): Promise<T> => {
    try {
      return await work(await connected())
    } catch (error) {
      throw toKafkaError(error, what)
    }
  }
  const fetchClusterId = async (): Promise<string> => {
    const { clusterId } = await kafkaCall('describing the cluster', (a) => a.describeCluster())
    cluster = { id: clusterId, atMs: now() }
    return clusterId
  }
  const fullRead = (reason: CheckpointReadReason): Promise<CheckpointIndex> => {
    const startedAtMs = now()
    options.onRead?.(reason)
    const promise = (async (): Promise<CheckpointIndex> => {
      const id = await fetchClusterId()
      let records: ReadRecord[]
      try {
        records = await readTopicToEnd(options.kafka, topic, { timeoutMs: FIRST_READ_TIMEOUT_MS })
      } catch (error) {
        options.onRetry?.(error)
        records = await readTopicToEnd(options.kafka, topic, {
          timeoutMs: Math.max(FIRST_READ_TIMEOUT_MS, options.timeoutMs ?? 60_000),
        })
      }
      await options.registry?.prepare(records.map((r) => r.value))
      const latest = new Map<string, Omit<CheckpointLocation, 'cluster'>>()
      for (const record of records) {
        const key = record.key?.toString()
        if (key === undefined || !record.value) continue
        const watermarkMs = decodePollerCheckpoint(record.value).watermark.getTime()
        const known = latest.get(key)
        // The highest watermark, not the last offset: a stale writer can never move it back.
        if (known === undefined || watermarkMs > known.watermarkMs) {
          latest.set(key, {
            partition: record.partition,
            offset: Number(record.offset),
            timestampMs: Number(record.timestamp),
            watermarkMs,
          })
        }
      }
      return { cluster: id, startedAtMs, latest }
    })()
    inflight = { startedAtMs, promise }
    const done = (): void => {
      if (inflight?.promise === promise) inflight = undefined
    }
    promise.then(done, done)
    return promise
  }

  const clusterId = async (): Promise<string> =>
    cluster !== undefined && now() - cluster.atMs < CLUSTER_ID_TTL_MS
      ? cluster.id
      : fetchClusterId()

  return {
    clusterId,
    startup: () => {
      if (startup === undefined) {
        const reading = fullRead('startup')
        startup = reading
        // A failed start-up read is tried again by the next poll.
        reading.catch(() => {
          if (startup === reading) startup = undefined
        })
      }
      return startup
    },
    read: (reason, notBeforeMs) => {
      if (inflight && inflight.startedAtMs >= notBeforeMs) return inflight.promise
      if (!inflight) return fullRead(reason)
      // One read at a time: whoever asks while one runs shares the one that starts after it
      // (which began after each of them asked, so it answers every one of them).
      next ??= inflight.promise
        .catch(() => undefined)
        .then(() => {
          next = undefined
          return fullRead(reason)
        })
      return next
    },
    stillThere: async (location) => {
      if ((await clusterId()) !== location.cluster) return false
      const [offsets, newer] = await kafkaCall('reading the checkpoint offsets', (a) =>
        Promise.all([
          a.fetchTopicOffsets(topic),
          a.fetchTopicOffsetsByTimestamp(topic, location.timestampMs + CLOCK_SKEW_MS),
        ]),
      )
      const partition = offsets.find((p) => p.partition === location.partition)
      if (!partition) return false
      if (Number(partition.low) > location.offset || Number(partition.high) <= location.offset)
        return false
      // The first record newer than the checkpoint (the end offset when there is none).
      const firstNewer = newer.find((p) => p.partition === location.partition)
      return firstNewer !== undefined && Number(firstNewer.offset) > location.offset
    },
    close: async () => {
      const connecting = admin
      admin = undefined
      const a = await connecting?.catch(() => undefined)
      await a?.disconnect().catch(() => undefined)
    },
  }
}

const num = (text: string | undefined): number | null =>
  text === undefined || text === '' ? null : Number(text)

/**
 * The Redis keys of an operation's binding: where its last checkpoint landed, and a refusal. Both
 * under the operation's `{server}` hash tag.
 */
export function bindingKeys(server: string, report: string): { location: string; missing: string } {
  return {
    location: redisKeys.key(server, 'checkpoint', report),
    missing: redisKeys.key(server, 'checkpoint-missing', report),
  }
}

/** What Redis holds about an operation's binding (for `status` and the metric). */
export interface BindingState {
  location: CheckpointLocation | null
  missing: CheckpointMismatch | null
}

/** Reads an operation's binding from Redis; works from any process (the `status` command). */
export async function readBindingState(
  redis: Redis,
  server: string,
  report: string,
): Promise<BindingState> {
  const keys = bindingKeys(server, report)
  try {
    const [location, missing] = await Promise.all([
      redis.hgetall(keys.location),
      redis.hgetall(keys.missing),
    ])
    return { location: parseLocation(location), missing: parseMismatch(missing) }
  } catch (error) {
    throw toRedisError(error)
  }
}

function parseLocation(h: Record<string, string>): CheckpointLocation | null {
  const partition = num(h.partition)
  const offset = num(h.offset)
  const timestampMs = num(h.timestampMs)
  const watermarkMs = num(h.watermarkMs)
  if (h.cluster === undefined || partition === null || offset === null) return null
  if (timestampMs === null || watermarkMs === null) return null
  return { cluster: h.cluster, partition, offset, timestampMs, watermarkMs }
}

function parseMismatch(h: Record<string, string>): CheckpointMismatch | null {
  const watermarkMs = num(h.watermarkMs)
  if (watermarkMs === null) return null
  const reason = h.reason === 'older' || h.reason === 'log-replaced' ? h.reason : 'missing'
  return {
    watermarkMs,
    topicWatermarkMs: num(h.topicWatermarkMs),
    cluster: h.cluster === undefined || h.cluster === '' ? null : h.cluster,
    reason,
    sinceMs: num(h.sinceMs) ?? 0,
  }
}

/** An operation's binding: the core's port, the recovery from the topic, and the sink's hook. */
export interface OperationBinding extends CheckpointBinding, WatermarkRecovery {
  /**
   * Called once a checkpoint is acknowledged, before the watermark moves: records where it
   * landed, or refuses when it landed in another log than the previous checkpoint.
   * @throws AppError `POLL_CHECKPOINT_MISSING` (the refusal is recorded), Redis's errors.
   */
  landed(checkpoint: Checkpoint, at: { partition: number; offset: number }): Promise<void>
}

/**
 * The binding of one operation to the checkpoint log (see the top of this file).
 * `onMismatch` reports the refusal state (the metric) each time it is decided.
 */
export function createOperationBinding(options: {
  log: CheckpointLog
  redis: Redis
  server: string
  report: string
  onState?: (missing: boolean) => void
  now?: () => number
}): OperationBinding {
  const { log, redis, server, report } = options
  const now = options.now ?? Date.now
  const key = `${server}|${report}`
  const keys = bindingKeys(server, report)
  // Whether this process has decided once for this operation (the start-up read covers it).
  let decidedOnce = false

  const redisCall = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work()
    } catch (error) {
      throw toRedisError(error)
    }
  }
  const store = (location: CheckpointLocation): Promise<unknown> =>
    redisCall(() =>
      redis.hset(keys.location, {
        cluster: location.cluster,
        partition: String(location.partition),
        offset: String(location.offset),
        timestampMs: String(location.timestampMs),
        watermarkMs: String(location.watermarkMs),
      }),
    )
  const refuse = async (
    mismatch: Omit<CheckpointMismatch, 'sinceMs'>,
  ): Promise<CheckpointMismatch> => {
    const sinceMs = now()
    await redisCall(() =>
      redis
        .multi()
        .hsetnx(keys.missing, 'sinceMs', String(sinceMs))
        .hset(keys.missing, {
          watermarkMs: String(mismatch.watermarkMs),
          topicWatermarkMs:
            mismatch.topicWatermarkMs === null ? '' : String(mismatch.topicWatermarkMs),
          cluster: mismatch.cluster ?? '',
          reason: mismatch.reason,
        })
        .exec(),
    )
    options.onState?.(true)
    return { ...mismatch, sinceMs }
  }
  /** Decides from a full read: bound (and the location stored) or the refusal's content. */
  const decide = async (
    index: CheckpointIndex,
    watermarkMs: number,
  ): Promise<Omit<CheckpointMismatch, 'sinceMs'> | null> => {
    const entry = index.latest.get(key)
    if (entry && entry.watermarkMs >= watermarkMs) {
      await store({ cluster: index.cluster, ...entry })
      return null
    }
    return {
      watermarkMs,
      topicWatermarkMs: entry?.watermarkMs ?? null,
      cluster: index.cluster,
      reason: entry ? 'older' : 'missing',
    }
  }

  return {
    verify: async (watermarkMs) => {
      const state = await readBindingState(redis, server, report)
      if (state.missing) {
        options.onState?.(true)
        return state.missing
      }
      const askedAtMs = now()
      const location = state.location
      let verdict: Omit<CheckpointMismatch, 'sinceMs'> | null
      if (!decidedOnce) {
        verdict = await decide(await log.startup(), watermarkMs)
      } else if (
        location !== null &&
        location.watermarkMs >= watermarkMs &&
        (await log.stillThere(location))
      ) {
        verdict = null
      } else {
        verdict = await decide(await log.read('suspicious', askedAtMs), watermarkMs)
      }
      // A "no" from the start-up read counts only if that read began after the last checkpoint
      // this operation wrote (another replica may have written one since).
      if (verdict !== null && !decidedOnce) {
        const index = await log.startup()
        const lastWrittenMs = location?.timestampMs ?? Number.POSITIVE_INFINITY
        if (index.startedAtMs < lastWrittenMs + CLOCK_SKEW_MS)
          verdict = await decide(await log.read('suspicious', askedAtMs), watermarkMs)
      }
      decidedOnce = true
      if (verdict === null) {
        options.onState?.(false)
        return null
      }
      return refuse(verdict)
    },
    forget: () => redisCall(() => redis.del(keys.location)).then(() => undefined),
    resolved: async () => {
      await redisCall(() => redis.del(keys.missing))
      options.onState?.(false)
    },
    fromCheckpoints: async () => {
      const index = await log.read('recovery', now())
      const entry = index.latest.get(key)
      if (!entry) return null
      await store({ cluster: index.cluster, ...entry })
      return entry.watermarkMs
    },
    landed: async (checkpoint, at) => {
      // Only where the previous checkpoint landed: a refusal stops polling before this point.
      const [cluster, previous] = await Promise.all([
        log.clusterId(),
        redisCall(() => redis.hgetall(keys.location)).then(parseLocation),
      ])
      if (
        previous !== null &&
        (previous.cluster !== cluster ||
          (previous.partition === at.partition && at.offset <= previous.offset))
      ) {
        // Offsets never go back in one log: this checkpoint went to a new one.
        const mismatch = await refuse({
          watermarkMs: previous.watermarkMs,
          topicWatermarkMs: null,
          cluster,
          reason: 'log-replaced',
        })
        throw new AppError(
          'POLL_CHECKPOINT_MISSING',
          `Operation ${server}: the checkpoint for ${new Date(checkpoint.watermarkMs).toISOString()} landed at offset ${at.offset} of partition ${at.partition} of cluster ${cluster}, but the previous one is at offset ${previous.offset} of partition ${previous.partition} of cluster ${previous.cluster}: the checkpoint topic or the cluster was replaced during the poll. The watermark did not move; polling is stopped (see \`npm run poller -- status --server ${server}\` for the commands that resolve it).`,
          { details: { server, reason: mismatch.reason, cluster } },
        )
      }
      await store({
        cluster,
        partition: at.partition,
        offset: at.offset,
        timestampMs: now(),
        watermarkMs: checkpoint.watermarkMs,
      })
    },
  }
}
