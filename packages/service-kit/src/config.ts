import {
  optional,
  readConfig,
  readHttpHost,
  readHttpSecurity,
  type Env,
  type HttpSecurity,
} from '@wolkvox-chat-stream/config'
import { readKafkaSettings, type KafkaSettings } from '@wolkvox-chat-stream/kafka'
import { logLevels, type LogThreshold } from '@wolkvox-chat-stream/observability'
import { readRedisTarget, type RedisTarget } from '@wolkvox-chat-stream/redis'
import {
  readSchemaRegistrySettings,
  type SchemaRegistrySettings,
} from '@wolkvox-chat-stream/schema-registry'

/** What a consumer service reads from its environment (README: Configuration). */
export interface ConsumerServiceConfig {
  /** `KAFKA_*` (packages/kafka); the client id defaults to the service name. */
  kafka: KafkaSettings
  /** `REDIS_URL` or `REDIS_CLUSTER_NODES` (and credentials, TLS): where the state, the applied offsets and the epoch live. */
  redis: RedisTarget
  /**
   * `SCHEMA_REGISTRY_*`: registry mode (its outputs written in the Confluent wire format, every
   * schema id of the input looked up); undefined: single-object encoding, as without a registry.
   */
  schemaRegistry?: SchemaRegistrySettings
  /** `HTTP_PORT`: `/healthz`, `/readyz`, `/metrics` and the service's own routes; 0 picks one. */
  httpPort: number
  /** `HTTP_HOST`: the address the HTTP server binds (default `127.0.0.1`). */
  httpHost: string
  /** `HTTP_AUTH_TOKEN_FILE`, `HTTP_METRICS_PUBLIC`, `HTTP_RATE_LIMIT` (README: Security). */
  httpSecurity: HttpSecurity
  /** `LOG_LEVEL`. */
  logLevel: LogThreshold
  /** `CONSUMER_INPUT_TOPIC`: overrides the service's input topic (tests, staging). */
  inputTopic: string
  /** `CONSUMER_MAX_CONSECUTIVE_FAILURES`: dead-lettered messages in a row that stop the consumer. */
  maxConsecutiveFailures: number
  /**
   * `CONSUMER_EVENT_ID_TTL`: how long an applied event_id is remembered, so that the same event
   * at a new offset is dropped. Longer than the poller's re-publish horizon (3 days by default).
   */
  eventIdTtlMs: number
  /** `CONSUMER_SHUTDOWN_TIMEOUT`: how long a stop may take before the process exits anyway. */
  shutdownTimeoutMs: number
  /** `CONSUMER_EPOCH_CHECK_INTERVAL`: how often the Redis epoch key is checked for a data loss. */
  epochCheckIntervalMs: number
  /** `CONSUMER_SESSION_TIMEOUT`: Kafka group session; a dead instance's partitions move after it. */
  sessionTimeoutMs: number
  /** `CONSUMER_HEARTBEAT_INTERVAL`. */
  heartbeatIntervalMs: number
  /** `CONSUMER_PARTITIONS_CONCURRENTLY`: partitions processed at once by one instance. */
  partitionsConcurrently: number
  /** `CONSUMER_RETRY_MAX_BACKOFF`: the longest pause between retries of a retriable failure. */
  retryMaxBackoffMs: number
}

/** Defaults a service gives in code; the environment overrides them. */
export interface ConsumerConfigDefaults {
  name: string
  input: string
  /** Default 8090. */
  httpPort?: number
  /** Default 1. */
  partitionsConcurrently?: number
}

/**
 * Reads a consumer service's configuration once, every problem reported together.
 *
 * @throws AppError `CONFIG_INVALID` listing each bad variable.
 */
export function readConsumerConfig(
  env: Env,
  defaults: ConsumerConfigDefaults,
): Readonly<ConsumerServiceConfig> {
  return readConfig(env, (r) => {
    const sessionTimeoutMs = r.durationMs('CONSUMER_SESSION_TIMEOUT', '30s')
    const heartbeatIntervalMs = r.durationMs('CONSUMER_HEARTBEAT_INTERVAL', '3s')
    // The broker refuses sessions outside group.min/max.session.timeout.ms (6 s to 30 min).
    if (sessionTimeoutMs < 6_000 || sessionTimeoutMs > 1_800_000) {
      r.report('CONSUMER_SESSION_TIMEOUT', 'must be between 6s and 30m')
    }
    if (heartbeatIntervalMs * 3 > sessionTimeoutMs) {
      r.report('CONSUMER_HEARTBEAT_INTERVAL', 'must be at most a third of CONSUMER_SESSION_TIMEOUT')
    }
    const eventIdTtlMs = r.durationMs('CONSUMER_EVENT_ID_TTL', '4d')
    if (eventIdTtlMs < 60_000) r.report('CONSUMER_EVENT_ID_TTL', 'must be at least 1m')
    const epochCheckIntervalMs = r.durationMs('CONSUMER_EPOCH_CHECK_INTERVAL', '5s')
    if (epochCheckIntervalMs < 100)
      r.report('CONSUMER_EPOCH_CHECK_INTERVAL', 'must be 100ms or more')
    const retryMaxBackoffMs = r.durationMs('CONSUMER_RETRY_MAX_BACKOFF', '5s')
    if (retryMaxBackoffMs < 100) r.report('CONSUMER_RETRY_MAX_BACKOFF', 'must be 100ms or more')
    return {
      kafka: readKafkaSettings(r, defaults.name),
      redis: readRedisTarget(r),
      ...optional('schemaRegistry', readSchemaRegistrySettings(r)),
      httpPort: r.integer('HTTP_PORT', defaults.httpPort ?? 8090, { min: 0, max: 65_535 }),
      httpHost: readHttpHost(r),
      httpSecurity: readHttpSecurity(r),
      logLevel: r.oneOf('LOG_LEVEL', [...logLevels, 'silent'] as const, 'info'),
      inputTopic: r.string('CONSUMER_INPUT_TOPIC', defaults.input),
      maxConsecutiveFailures: r.integer('CONSUMER_MAX_CONSECUTIVE_FAILURES', 10, {
        min: 1,
        max: 1_000_000,
      }),
      eventIdTtlMs,
      shutdownTimeoutMs: r.durationMs('CONSUMER_SHUTDOWN_TIMEOUT', '15s'),
      epochCheckIntervalMs,
      sessionTimeoutMs,
      heartbeatIntervalMs,
      // One by default: a service whose chunks take long in Redis (the sentiment aggregator) gains
      // from two, as one partition is decoded and handled while the other's script runs; a service
      // whose work is all in Node only keeps more objects alive for the garbage collector.
      partitionsConcurrently: r.integer(
        'CONSUMER_PARTITIONS_CONCURRENTLY',
        defaults.partitionsConcurrently ?? 1,
        { min: 1, max: 64 },
      ),
      retryMaxBackoffMs,
    }
  })
}
