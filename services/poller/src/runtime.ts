import { productTopics } from '@wolkvox-chat-stream/events'
import {
  createEventProducer,
  createKafkaClient,
  kafkaLogToLogger,
  provisionTopics,
  type EventProducer,
  type Kafka,
} from '@wolkvox-chat-stream/kafka'
import type { Logger, MetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import { createTokenLock } from '@wolkvox-chat-stream/token-lock'
import { createWolkvoxClient } from '@wolkvox-chat-stream/wolkvox-client'
import { createCheckpointRecovery } from './adapters/checkpoint-reader.js'
import { createEventFactory } from './adapters/event-factory.js'
import { createKafkaSink } from './adapters/kafka-sink.js'
import { createRedisPublishedSet } from './adapters/published-set.js'
import { createWolkvoxSource } from './adapters/wolkvox-source.js'
import type { OperationConfig, PollerConfig } from './config.js'
import { pollOperation, type PollSummary } from './core/poll-operation.js'
import { createPollerMetrics, type PollerMetrics } from './metrics.js'
import type { Range } from './window.js'

/** The poller's long-lived parts: connections, producer, metrics. Closed with {@link PollerRuntime.close}. */
export interface PollerRuntime {
  config: Readonly<PollerConfig>
  kafka: Kafka
  producer: EventProducer
  /** Lock connection: offline queue off, no replays (token-lock). */
  lockRedis: Redis
  /** Everything else (published set). */
  redis: Redis
  metrics: PollerMetrics
  logger: Logger
  /** Polls one operation once: the next due range, or `range`. */
  poll(operation: OperationConfig, range?: Range): Promise<PollSummary>
  close(): Promise<void>
}

/**
 * Connects to Kafka and Redis, provisions (or verifies) the topics, and returns the poller's
 * parts. Clients per operation are built once and reused.
 */
export async function createPollerRuntime(
  config: Readonly<PollerConfig>,
  logger: Logger,
  registry: MetricsRegistry,
): Promise<PollerRuntime> {
  const kafka = createKafkaClient({
    brokers: config.kafka.brokers,
    clientId: config.kafka.clientId,
    ssl: config.kafka.ssl,
    ...(config.kafka.sasl ? { sasl: config.kafka.sasl } : {}),
    log: kafkaLogToLogger(logger.child({ component: 'kafkajs' })),
  })
  await provisionTopics(kafka, productTopics, {
    create: config.kafka.createTopics,
    ...(config.kafka.replicationFactor === undefined
      ? {}
      : { replicationFactor: config.kafka.replicationFactor }),
    logger,
  })
  const producer = createEventProducer(kafka)
  await producer.connect()
  const lockRedis = createRedis(config.redisUrl, { role: 'lock', name: 'poller-lock', logger })
  const redis = createRedis(config.redisUrl, { name: 'poller', logger })
  await Promise.all([waitUntilReady(lockRedis), waitUntilReady(redis)])
  const metrics = createPollerMetrics(registry)

  const perOperation = new Map<string, Parameters<typeof pollOperation>[0]>()
  const depsFor = (operation: OperationConfig): Parameters<typeof pollOperation>[0] => {
    let deps = perOperation.get(operation.server)
    if (deps) return deps
    const client = createWolkvoxClient({
      server: operation.server,
      token: operation.token,
      timeZone: operation.timeZone,
      maxResponseBytes: config.maxResponseBytes,
      rowCap: config.rowCap,
      ...(operation.baseUrl ? { baseUrl: operation.baseUrl } : {}),
      logger: logger.child({ component: 'wolkvox-client', server: operation.server }),
    })
    deps = {
      lock: createTokenLock({
        redis: lockRedis,
        server: operation.server,
        token: operation.token,
        ttlMs: config.lockTtlMs,
        hooks: metrics.lockHooks(operation.server),
      }),
      source: createWolkvoxSource(client),
      toEvents: createEventFactory({
        server: operation.server,
        report: config.report,
        zone: operation.timeZone,
      }),
      sink: createKafkaSink({ producer, server: operation.server, report: config.report }),
      published: createRedisPublishedSet({
        redis,
        server: operation.server,
        report: config.report,
        horizonMs: config.dedupHorizonMs,
      }),
      recovery: createCheckpointRecovery({
        kafka,
        server: operation.server,
        report: config.report,
      }),
      observer: metrics.observer(operation.server),
    }
    perOperation.set(operation.server, deps)
    return deps
  }

  return {
    config,
    kafka,
    producer,
    lockRedis,
    redis,
    metrics,
    logger,
    poll: async (operation, range) => {
      const started = Date.now()
      try {
        const summary = await pollOperation(depsFor(operation), {
          server: operation.server,
          report: config.report,
          settings: {
            lookbackMs: config.lookbackMs,
            settleLagMs: config.settleLagMs,
            maxWindowMs: config.maxWindowMs,
          },
          startMs: operation.startMs,
          lockWaitMs: config.lockWaitMs,
          ...(range ? { range } : {}),
        })
        metrics.pollDuration.observe(
          { server: operation.server, outcome: 'ok' },
          (Date.now() - started) / 1000,
        )
        if (summary.watermark !== null)
          metrics.setWatermark(operation.server, Date.parse(summary.watermark))
        return summary
      } catch (error) {
        const outcome = (error as { code?: string }).code ?? 'UNKNOWN'
        metrics.pollDuration.observe(
          { server: operation.server, outcome },
          (Date.now() - started) / 1000,
        )
        // These need a person (a new token, a new day's quota): retrying on a schedule cannot help.
        if (
          outcome === 'WOLKVOX_TOKEN_INVALID' ||
          outcome === 'WOLKVOX_QUOTA_EXCEEDED' ||
          outcome === 'WOLKVOX_TOKEN_MISSING'
        ) {
          metrics.stopped.set({ server: operation.server, reason: outcome }, 1)
        }
        throw error
      }
    },
    close: async () => {
      await producer.disconnect().catch(() => undefined)
      lockRedis.disconnect()
      await redis.quit().catch(() => undefined)
    },
  }
}
