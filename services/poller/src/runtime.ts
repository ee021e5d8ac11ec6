import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import {
  chatMessageCodec,
  pollerCheckpointCodec,
  pollerTopics,
  topics,
  type EncodeOptions,
} from '@wolkvox-chat-stream/events'
import {
  createEventProducer,
  createSessionProducer,
  createKafkaClient,
  kafkaLogToLogger,
  provisionTopics,
  type EventProducer,
  type Kafka,
  provisionOptionsOf,
} from '@wolkvox-chat-stream/kafka'
import type { Logger, MetricsRegistry } from '@wolkvox-chat-stream/observability'
import {
  createRedis,
  isCluster,
  tokenKeyPart,
  waitUntilReady,
  type Redis,
} from '@wolkvox-chat-stream/redis'
import {
  createSchemaRegistry,
  registryEncoding,
  type SchemaRegistry,
} from '@wolkvox-chat-stream/schema-registry'
import { createTokenLock, type TokenLock } from '@wolkvox-chat-stream/token-lock'
import { createWolkvoxClient } from '@wolkvox-chat-stream/wolkvox-client'
import {
  createCheckpointLog,
  createOperationBinding,
  type CheckpointLog,
} from './adapters/checkpoint-log.js'
import { createEventFactory } from './adapters/event-factory.js'
import { createKafkaSink } from './adapters/kafka-sink.js'
import { createRedisPublishedSet } from './adapters/published-set.js'
import { createWolkvoxSource } from './adapters/wolkvox-source.js'
import { reserveCalls, type OperationConfig, type PollerConfig } from './config.js'
import {
  pollOperation,
  rebindOperation,
  type PollOperationDeps,
  type PollSummary,
  type RebindSummary,
} from './core/poll-operation.js'
import type { ChatSource } from './core/ports.js'
import { nextLocalMidnight } from './local-day.js'
import { createPollerMetrics, type PollerMetrics } from './metrics.js'
import { createOperationStore, type OperationStore, type PollPurpose } from './operation-store.js'
import type { Range } from './window.js'

/** How one poll runs. */
export interface PollOptions {
  /** Default `once`. A backfill may not use the live reserve of the daily quota. */
  purpose?: PollPurpose
  /** Default `POLL_LOCK_WAIT`. */
  lockWaitMs?: number
  /** Graceful stop: the piece in flight finishes, no other starts. */
  stop?: AbortSignal
  /** Abandon now: the call in flight is aborted. */
  abandon?: AbortSignal
}

/** One operation's long-lived parts. */
export interface OperationHandle {
  operation: OperationConfig
  lock: TokenLock
  store: OperationStore
  /** Calls per local day. */
  budget: number
  /** How many of today's remaining calls only live polls may use, at `nowMs`. */
  reserveAt(nowMs?: number): number
  /** `tokenKeyPart` of the token, as in the lock's key names (never the token). */
  tokenHash: string
}

/** The poller's long-lived parts: connections, producer, metrics. Closed with {@link PollerRuntime.close}. */
export interface PollerRuntime {
  config: Readonly<PollerConfig>
  kafka: Kafka
  producer: EventProducer
  /** Lock connection: offline queue off, no replays (token-lock). */
  lockRedis: Redis
  /** Everything else (published set, quota, status). */
  redis: Redis
  metrics: PollerMetrics
  logger: Logger
  /** The checkpoint topic of the cluster written to, shared by every operation (checkpoint-log.ts). */
  checkpoints: CheckpointLog
  /** The operation's lock, store and quota limits (created once). */
  handle(operation: OperationConfig): OperationHandle
  /**
   * Polls one operation once: the next due range, or `range` (which never starts a new
   * operation's watermark). Records the outcome for `status`, counts every upstream call against
   * the daily quota, and pauses the operation after an invalid token (an hour, or until the token
   * changes) or a used-up upstream quota (until the next local day).
   * @throws AppError `POLL_OPERATION_PAUSED`, `POLL_QUOTA_BUDGET_EXHAUSTED`,
   *   `POLL_QUOTA_RESERVE_REACHED`, `POLL_LOCK_BUSY`, `POLL_STOPPED`, and whatever the poll throws.
   */
  poll(operation: OperationConfig, range?: Range, options?: PollOptions): Promise<PollSummary>
  /**
   * `rebind`: binds the operation to the Kafka log it now writes to (core/poll-operation.ts,
   * `rebindOperation`): re-poll from `fromMs`, or accept the log at the current watermark.
   * @throws AppError `CONFIG_INVALID`, `POLL_LOCK_BUSY`, Kafka's and Redis's errors.
   */
  rebind(operation: OperationConfig, options?: { fromMs?: number }): Promise<RebindSummary>
  close(): Promise<void>
}

/**
 * Replicas the lease and the watermark wait for: `REDIS_WAIT_REPLICAS`, else 1 on a cluster (a
 * failover promotes a replica: it must hold every lease granted; a master without replicas is not
 * waited for), else 0.
 */
function lockReplicas(config: Readonly<PollerConfig>, redis: Redis): number {
  return config.redisWaitReplicas ?? (isCluster(redis) ? 1 : 0)
}

/** Errors after which polling on a schedule cannot help: they need a person, or a new day. */
const STOPPING_CODES = new Set([
  'WOLKVOX_TOKEN_INVALID',
  'WOLKVOX_TOKEN_MISSING',
  'WOLKVOX_QUOTA_EXCEEDED',
])
const TOKEN_PAUSE_MS = 3_600_000

/** The per-operation parts of a poller, shared by the runtime and the `status` command. */
export function createOperationHandle(input: {
  config: Readonly<PollerConfig>
  operation: OperationConfig
  lockRedis: Redis
  redis: Redis
  metrics?: PollerMetrics
  /** Says once per wait why the token lock holds a poll back (a Redis without a lock epoch). */
  logger?: Logger
}): OperationHandle {
  const { config, operation } = input
  const budget = operation.dailyQuota
  return {
    operation,
    budget,
    reserveAt: (nowMs = Date.now()) =>
      reserveCalls(config.quotaReserve, budget, {
        remainingMs: nextLocalMidnight(nowMs, operation.timeZone) - nowMs,
        intervalMs: config.intervalMs,
        sweepIntervalMs: config.sweepIntervalMs,
        sweepLookbackMs: config.sweepLookbackMs,
        maxWindowMs: config.maxWindowMs,
      }),
    tokenHash: tokenKeyPart(operation.token.reveal()),
    lock: createTokenLock({
      redis: input.lockRedis,
      server: operation.server,
      token: operation.token,
      ttlMs: config.lockTtlMs,
      replicas: lockReplicas(config, input.lockRedis),
      hooks: {
        ...input.metrics?.lockHooks(operation.server),
        // The one wait an operator cannot explain from outside: say why and for how long.
        onQuarantine: ({ waitMs, ttlMs }) =>
          input.logger?.warn(
            `token lock held back ${(waitMs / 1000).toFixed(1)} s: this Redis has no lock epoch (it is new, or lost its data), so a lease granted before may still be running; no lease for one POLL_LOCK_TTL`,
            { server: operation.server, reason: 'quarantine', waitMs, ttlMs },
          ),
      },
    }),
    store: createOperationStore({
      redis: input.redis,
      server: operation.server,
      report: config.report,
      zone: operation.timeZone,
    }),
  }
}

/**
 * Connects to Redis, the registry (in registry mode) and Kafka, in that order, provisions (or
 * verifies) the topics, and returns the poller's parts. Clients per operation are built once and
 * reused.
 */
export async function createPollerRuntime(
  config: Readonly<PollerConfig>,
  logger: Logger,
  registry: MetricsRegistry,
  options: {
    /**
     * How long the start waits for a Kafka that is not available; default
     * {@link KAFKA_START_WAIT_MS}. `poller run` passes Infinity: a service waits for its broker
     * as the consumer services do (a stop signal ends the wait), while a one-shot command fails.
     */
    kafkaStartWaitMs?: number
  } = {},
): Promise<PollerRuntime> {
  const kafkaWaitMs = options.kafkaStartWaitMs ?? KAFKA_START_WAIT_MS
  // Redis and the registry first: they refuse a wrong password or CA at once, while Kafka's
  // provisioning may take its retries; nothing is opened on Kafka for a start that cannot work.
  const lockRedis = createRedis(config.redis, { role: 'lock', name: 'poller-lock', logger })
  const redis = createRedis(config.redis, { name: 'poller', logger })
  let schemaRegistry: SchemaRegistry | undefined
  let producer: ReturnType<typeof createSessionProducer> | undefined
  /** Closes what was opened, so a process refused at start ends by itself. */
  const closeOpened = async (): Promise<void> => {
    lockRedis.disconnect()
    redis.disconnect()
    await schemaRegistry?.close()
    await producer?.disconnect().catch(() => undefined)
  }
  // Registry mode: both schemas registered once, here, before anything is written.
  let chatEncoding: EncodeOptions = {}
  let checkpointEncoding: EncodeOptions = {}
  const kafka = createKafkaClient({
    ...config.kafka,
    log: kafkaLogToLogger(logger.child({ component: 'kafkajs' })),
  })
  try {
    await Promise.all([waitUntilReady(lockRedis), waitUntilReady(redis)])
    if (config.schemaRegistry !== undefined) {
      schemaRegistry = createSchemaRegistry(config.schemaRegistry)
      chatEncoding = await registryEncoding(
        config.schemaRegistry,
        topics.chatMessage.name,
        chatMessageCodec,
        config.chatMessageVersion,
        schemaRegistry,
      )
      checkpointEncoding = await registryEncoding(
        config.schemaRegistry,
        topics.pollerCheckpoint.name,
        pollerCheckpointCodec,
        undefined,
        schemaRegistry,
      )
      logger.info('registry mode: the Confluent wire format is written', {
        registry: config.schemaRegistry.url,
        chatMessageSchemaId: chatEncoding.registryId,
        checkpointSchemaId: checkpointEncoding.registryId,
      })
    }
    // A Kafka that does not answer yet (a node down, a cluster still starting) is tried again for
    // kafkaWaitMs before the start fails: the chaos run found a poller restarted while one
    // node of three was down exiting in 3 s with KAFKA_UNAVAILABLE, though the cluster served.
    await whileKafkaStarts(logger, 'provisioning the topics', kafkaWaitMs, () =>
      provisionTopics(kafka, pollerTopics, provisionOptionsOf(config.kafka, logger)),
    )
    // A new idempotent session after a failed send (producer-session.ts); the window is sent again.
    const session = createSessionProducer(() => createEventProducer(kafka))
    producer = session
    await whileKafkaStarts(logger, 'connecting the producer', kafkaWaitMs, () => session.connect())
  } catch (error) {
    await closeOpened()
    throw error
  }
  const metrics = createPollerMetrics(registry, {
    intervalMs: config.intervalMs,
    stuckAfter: config.stuckAfter,
  })
  const checkpoints = createCheckpointLog({
    kafka,
    ...(schemaRegistry === undefined ? {} : { registry: schemaRegistry }),
    onRead: (reason) => metrics.checkpointReads.inc({ reason }),
    onRetry: (error) =>
      logger.warn('a read of the checkpoint topic failed; trying once more', { err: error }),
  })

  interface Parts {
    handle: OperationHandle
    deps: Omit<PollOperationDeps, 'source'>
    source: ChatSource
  }
  const perOperation = new Map<string, Parts>()
  const partsFor = (operation: OperationConfig): Parts => {
    let parts = perOperation.get(operation.server)
    if (parts) return parts
    const { server } = operation
    const handle = createOperationHandle({ config, operation, lockRedis, redis, metrics, logger })
    metrics.quotaBudget.set({ server }, handle.budget)
    metrics.quotaReserve.set({ server }, handle.reserveAt())
    const client = createWolkvoxClient({
      server,
      token: operation.token,
      timeZone: operation.timeZone,
      maxResponseBytes: config.maxResponseBytes,
      rowCap: config.rowCap,
      ...(operation.baseUrl ? { baseUrl: operation.baseUrl } : {}),
      logger: logger.child({ component: 'wolkvox-client', server }),
      // The first attempt of a fetch is counted before it is sent (see guardedSource); every
      // retry costs the upstream quota too.
      onAttempt: (event) => {
        if (event.attempt < 2) return
        handle.store.countCall().catch((error: unknown) => {
          logger.warn('could not count a retried call against the quota', { server, err: error })
        })
      },
    })
    const observer = metrics.observer(server)
    const binding = createOperationBinding({
      log: checkpoints,
      redis,
      server,
      report: config.report,
      onState: (missing) => metrics.checkpointMismatch.set({ server }, missing ? 1 : 0),
    })
    parts = {
      handle,
      source: createWolkvoxSource(client),
      deps: {
        lock: handle.lock,
        toEvents: createEventFactory({
          server,
          report: config.report,
          zone: operation.timeZone,
          chatMessageVersion: config.chatMessageVersion,
          ...(chatEncoding.registryId === undefined ? {} : { registryId: chatEncoding.registryId }),
          privacy: {
            ...(config.privacy.hashCustomerIds && config.privacy.hashKey
              ? { hashKey: config.privacy.hashKey.reveal() }
              : {}),
            redactImages: config.privacy.redactImages,
          },
        }),
        sink: createKafkaSink({
          producer,
          server,
          report: config.report,
          checkpointEncoding,
          onCheckpointLanded: (checkpoint, at) => binding.landed(checkpoint, at),
        }),
        published: createRedisPublishedSet({
          redis,
          server,
          report: config.report,
          horizonMs: config.dedupHorizonMs,
        }),
        recovery: binding,
        binding,
        observer: {
          ...observer,
          onPiece: async (piece) => {
            try {
              await handle.store.addCoverage(piece)
            } catch (error) {
              // Bookkeeping for `status` only: the piece is on the topic whatever happens here.
              logger.warn('could not record coverage', { server, err: error })
            }
          },
        },
      },
    }
    perOperation.set(server, parts)
    return parts
  }

  /** The source for one poll: every call is first counted against the day's limit for `purpose`. */
  const guardedSource = (parts: Parts, purpose: PollPurpose): ChatSource => {
    const { handle } = parts
    return {
      fetch: async (range, options) => {
        const limit = purpose === 'backfill' ? handle.budget - handle.reserveAt() : handle.budget
        const taken = await handle.store.takeCall(limit)
        metrics.setQuotaUsed(handle.operation.server, handle.store.quotaDay(), taken.used)
        if (!taken.ok) throw quotaError(handle, purpose, taken.used)
        return parts.source.fetch(range, options)
      },
    }
  }

  const recordFailure = async (
    parts: Parts,
    purpose: PollPurpose,
    error: unknown,
  ): Promise<void> => {
    const { handle } = parts
    const { server } = handle.operation
    const code = isAppError(error) ? error.code : 'UNEXPECTED'
    const message = error instanceof Error ? error.message : String(error)
    try {
      const stored = await handle.lock.readState(`watermark.${config.report}`)
      const failures = await handle.store.recordFailure({
        atMs: Date.now(),
        purpose,
        code,
        message,
        watermarkMs: stored === null ? null : Number(stored),
      })
      if (purpose === 'live' || purpose === 'sweep')
        metrics.failuresInARow.set({ server, purpose }, failures)
      if (STOPPING_CODES.has(code)) {
        const now = Date.now()
        const untilMs =
          code === 'WOLKVOX_QUOTA_EXCEEDED'
            ? nextLocalMidnight(now, handle.operation.timeZone)
            : now + TOKEN_PAUSE_MS
        await handle.store.pause({ reason: code, untilMs, sinceMs: now, token: handle.tokenHash })
        metrics.stopped.set({ server, reason: code }, 1)
        logger.error('operation paused: it needs a new token or a new day', {
          server,
          code,
          until: new Date(untilMs).toISOString(),
        })
      }
      if (code === 'POLL_CHECKPOINT_MISSING') {
        logger.error('operation stopped: the Kafka log does not back its watermark', {
          server,
          code,
          message,
        })
      }
    } catch (bookkeeping) {
      logger.warn('could not record a failed poll', { server, err: bookkeeping })
    }
  }

  return {
    config,
    kafka,
    producer,
    lockRedis,
    redis,
    metrics,
    logger,
    checkpoints,
    handle: (operation) => partsFor(operation).handle,
    poll: async (operation, range, options = {}) => {
      const purpose = options.purpose ?? 'once'
      const parts = partsFor(operation)
      const { handle } = parts
      const { server } = operation
      const started = Date.now()
      let wanted = false
      try {
        const pause = await handle.store.readPause(handle.tokenHash)
        if (pause) {
          metrics.stopped.set({ server, reason: pause.reason }, 1)
          throw new AppError(
            'POLL_OPERATION_PAUSED',
            `Operation ${server} is paused after ${pause.reason} until ${new Date(pause.untilMs).toISOString()}`,
            { details: { server, reason: pause.reason, untilMs: pause.untilMs } },
          )
        }
        for (const reason of STOPPING_CODES) metrics.stopped.set({ server, reason }, 0)
        const reserve = handle.reserveAt()
        metrics.quotaReserve.set({ server }, reserve)
        const limit = purpose === 'backfill' ? handle.budget - reserve : handle.budget
        const used = await handle.store.quotaUsed()
        metrics.setQuotaUsed(server, handle.store.quotaDay(), used)
        const exhausted = used >= handle.budget
        metrics.stopped.set({ server, reason: 'POLL_QUOTA_BUDGET_EXHAUSTED' }, exhausted ? 1 : 0)
        if (used >= limit) throw quotaError(handle, purpose, used)
        if (purpose === 'live') {
          // Backfills hold back while this is set, so the live schedule gets the token next.
          await handle.store.wantToken(options.lockWaitMs ?? config.lockWaitMs)
          wanted = true
        }
        const summary = await pollOperation(
          { ...parts.deps, source: guardedSource(parts, purpose) },
          {
            server,
            report: config.report,
            settings: {
              lookbackMs: config.lookbackMs,
              settleLagMs: config.settleLagMs,
              maxWindowMs: config.maxWindowMs,
            },
            startMs: operation.startMs,
            lockWaitMs: options.lockWaitMs ?? config.lockWaitMs,
            onCheckpointMissing: config.onCheckpointMissing,
            ...(range ? { range } : {}),
            ...(options.stop ? { stop: options.stop } : {}),
            ...(options.abandon ? { abandon: options.abandon } : {}),
          },
        )
        metrics.pollDuration.observe({ server, outcome: 'ok' }, (Date.now() - started) / 1000)
        if (summary.repolled)
          logger.warn(
            'the checkpoint topic did not back the watermark: re-polled from POLL_START',
            {
              server,
              code: 'POLL_CHECKPOINT_MISSING',
              start: new Date(operation.startMs).toISOString(),
            },
          )
        if (summary.watermark !== null) metrics.setWatermark(server, Date.parse(summary.watermark))
        try {
          await handle.store.recordSuccess({
            atMs: Date.now(),
            purpose,
            window:
              summary.window === null
                ? null
                : { fromMs: Date.parse(summary.window.from), toMs: Date.parse(summary.window.to) },
            published: summary.published,
          })
          if (purpose === 'live' || purpose === 'sweep')
            metrics.failuresInARow.set({ server, purpose }, 0)
        } catch (error) {
          logger.warn('could not record a successful poll', { server, err: error })
        }
        return summary
      } catch (error) {
        const outcome = isAppError(error) ? error.code : 'UNKNOWN'
        metrics.pollDuration.observe({ server, outcome }, (Date.now() - started) / 1000)
        // Contention, a pause or a stop is not a failure of the window.
        if (
          !['POLL_LOCK_BUSY', 'POLL_OPERATION_PAUSED', 'POLL_STOPPED'].includes(outcome) &&
          !(purpose === 'backfill' && outcome === 'POLL_QUOTA_RESERVE_REACHED')
        ) {
          await recordFailure(parts, purpose, error)
        }
        throw error
      } finally {
        if (wanted) await handle.store.tokenServed().catch(() => undefined)
      }
    },
    rebind: async (operation, options = {}) => {
      const parts = partsFor(operation)
      const summary = await rebindOperation(parts.deps, {
        server: operation.server,
        report: config.report,
        lockWaitMs: config.lockWaitMs,
        ...(options.fromMs === undefined ? {} : { fromMs: options.fromMs }),
      })
      metrics.setWatermark(operation.server, Date.parse(summary.watermark))
      logger.info('operation bound to the checkpoint topic of this cluster', { ...summary })
      return summary
    },
    close: async () => {
      await checkpoints.close()
      await schemaRegistry?.close()
      await producer.disconnect().catch(() => undefined)
      lockRedis.disconnect()
      await redis.quit().catch(() => undefined)
    },
  }
}

/** How long a one-shot command's start waits for a Kafka that is not available (KAFKA_UNAVAILABLE). */
export const KAFKA_START_WAIT_MS = 60_000

/**
 * Runs `step` of the start, again while it fails with a retriable `KAFKA_UNAVAILABLE`, for up to
 * `waitMs` (1 s, then 2 s, up to 5 s apart; warned on the first attempts, then every tenth); any
 * other error at once.
 */
async function whileKafkaStarts<T>(
  logger: Logger,
  what: string,
  limitMs: number,
  step: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + limitMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await step()
    } catch (error) {
      const waitMs = Math.min(5_000, 1_000 * 2 ** (attempt - 1))
      if (!isAppError(error, 'KAFKA_UNAVAILABLE') || Date.now() + waitMs > deadline) throw error
      if (attempt <= 3 || attempt % 10 === 0)
        logger.warn(`Kafka is not available at start (${what}); trying again`, {
          code: error.code,
          attempt,
          waitMs,
          err: error,
        })
      await new Promise((resolve) => setTimeout(resolve, waitMs))
    }
  }
}

function quotaError(handle: OperationHandle, purpose: PollPurpose, used: number): AppError {
  const { server } = handle.operation
  const reserve = handle.reserveAt()
  const details = { server, used, budget: handle.budget, reserve }
  if (purpose === 'backfill' && used < handle.budget) {
    return new AppError(
      'POLL_QUOTA_RESERVE_REACHED',
      `Operation ${server} used ${used} of its ${handle.budget} calls today; ${reserve} are kept for live polls, so the backfill stops here`,
      { details },
    )
  }
  return new AppError(
    'POLL_QUOTA_BUDGET_EXHAUSTED',
    `Operation ${server} used all ${handle.budget} calls of its daily budget (POLL_DAILY_QUOTA); polling resumes on the next local day`,
    { details },
  )
}
