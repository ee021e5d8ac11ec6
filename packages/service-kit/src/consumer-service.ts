import { AppError } from '@wolkvox-chat-stream/errors'
import { decodeChatMessage, dlqTopic, type ChatMessage } from '@wolkvox-chat-stream/events'
import {
  createConsumer,
  createEventProducer,
  assertGroupAccess,
  createKafkaClient,
  createSessionProducer,
  provisionTopics,
  runBatches,
  toKafkaError,
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type EventProducer,
  type KafkaMessage,
  type OutgoingRecord,
  provisionOptionsOf,
} from '@wolkvox-chat-stream/kafka'
import {
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  withMetricsOf,
  type HttpServer,
  type Logger,
  type MetricsRegistry,
} from '@wolkvox-chat-stream/observability'
import {
  createRedis,
  ensureEpoch,
  toRedisError,
  waitUntilReady,
  type Redis,
} from '@wolkvox-chat-stream/redis'
import { createSchemaRegistry } from '@wolkvox-chat-stream/schema-registry'
import { buildApplyScript } from './apply-script.js'
import {
  asAppError,
  chunkDecoder,
  countFailures,
  defaultEventId,
  freshEvents,
  freshRevisions,
  type Item,
} from './chunk.js'
import { createOffsetCommits } from './offset-commits.js'
import { createPartitionLanes } from './partition-lanes.js'
import { readConsumerConfig, type ConsumerServiceConfig } from './config.js'
import { deadLetterRecord } from './dead-letter.js'
import { assertServiceName, serviceKeys } from './keys.js'
import { createConsumerMetrics, type ConsumerMetrics } from './metrics.js'
import type { BatchContext, ConsumerServiceOptions, Delivered, EventContext } from './options.js'
import { retrying, Stopped, type RetryingOptions } from './retry.js'
import { createStateReader, type StateReader } from './state-reader.js'
import { createStateWriter, mergeGroups, type OpGroup, type StateOp } from './state-ops.js'
import { createStateStore, recordMark, type StateStore } from './state-store.js'
import { createLogCheck, exclusive, newPartitionState, type PartitionState } from './log-check.js'
import { seekOrWait } from './seek.js'

/** Where a service is in its life. */
export type ServicePhase = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed'

/** Counters of this process since start, for tests, benchmarks and the operator. */
export interface ServiceStats {
  applied: number
  /** Newer revisions of applied events, applied as corrections. */
  corrected: number
  duplicates: number
  deadLettered: number
  rebuilds: number
}

/** What `status()` reports; `/readyz` answers `ready` and `reason`. */
export interface ServiceStatus {
  phase: ServicePhase
  ready: boolean
  reason?: string
  /** Partitions being replayed from the beginning to rebuild their state. */
  rebuilding: number[]
  assigned: number[]
  epoch: string | undefined
  consecutiveFailures: number
  stats: ServiceStats
}

/** A running (or runnable) consumer service. */
export interface ConsumerService {
  readonly name: string
  /** The input topic actually consumed. */
  readonly input: string
  readonly config: Readonly<ConsumerServiceConfig>
  readonly logger: Logger
  /** The registry behind `/metrics`; a service may declare its own metrics on it. */
  readonly metrics: MetricsRegistry
  /** Merged reads of the state (valid once started). */
  readonly state: StateReader
  /**
   * Starts the HTTP server, connects to Redis and Kafka (retrying while they are away), provisions
   * the dead-letter topic, joins the group and starts consuming; resolves once consuming.
   *
   * @throws AppError `HTTP_LISTEN_FAILED`, `KAFKA_TOPIC_MISMATCH`, `KAFKA_AUTH_FAILED` or another
   * non-retriable failure; resolves without starting if `stop()` is called meanwhile.
   */
  start(): Promise<void>
  /**
   * Stops consuming (in-flight work ends at a chunk boundary; only stored state is committed),
   * then closes Kafka, Redis and the HTTP server. Safe to call twice.
   *
   * @throws AppError `CONSUMER_SHUTDOWN_TIMEOUT` when it takes longer than
   * `CONSUMER_SHUTDOWN_TIMEOUT` (connections are then cut).
   */
  stop(): Promise<void>
  /** Whether `/readyz` answers 200: consuming, in the group, no partition being rebuilt. */
  readonly ready: boolean
  status(): ServiceStatus
  /** The bound HTTP port once started. */
  httpPort(): number | undefined
  /**
   * Settles when the service has stopped: resolves after `stop()`, rejects with the error that
   * stopped it (`CONSUMER_TOO_MANY_FAILURES`, a non-retriable Kafka or Redis failure).
   */
  readonly done: Promise<void>
}

/** How a chunk ended; `lastOffset` is the last message handled (the rest stays unresolved). */
type ChunkOutcome =
  | { kind: 'done'; lastOffset: string; applied: number }
  | { kind: 'fatal'; lastOffset: string; applied: number; error: AppError }
  | { kind: 'restart' }

/** A batch taken off kafkajs, in its partition's lane. */
interface QueuedBatch {
  partition: number
  bytes: number
  batch: EachBatchPayload['batch']
}

/**
 * Bytes the lanes may hold together before a partition's fetching pauses (resumed at half): about
 * one fetch, so the next is fetched while this one is processed, and no more.
 */
const LANE_MAX_BYTES = 16 * 1024 * 1024

/**
 * Creates a consumer service of ChatMessage events (the default decoder) or, with `decode`, of any
 * event type. The kit owns the configuration (read here, once: bad values throw `CONFIG_INVALID`
 * listing them all), connections, decoding, idempotent state, retries, dead letters, rebuilds,
 * metrics, health and shutdown; the handler only says what an event changes.
 *
 * @throws AppError `CONFIG_INVALID`, or `CONSUMER_OPTIONS_INVALID` for a bad name, no handler or a
 * bad Lua function name.
 */
export function createConsumerService(
  options: ConsumerServiceOptions<ChatMessage> & { decode?: undefined },
): ConsumerService
export function createConsumerService<T>(
  options: ConsumerServiceOptions<T> & { decode: (bytes: Buffer) => T },
): ConsumerService
export function createConsumerService<T>(options: ConsumerServiceOptions<T>): ConsumerService {
  const name = assertServiceName(options.name)
  if (options.handle === undefined && options.handleBatch === undefined) {
    throw new AppError('CONSUMER_OPTIONS_INVALID', `Consumer service ${name} has no handler`)
  }
  const inputSpec = typeof options.input === 'string' ? undefined : options.input
  const inputName = typeof options.input === 'string' ? options.input : options.input.name
  const config: Readonly<ConsumerServiceConfig> = Object.freeze({
    ...readConsumerConfig(options.env ?? process.env, {
      name,
      input: inputName,
      ...(options.httpPort === undefined ? {} : { httpPort: options.httpPort }),
      ...(options.partitionsConcurrently === undefined
        ? {}
        : { partitionsConcurrently: options.partitionsConcurrently }),
    }),
    ...options.config,
  })
  const input = config.inputTopic
  const provisionInput = inputSpec !== undefined && input === inputSpec.name
  const decode = options.decode ?? (decodeChatMessage as unknown as (bytes: Buffer) => T)
  const eventIdOf = options.eventId ?? defaultEventId
  const script = buildApplyScript(options.scripts)
  const keys = serviceKeys(name)
  const dlq = dlqTopic(name)
  const chunkSize = Math.max(1, options.maxEventsPerScript ?? 1_000)
  const logger = options.logger ?? createLogger({ name, level: config.logLevel })
  const registry = options.metrics ?? createMetricsRegistry({ defaultLabels: { service: name } })
  const companions = options.companions ?? []
  const metrics: ConsumerMetrics = createConsumerMetrics(registry)

  let phase: ServicePhase = 'created'
  let fatal: AppError | undefined
  const abort = new AbortController()
  const signal = abort.signal
  let redis: Redis | undefined
  /** Registry mode: looks up the schema ids of the input's Confluent wire format records. */
  const schemaRegistry =
    config.schemaRegistry === undefined ? undefined : createSchemaRegistry(config.schemaRegistry)
  let store: StateStore | undefined
  let reader: StateReader | undefined
  let admin: Admin | undefined
  let producer: EventProducer | undefined
  let consumer: Consumer | undefined
  let watcher: NodeJS.Timeout | undefined
  let epoch: string | undefined
  // The cluster id of the Kafka cluster consumed (describeCluster), read again at every check.
  // This process created the epoch key: Redis was new or lost its data.
  let epochCreated = false
  let joined = false
  let assigned = new Set<number>()
  const partitions = new Map<number, PartitionState>()
  let consecutiveFailures = 0
  let rebuildingSince: number | undefined
  let refreshing: Promise<void> | undefined
  let stopping: Promise<void> | undefined
  const stats: ServiceStats = {
    applied: 0,
    corrected: 0,
    duplicates: 0,
    deadLettered: 0,
    rebuilds: 0,
  }
  const revisions = options.revisions
  let settle: { resolve: () => void; reject: (error: AppError) => void } | undefined
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
  // A caller that never awaits `done` must not see an unhandled rejection.
  done.catch(() => undefined)

  const need = <V>(value: V | undefined, what: string): V => {
    if (value === undefined) throw new AppError('CONSUMER_OPTIONS_INVALID', `${what}: not started`)
    return value
  }

  const retryOptions = (tick?: () => Promise<void>): RetryingOptions => ({
    signal,
    maxBackoffMs: config.retryMaxBackoffMs,
    ...(tick === undefined ? {} : { tick }),
    onRetry: (error, attempt, delayMs) => {
      metrics.retries.inc({ code: error.code })
      if (attempt === 1 || attempt % 10 === 0) {
        logger.warn('retriable failure; pausing before the next attempt', {
          err: error,
          attempt,
          delayMs,
        })
      }
    },
  })

  const partitionState = (partition: number): PartitionState => {
    let state = partitions.get(partition)
    if (state === undefined) partitions.set(partition, (state = newPartitionState(partition)))
    return state
  }

  const rebuildingPartitions = (): number[] =>
    [...partitions.values()]
      .filter((p) => p.rebuildUntil !== undefined && assigned.has(p.partition))
      .map((p) => p.partition)
      .sort((a, b) => a - b)

  const updateRebuilding = (): void => {
    const now = rebuildingPartitions()
    metrics.rebuilding.set(now.length > 0 ? 1 : 0)
    if (now.length > 0 && rebuildingSince === undefined) {
      rebuildingSince = Date.now()
      logger.warn(`rebuilding state: replaying ${input} from the beginning before serving`, {
        partitions: now,
      })
    } else if (now.length === 0 && rebuildingSince !== undefined) {
      logger.info('state rebuilt', { durationMs: Date.now() - rebuildingSince })
      rebuildingSince = undefined
    }
  }

  const markRebuilding = (p: PartitionState, low: number, high: number, reason: string): void => {
    if (high <= low) return
    if (p.rebuildUntil === undefined) {
      stats.rebuilds++
      metrics.rebuilds.inc({ reason })
      // Normal at a first start (one per partition): the one summary line is 'rebuilding state'.
      logger.debug('partition state missing: replaying the partition from its first offset', {
        partition: p.partition,
        fromOffset: low,
        toOffset: high - 1,
        reason,
      })
    }
    p.rebuildUntil = Math.max(p.rebuildUntil ?? -1, high - 1)
    p.rebuildReason = reason
    updateRebuilding()
  }

  const progress = (p: PartitionState, lastOffset: number): void => {
    if (p.rebuildUntil !== undefined && lastOffset >= p.rebuildUntil) {
      logger.info('partition state rebuilt', { partition: p.partition, reason: p.rebuildReason })
      p.rebuildUntil = undefined
      p.rebuildReason = undefined
      updateRebuilding()
    }
  }

  /** Moves the fetch position; what the partition's lane holds was read from the old one. */
  const seek = (partition: number, offset: number): void => {
    lanes.clear(partition)
    seekOrWait(need(consumer, 'consumer'), input, partition, offset)
  }

  const logCheck = createLogCheck({
    input,
    group: name,
    logger,
    metrics,
    admin: () => need(admin, 'admin'),
    store: () => need(store, 'store'),
    epoch: () => need(epoch, 'epoch'),
    epochCreated: () => epochCreated,
    assigned: () => assigned,
    partitionState,
    markRebuilding,
    seek,
  })
  const { bounds, reconcile, reportGap, checkPartition, refreshCluster } = logCheck

  /** Reads the epoch again (creating it if Redis lost it) and reconciles when it changed. */
  const refreshEpoch = (trigger: string, tick?: () => Promise<void>): Promise<void> => {
    refreshing ??= (async () => {
      try {
        const found = await retrying(async () => {
          try {
            return await ensureEpoch(need(redis, 'redis'), name)
          } catch (error) {
            throw toRedisError(error)
          }
        }, retryOptions(tick))
        if (found.epoch !== epoch) {
          logger.warn('redis epoch changed: state is rebuilt by replaying the input', {
            previous: epoch,
            epoch: found.epoch,
            created: found.created,
            trigger,
          })
          epoch = found.epoch
          epochCreated = found.created
        }
        await retrying(reconcile, retryOptions(tick))
      } finally {
        refreshing = undefined
      }
    })()
    return refreshing
  }

  const watchEpoch = async (): Promise<void> => {
    if (refreshing !== undefined || phase !== 'running') return
    let value: string | null
    try {
      value = await need(redis, 'redis').get(keys.epoch)
    } catch {
      return // Redis away: the retry loops report it.
    }
    if (value !== epoch)
      await refreshEpoch(value === null ? 'epoch key missing' : 'epoch key changed')
  }

  const onAssignment = (memberAssignment: Record<string, number[]>): void => {
    const now = new Set(memberAssignment[input] ?? [])
    const before = assigned
    for (const partition of assigned) {
      if (!now.has(partition)) {
        partitions.delete(partition)
        metrics.lag.remove({ partition: String(partition) })
      }
    }
    assigned = now
    joined = true
    // kafkajs reads every partition again from its committed offset: what the lanes hold now is
    // fetched again, or (a revoked partition) belongs to another member.
    for (const partition of new Set([...before, ...now])) lanes.clear(partition)
    logger.info('partitions assigned', { partitions: [...now].sort((a, b) => a - b) })
    updateRebuilding()
    retrying(reconcile, retryOptions()).catch((error: unknown) => {
      if (!(error instanceof Stopped)) fail(asAppError(error, 'reconcile'))
    })
  }

  const decodeChunk = chunkDecoder<T>({ decode, eventIdOf, revisions, name })

  /**
   * Sends the dead letters of `items` (one partition's) whose origin (cluster, topic, partition,
   * offset) was never dead-lettered before, then records their origins in Redis; returns the
   * offsets passed over. A replay (a rebuild, a log check's seek back) meets the same poison again:
   * the dead-letter topic keeps one record of it. Sent before recorded: a crash between the two
   * sends it again, and `dlq list` and `dlq redrive` still count it once (by origin).
   */
  const produceDeadLetters = async (
    topic: string,
    partition: number,
    items: Item<T>[],
  ): Promise<Set<string>> => {
    const repeated = new Set<string>()
    if (items.length === 0) return repeated
    const r = need(redis, 'redis')
    const cluster = need(logCheck.cluster(), 'cluster id')
    const origins = items.map((i) => `${cluster}|${topic}|${partition}|${i.message.offset}`)
    let scores: (string | null)[]
    try {
      scores = await r.zmscore(keys.deadLetters, ...origins)
    } catch (error) {
      throw toRedisError(error)
    }
    const isNew = origins.map((_, k) => scores[k] === null || scores[k] === undefined)
    const records: OutgoingRecord[] = []
    items.forEach((item, k) => {
      if (!isNew[k]) repeated.add(item.message.offset)
      else
        records.push(
          deadLetterRecord(dlq.name, { topic, partition, message: item.message }, item.error!),
        )
    })
    if (records.length === 0) return repeated
    await need(producer, 'producer').send(records)
    const now = Date.now()
    try {
      await r.zadd(
        keys.deadLetters,
        ...origins.flatMap((origin, k) => (isNew[k] ? [now, origin] : [])),
      )
      // Kept as long as the dead-letter topic keeps its records.
      await r.zremrangebyscore(keys.deadLetters, '-inf', now - (dlq.retentionMs ?? 30 * 86_400_000))
    } catch (error) {
      throw toRedisError(error)
    }
    return repeated
  }

  /** Runs `handleBatch` on `items`, halving on a non-retriable failure to find the event at fault. */
  const runBatchHandler = async (
    topic: string,
    partition: number,
    items: Item<T>[],
  ): Promise<{ items: Item<T>[]; ops: StateOp[] }[]> => {
    const handleBatch = options.handleBatch
    if (handleBatch === undefined || items.length === 0) return []
    const ops: StateOp[] = []
    const ctx: BatchContext = {
      topic,
      partition,
      state: createStateWriter(ops, script.functions),
      logger,
    }
    try {
      await handleBatch(
        items.map((item) => item.info as Delivered<T>),
        ctx,
      )
      return [{ items, ops }]
    } catch (error) {
      const appError = asAppError(error, 'handleBatch')
      if (appError.retriable) throw appError
      if (items.length === 1) {
        items[0]!.error = appError
        return []
      }
      const half = Math.ceil(items.length / 2)
      return [
        ...(await runBatchHandler(topic, partition, items.slice(0, half))),
        ...(await runBatchHandler(topic, partition, items.slice(half))),
      ]
    }
  }

  /**
   * Filters, handles, dead-letters and applies one decoded chunk; see README: processing. `ahead`
   * runs once, while the chunk's script is in Redis (the next chunk is decoded meanwhile).
   */
  const processChunk = async (
    p: PartitionState,
    topic: string,
    items: Item<T>[],
    ahead?: () => void,
  ): Promise<ChunkOutcome> => {
    const s = need(store, 'store')
    const current = need(epoch, 'epoch')
    // A retried chunk starts again from what decoding found.
    for (const item of items) {
      item.error = item.decodeError
      item.duplicate = undefined
      item.ops = undefined
    }
    const sent = new Set<string>()
    // Offsets whose origin was dead-lettered before (a replay): not sent again.
    const dlqRepeats = new Set<string>()
    let optimistic = p.storedOffset !== undefined && !p.fresh
    for (;;) {
      const candidates = items.filter((i) => i.error === undefined && i.redrivenFor === undefined)
      let stored = p.storedOffset ?? -1
      let knownIds = new Set<string>()
      let tokens = new Map<string, string>()
      if (!optimistic) {
        const ids = [
          ...new Set(candidates.flatMap((i) => (i.eventId === undefined ? [] : [i.eventId]))),
        ]
        const found = await s.prefilter(p.partition, ids, revisions !== undefined)
        const { meta, known } = found
        if (meta.epoch !== current && !(meta.epoch === undefined && p.fresh))
          return { kind: 'restart' }
        stored = meta.offset ?? -1
        knownIds = new Set(ids.filter((_, i) => known[i]))
        tokens = new Map(ids.flatMap((id, i) => (found.tokens[i] ? [[id, found.tokens[i]]] : [])))
      }
      const fresh =
        revisions === undefined
          ? freshEvents(candidates, stored, knownIds)
          : freshRevisions(candidates, stored, knownIds, tokens, (e) => revisions.summary(e))
      // A redriven copy for another service is one of its events this service has seen.
      for (const item of items) if (item.redrivenFor !== undefined) item.duplicate = true

      if (options.handle !== undefined) {
        for (const item of fresh) {
          if (item.ops !== undefined || item.error !== undefined) continue
          const ops: StateOp[] = []
          const { info } = item
          const ctx: EventContext = {
            topic: info.topic,
            partition: info.partition,
            offset: info.offset,
            key: info.key,
            timestamp: info.timestamp,
            ...(info.previous === undefined ? {} : { previous: info.previous }),
            state: createStateWriter(ops, script.functions),
            logger,
          }
          try {
            await options.handle(item.event as T, ctx)
            item.ops = ops
          } catch (error) {
            const appError = asAppError(error, 'handle')
            if (appError.retriable) throw appError
            item.error = appError
          }
        }
      }
      const handled = (i: Item<T>): boolean => i.error === undefined
      let batchGroups =
        options.handleBatch === undefined
          ? []
          : await runBatchHandler(topic, p.partition, fresh.filter(handled))
      // Failures in a row, counted in offset order; the one that reaches the limit ends the chunk.
      let { cut, run } = countFailures(items, consecutiveFailures, config.maxConsecutiveFailures)
      const within = (i: Item<T>): boolean => i.index < cut
      while (
        cut < items.length &&
        batchGroups.some((g) => g.items.some(within) && !g.items.every(within))
      ) {
        // A batch group reaches past the cut: record the batch again with the events before it.
        batchGroups = await runBatchHandler(
          topic,
          p.partition,
          fresh.filter((i) => handled(i) && within(i)),
        )
        ;({ cut, run } = countFailures(items, consecutiveFailures, config.maxConsecutiveFailures))
      }
      const taken = cut === items.length ? items : items.slice(0, cut)

      // Dead letters are durable before the offset passes them.
      const repeated = await produceDeadLetters(
        topic,
        p.partition,
        taken.filter((i) => i.error !== undefined && !sent.has(i.message.offset)),
      )
      for (const offset of repeated) dlqRepeats.add(offset)
      for (const item of taken) if (item.error !== undefined) sent.add(item.message.offset)

      // Items are their group's events (offset, eventId).
      const groups: { items: Item<T>[]; group: OpGroup }[] = []
      if (options.handle !== undefined) {
        // With both handlers, an event's `handle` ops join its batch group: one group per event.
        const inBatch = new Set(batchGroups.flatMap((g) => g.items))
        for (const item of fresh) {
          if (handled(item) && within(item) && item.ops !== undefined && !inBatch.has(item)) {
            groups.push({ items: [item], group: { events: [item], ops: item.ops } })
          }
        }
      }
      for (const { items: members, ops } of batchGroups) {
        if (members.every(within)) {
          const all =
            options.handle === undefined ? ops : [...members.flatMap((i) => i.ops ?? []), ...ops]
          groups.push({ items: members, group: { events: members, ops: all } })
        }
      }
      const last = taken[taken.length - 1]!
      const lastMark = recordMark(last.message)
      const log = { cluster: need(logCheck.cluster(), 'cluster id'), topic: input }
      const apply = (list: OpGroup[]) =>
        s.apply({
          partition: p.partition,
          epoch: current,
          fresh: p.fresh,
          ...(p.storedOffset === undefined ? {} : { knownOffset: p.storedOffset }),
          eventIdTtlMs: config.eventIdTtlMs,
          lastOffset: last.message.offset,
          lastMark,
          log,
          groups: list,
        })
      // Usually the chunk's groups go as one, their HINCRBYs summed: far less for Redis to do.
      // A rejection is then retried group by group, to find the event at fault.
      let merged = groups.length > 1
      const pending = apply(
        merged ? [mergeGroups(groups.map((g) => g.group))] : groups.map((g) => g.group),
      )
      ahead?.()
      ahead = undefined
      let result = await pending
      if (merged && result.status === 'REJECTED') {
        merged = false
        result = await apply(groups.map((g) => g.group))
      }
      switch (result.status) {
        case 'BEHIND':
          // Acknowledged writes are gone (a failover to a replica that had not received them, a
          // restore): the check that follows seeks back to what Redis holds and applies again.
          metrics.rebuilds.inc({ reason: 'state_behind' })
          logger.warn(
            `partition state in redis went back from offset ${p.storedOffset ?? -1} to ${result.offset} (a failover or restore lost acknowledged writes): applying again from there`,
            { partition: p.partition, code: 'CONSUMER_STATE_BEHIND' },
          )
          p.storedOffset = undefined
          return { kind: 'restart' }
        case 'LOST':
        case 'STALE':
        case 'FOREIGN':
          return { kind: 'restart' }
        case 'CONFLICT':
          // Some events were applied already (a duplicate at a new offset, or another consumer
          // meanwhile): read what Redis holds and filter again.
          for (const item of items) delete item.ops
          optimistic = false
          continue
        case 'REJECTED':
          for (const { group, reason } of result.rejected) {
            for (const item of groups[group]?.items ?? []) {
              item.error = new AppError(
                'CONSUMER_STATE_OP_REJECTED',
                `A state operation cannot apply: ${reason}`,
              )
            }
          }
          continue
        case 'OK':
          break
      }
      for (const { group, error } of result.opErrors) {
        metrics.stateOpErrors.inc()
        const members = merged ? groups.flatMap((g) => g.items) : (groups[group]?.items ?? [])
        logger.error('redis refused a state operation; the rest of its events was applied', {
          partition: p.partition,
          offsets: members.map((i) => i.message.offset),
          error,
        })
      }
      const skipped = new Set(result.skipped)
      let applied = 0
      let corrected = 0
      let duplicates = 0
      let deadLettered = 0
      groups.forEach((g, index) => {
        if (skipped.has(merged ? 0 : index)) duplicates += g.items.length
        else {
          const corrections = g.items.filter((i) => i.info.previous !== undefined).length
          applied += g.items.length - corrections
          corrected += corrections
        }
      })
      for (const item of taken) {
        if (item.error !== undefined) deadLettered++
        else if (item.duplicate) duplicates++
      }
      metrics.messages.inc({ outcome: 'applied' }, applied)
      if (corrected > 0) metrics.messages.inc({ outcome: 'corrected' }, corrected)
      if (duplicates > 0) metrics.messages.inc({ outcome: 'duplicate' }, duplicates)
      for (const item of taken) {
        if (item.error === undefined) continue
        metrics.messages.inc({ outcome: 'dead_lettered' })
        if (dlqRepeats.has(item.message.offset)) {
          logger.info('message failed again; its dead letter was sent before (a replay)', {
            topic,
            partition: p.partition,
            offset: item.message.offset,
            dlq: dlq.name,
            err: item.error,
          })
          continue
        }
        metrics.deadLetters.inc({ code: item.error.code })
        logger.warn('message sent to the dead-letter topic', {
          topic,
          partition: p.partition,
          offset: item.message.offset,
          dlq: dlq.name,
          err: item.error,
        })
      }
      stats.applied += applied
      stats.corrected += corrected
      stats.duplicates += duplicates
      stats.deadLettered += deadLettered
      consecutiveFailures = run
      metrics.consecutiveFailures.set(run)
      p.fresh = false
      p.storedOffset = Math.max(stored, Number(last.message.offset))
      progress(p, Number(last.message.offset))
      if (cut < items.length || run >= config.maxConsecutiveFailures) {
        const lastError = taken[taken.length - 1]?.error
        const error = new AppError(
          'CONSUMER_TOO_MANY_FAILURES',
          `${run} messages in a row went to ${dlq.name} (the last: ${lastError?.code ?? 'unknown'}: ${lastError?.message ?? ''}); the consumer stopped instead of dead-lettering the whole topic. Fix the cause, then restart; redrive with: npm run consumer -- dlq redrive ${name}`,
          { cause: lastError, details: { dlq: dlq.name, consecutive: run } },
        )
        return {
          kind: 'fatal',
          lastOffset: last.message.offset,
          applied: applied + corrected,
          error,
        }
      }
      return { kind: 'done', lastOffset: last.message.offset, applied: applied + corrected }
    }
  }

  /**
   * Processes one batch of a partition's lane: checks the partition's state against the log, then
   * applies the batch chunk by chunk, marking each chunk's offsets for commit once stored. Ends
   * early, quietly, when the lane was cleared meanwhile (a seek, a rebalance) or the service stops.
   */
  const processBatch = async (queued: QueuedBatch, generation: number): Promise<void> => {
    const { batch } = queued
    const started = performance.now()
    const p = partitionState(batch.partition)
    const live = (): boolean =>
      !signal.aborted && fatal === undefined && lanes.current(batch.partition, generation)
    // Between retries: a cleared lane or a revoked partition ends them.
    const tick = (): Promise<void> => (live() ? Promise.resolve() : Promise.reject(new Stopped()))
    try {
      const markComes =
        p.markAhead !== undefined && Number(batch.messages.at(-1)?.offset ?? -1) >= p.markAhead
      if (p.checkedEpoch !== epoch || p.checkedEpoch === undefined || markComes) {
        const go = await retrying(
          () => exclusive(p, () => checkPartition(p, batch.messages)),
          retryOptions(tick),
        )
        if (!go) return
      } else if (
        p.storedOffset !== undefined &&
        Number(batch.firstOffset()) > p.storedOffset + 1 &&
        !p.fresh
      ) {
        // The fetch position jumped past unapplied offsets: the log start moved (retention) while
        // this consumer lagged, and the client reset to the earliest offset.
        const storedOffset = p.storedOffset
        const { low } = await retrying(() => bounds(p.partition), retryOptions(tick))
        if (low > storedOffset + 1)
          reportGap(p.partition, low - 1 - storedOffset, low, storedOffset)
      }
      const { messages } = batch
      if (schemaRegistry !== undefined) {
        // Every schema id of the batch known before decoding (nothing to do for single-object
        // records or ids seen before); a registry away is retried like Redis.
        await retrying(
          () => schemaRegistry.prepare(messages.map((m) => m.value)),
          retryOptions(tick),
        )
      }
      const chunkAt = (from: number): KafkaMessage[] => messages.slice(from, from + chunkSize)
      let next: Item<T>[] | undefined
      for (let from = 0; from < messages.length; from += chunkSize) {
        if (!live()) return
        const decoded = next
        next = undefined
        const following = from + chunkSize
        // Decodes the next chunk while this one's script runs; a failure is met again in turn.
        const ahead = (): void => {
          if (following >= messages.length) return
          try {
            next = decodeChunk(batch.topic, p.partition, chunkAt(following))
          } catch {
            next = undefined
          }
        }
        const outcome = await retrying(
          () =>
            processChunk(
              p,
              batch.topic,
              decoded ?? decodeChunk(batch.topic, p.partition, chunkAt(from)),
              ahead,
            ),
          retryOptions(tick),
        )
        if (outcome.kind === 'restart') {
          p.checkedEpoch = undefined
          logger.warn('partition state lost or replaced in redis; checking it again', {
            partition: p.partition,
            code: 'CONSUMER_STATE_LOST',
          })
          // The fetch position is past this chunk: read it again after the check.
          seek(p.partition, Number(messages[from]!.offset))
          // Not ended by the lane's clear: the next check needs the epoch Redis holds now.
          await refreshEpoch('state lost while applying')
          return
        }
        const hook = options.hooks?.afterStateStored
        if (hook !== undefined) {
          const info = {
            partition: p.partition,
            lastOffset: outcome.lastOffset,
            applied: outcome.applied,
          }
          await retrying(async () => {
            try {
              await hook(info)
            } catch (error) {
              throw asAppError(error, 'afterStateStored')
            }
          }, retryOptions(tick))
        }
        commits.stored(p.partition, Number(outcome.lastOffset))
        if (outcome.kind === 'fatal') {
          // Stopped only now, so that what was handled before the limit is committed.
          fail(outcome.error)
          return
        }
      }
      progress(p, Number(batch.lastOffset()))
      const lag = Number(batch.highWatermark) - 1 - Number(batch.lastOffset())
      metrics.lag.set({ partition: String(batch.partition) }, Math.max(0, lag))
    } catch (error) {
      if (error instanceof Stopped) return
      fail(asAppError(error, 'processing'))
    } finally {
      void commits.flush()
      metrics.batchDuration.observe((performance.now() - started) / 1000)
    }
  }

  /** Back-pressure on kafkajs; a consumer stopping or rejoining may refuse it (then moot). */
  const pauseFetching = (action: 'pause' | 'resume', partition: number): void => {
    try {
      consumer?.[action]([{ topic: input, partitions: [partition] }])
    } catch (error) {
      logger.debug(`could not ${action} fetching a partition`, { partition, err: error })
    }
  }

  const lanes = createPartitionLanes<QueuedBatch>({
    maxBytes: LANE_MAX_BYTES,
    concurrency: config.partitionsConcurrently,
    stopped: () => signal.aborted || fatal !== undefined,
    hooks: {
      process: processBatch,
      pause: (partition) => pauseFetching('pause', partition),
      resume: (partition) => pauseFetching('resume', partition),
    },
  })

  const commits = createOffsetCommits({
    commit: async (offsets) => {
      await need(consumer, 'consumer').commitOffsets(
        offsets.map(({ partition, offset }) => ({
          topic: input,
          partition,
          offset: String(offset),
        })),
      )
    },
    owned: (partition) => assigned.has(partition),
    onError: (error) =>
      logger.debug('committing offsets failed; the next batch commits them', { err: error }),
  })

  /**
   * kafkajs's `eachBatch`: takes the batch into its partition's lane and returns at once, so that
   * kafkajs fetches the next one while the lane processes this one. Resolving its last offset moves
   * only the fetch position; offsets are committed once their state is stored (`commits`).
   */
  const eachBatch = (payload: EachBatchPayload): Promise<void> => {
    const { batch } = payload
    if (batch.messages.length === 0) return Promise.resolve()
    if (!payload.isRunning() || payload.isStale() || signal.aborted || fatal !== undefined)
      return Promise.resolve()
    let bytes = 0
    for (const m of batch.messages) bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0) + 64
    lanes.push({ partition: batch.partition, bytes, batch })
    payload.resolveOffset(batch.lastOffset())
    return Promise.resolve()
  }

  const readiness = (): { ready: boolean; reason?: string } => {
    if (phase === 'failed') return { ready: false, reason: `stopped: ${fatal?.code ?? 'failed'}` }
    if (phase !== 'running') return { ready: false, reason: phase }
    if (!joined) return { ready: false, reason: 'joining the consumer group' }
    const rebuilding = rebuildingPartitions()
    if (rebuilding.length > 0) {
      return {
        ready: false,
        reason: `rebuilding state: replaying ${input} from the beginning (partitions ${rebuilding.join(', ')})`,
      }
    }
    for (const companion of companions) {
      const status = companion.status()
      if (!status.ready)
        return { ready: false, reason: `${companion.name}: ${status.reason ?? 'not ready'}` }
    }
    return { ready: true }
  }

  const http: HttpServer | undefined =
    (options.http ?? true)
      ? createHttpServer({
          port: config.httpPort,
          host: config.httpHost,
          security: config.httpSecurity,
          registry:
            companions.length === 0
              ? registry
              : withMetricsOf(registry, () => companions.map((c) => c.metrics)),
          logger,
          readiness,
          ...(options.routes === undefined
            ? {}
            : {
                routes: (req, res) =>
                  need(options.routes, 'routes')(req, res, { state: service.state, logger }),
              }),
        })
      : undefined
  let boundPort: number | undefined

  const closeAll = async (): Promise<void> => {
    clearInterval(watcher)
    // The batches in flight end at a chunk boundary; what they stored is committed while this
    // consumer is still in the group.
    await lanes.idle()
    await commits.flush()
    await consumer?.disconnect().catch(() => undefined)
    await producer?.disconnect().catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
    // QUIT would wait in the offline queue while Redis is away.
    if (redis?.status === 'ready') await redis.quit().catch(() => redis?.disconnect())
    else redis?.disconnect()
    await schemaRegistry?.close().catch(() => undefined)
    // After this service: they may hold what its queries join.
    await Promise.all(companions.map((c) => c.stop().catch(() => undefined)))
    await http?.close()
  }

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const failed = fatal !== undefined
      if (!failed) phase = 'stopping'
      abort.abort()
      logger.info('stopping')
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), config.shutdownTimeoutMs)
      })
      const outcome = await Promise.race([closeAll().then(() => 'closed' as const), timedOut])
      clearTimeout(timer)
      if (outcome === 'timeout') {
        redis?.disconnect()
        const error = new AppError(
          'CONSUMER_SHUTDOWN_TIMEOUT',
          `${name} did not stop within ${config.shutdownTimeoutMs} ms`,
        )
        logger.error('stop timed out; connections cut', { err: error })
        phase = failed ? 'failed' : 'stopped'
        settle?.reject(fatal ?? error)
        throw error
      }
      phase = failed ? 'failed' : 'stopped'
      logger.info('stopped')
      if (fatal !== undefined) settle?.reject(fatal)
      else settle?.resolve()
    })()
    return stopping
  }

  const fail = (error: AppError): void => {
    if (fatal !== undefined || stopping !== undefined) return
    fatal = error
    phase = 'failed'
    logger.fatal('consumer service stopped on a failure', { err: error })
    // Not awaited here: stopping waits for the batch that is calling this to return.
    setImmediate(() => void stop().catch(() => undefined))
  }

  const start = async (): Promise<void> => {
    if (phase !== 'created')
      throw new AppError('CONSUMER_OPTIONS_INVALID', `${name} was started twice`)
    phase = 'starting'
    try {
      if (http !== undefined) boundPort = (await http.listen()).port
      for (const companion of companions) {
        companion.done.catch((error: unknown) =>
          fail(asAppError(error, `companion ${companion.name}`)),
        )
      }
      await Promise.all(companions.map((c) => c.start()))
      const connection = createRedis(config.redis, { name: `${name}-state`, logger })
      redis = connection
      store = createStateStore(connection, keys, script)
      reader = createStateReader({ redis: connection, name })
      await retrying(async () => {
        try {
          await waitUntilReady(connection, { timeoutMs: 5_000 })
          const found = await ensureEpoch(connection, name)
          epoch = found.epoch
          epochCreated = found.created
          if (found.created) {
            logger.info(
              `redis epoch missing (new or lost data): state is rebuilt by replaying ${input} from the beginning`,
              { epoch: found.epoch },
            )
          }
        } catch (error) {
          throw toRedisError(error)
        }
      }, retryOptions())

      const client = createKafkaClient({ ...config.kafka, logger: logger.child({ kafka: true }) })
      const specs = [dlq, ...(provisionInput && inputSpec ? [inputSpec] : [])]
      await retrying(
        () => provisionTopics(client, specs, provisionOptionsOf(config.kafka, logger)),
        retryOptions(),
      )
      const adminClient = client.admin()
      admin = adminClient
      await retrying(async () => {
        try {
          await adminClient.connect()
        } catch (error) {
          throw toKafkaError(error, 'Connecting the admin client')
        }
      }, retryOptions())
      await retrying(refreshCluster, retryOptions())
      const dlqProducer = createSessionProducer(() => createEventProducer(client))
      producer = dlqProducer
      await retrying(() => dlqProducer.connect(), retryOptions())
      // A group the principal may not use would otherwise look like a cluster that is away.
      await assertGroupAccess(config.kafka, name, [input])

      await retrying(async () => {
        const attempt = createConsumer(client, {
          groupId: name,
          sessionTimeoutMs: config.sessionTimeoutMs,
          heartbeatIntervalMs: config.heartbeatIntervalMs,
          // An idle fetch is held this long; stopping waits for it.
          maxWaitTimeMs: 1_000,
        })
        attempt.on(attempt.events.GROUP_JOIN, ({ payload }) =>
          onAssignment(payload.memberAssignment),
        )
        // A rebalance starts: what is stored is committed before the partitions move.
        attempt.on(attempt.events.REBALANCING, () => void commits.flush())
        consumer = attempt
        try {
          await runBatches(attempt, {
            topics: [input],
            groupId: name,
            fromBeginning: true,
            eachBatchAutoResolve: false,
            autoCommit: false,
            partitionsConsumedConcurrently: config.partitionsConcurrently,
            eachBatch,
            onCrash: (error, restart) => {
              if (restart)
                logger.warn('kafka consumer crashed; kafkajs restarts it', { err: error })
              else fail(error)
            },
          })
        } catch (error) {
          await attempt.disconnect().catch(() => undefined)
          throw error
        }
      }, retryOptions())
      if (signal.aborted) {
        // stop() ran while starting: close what was opened after it.
        await closeAll()
        return
      }
      phase = 'running'
      watcher = setInterval(() => {
        watchEpoch().catch((error: unknown) => {
          // A stop during the check ends its retries with Stopped: nothing to report.
          if (!(error instanceof Stopped)) fail(asAppError(error, 'reconcile'))
        })
      }, config.epochCheckIntervalMs)
      logger.info('consuming', {
        input,
        group: name,
        dlq: dlq.name,
        httpPort: boundPort,
        epoch,
      })
    } catch (error) {
      if (error instanceof Stopped) return
      const appError = asAppError(error, 'start')
      if (stopping === undefined) {
        fatal = appError
        phase = 'failed'
        await stop().catch(() => undefined)
      }
      throw appError
    }
  }

  const service: ConsumerService = {
    name,
    input,
    config,
    logger,
    metrics: registry,
    get state(): StateReader {
      return need(reader, 'state')
    },
    start,
    stop,
    get ready(): boolean {
      return readiness().ready
    },
    status: () => {
      const { ready, reason } = readiness()
      return {
        phase,
        ready,
        ...(reason === undefined ? {} : { reason }),
        rebuilding: rebuildingPartitions(),
        assigned: [...assigned].sort((a, b) => a - b),
        epoch,
        consecutiveFailures,
        stats: { ...stats },
      }
    },
    httpPort: () => boundPort,
    done,
  }
  return service
}
