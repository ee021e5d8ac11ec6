/*
 * What a consumer service that publishes its own results needs beside the kit: its output topic
 * provisioned (or verified), an event producer, and a Redis connection of its own for the emitter
 * (which keeps draining after the kit has closed its connection). The sentiment aggregator and the
 * trámite classifier both emit this way: the apply script marks what changed in a per-partition
 * "dirty" hash, an emitter publishes it and clears each mark with {@link clearDirtyScript}.
 */
import type { EncodeOptions, EventCodec, TopicSpec } from '@wolkvox-chat-stream/events'
import {
  createEventProducer,
  createKafkaClient,
  createSessionProducer,
  provisionTopics,
  type EventProducer,
  provisionOptionsOf,
} from '@wolkvox-chat-stream/kafka'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import { registryEncoding, valueSubject } from '@wolkvox-chat-stream/schema-registry'
import type { ConsumerService } from './consumer-service.js'
import { retrying } from './retry.js'

export interface ServiceOutput {
  producer: EventProducer
  /** The emitter's own connection (named `<service>-emitter`). */
  redis: Redis
  /**
   * How to encode the output's values: `{ registryId }` in registry mode (the Confluent wire
   * format with the id the registry gave the codec's schema), else `{}` (single-object).
   */
  encoding: EncodeOptions
  /** Disconnects both; never throws. */
  close(): Promise<void>
}

/**
 * Provisions `spec` with the service's Kafka settings (`KAFKA_CREATE_TOPICS=false` only verifies
 * it); in registry mode registers `codec`'s schema (the version it writes) under `<topic>-value`;
 * then connects a producer and the emitter's Redis connection. Like the rest of a service's start,
 * it waits for a Kafka, Redis or registry that is away (retriable failures are tried again with the
 * kit's backoff, `CONSUMER_RETRY_MAX_BACKOFF`) until it succeeds or `signal` aborts: a service
 * started during an outage serves once the outage ends instead of exiting.
 * @throws {@link Stopped} when `signal` aborts; AppError `KAFKA_TOPIC_MISMATCH`,
 * `SCHEMA_REGISTRY_REFUSED` and the other failures that are not retriable, as the packages throw them.
 */
export async function openServiceOutput(
  service: ConsumerService,
  spec: TopicSpec,
  codec?: EventCodec<unknown>,
  options: { signal?: AbortSignal } = {},
): Promise<ServiceOutput> {
  const { config, logger } = service
  return retrying(() => openOutputOnce(service, spec, codec), {
    signal: options.signal ?? new AbortController().signal,
    maxBackoffMs: config.retryMaxBackoffMs,
    onRetry: (error, attempt, delayMs) => {
      if (attempt === 1 || attempt % 10 === 0)
        logger.warn('opening the output failed; trying again', {
          err: error,
          topic: spec.name,
          attempt,
          delayMs,
        })
    },
  })
}

async function openOutputOnce(
  service: ConsumerService,
  spec: TopicSpec,
  codec: EventCodec<unknown> | undefined,
): Promise<ServiceOutput> {
  const { config, logger } = service
  const kafka = createKafkaClient({ ...config.kafka, logger: logger.child({ kafka: true }) })
  await provisionTopics(kafka, [spec], provisionOptionsOf(config.kafka, logger))
  const encoding = await registryEncoding(config.schemaRegistry, spec.name, codec)
  if (encoding.registryId !== undefined) {
    logger.info('registry mode: output written in the Confluent wire format', {
      topic: spec.name,
      subject: valueSubject(spec.name),
      schemaId: encoding.registryId,
    })
  }
  // A new idempotent session after a failed send (producer-session.ts): the emitters send again.
  const producer = createSessionProducer(() => createEventProducer(kafka))
  const redis = createRedis(config.redis, { name: `${service.name}-emitter`, logger })
  try {
    await producer.connect()
    await waitUntilReady(redis, { timeoutMs: 10_000 })
  } catch (error) {
    redis.disconnect()
    await producer.disconnect().catch(() => undefined)
    throw error
  }
  return {
    producer,
    redis,
    encoding,
    async close() {
      await producer.disconnect().catch(() => undefined)
      await redis.quit().catch(() => redis.disconnect())
    },
  }
}

/**
 * Clears the dirty marks an emitter handled, unless a change landed meanwhile (the mark's value, a
 * change count, is no longer the one read). Run on the emitter's connection, outside the apply
 * script: `redis.eval(clearDirtyScript, 1, dirtyKey, field, value, field, value, …)`.
 */
export const clearDirtyScript = `--[[
clear-dirty (packages/service-kit): HDEL each field whose value is still the one read.

KEYS[1]  the partition's dirty hash
ARGV     field, value, field, value, ...
Returns the number of fields deleted.
]]
local deleted = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    deleted = deleted + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return deleted
`
