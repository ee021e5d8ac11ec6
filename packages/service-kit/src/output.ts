/*
 * What a consumer service that publishes its own results needs beside the kit: its output topic
 * provisioned (or verified), an event producer, and a Redis connection of its own for the emitter
 * (which keeps draining after the kit has closed its connection). The sentiment aggregator and the
 * trámite classifier both emit this way: the apply script marks what changed in a per-partition
 * "dirty" hash, an emitter publishes it and clears each mark with {@link clearDirtyScript}.
 */
import type { TopicSpec } from '@wolkvox-chat-stream/events'
import {
  createEventProducer,
  createKafkaClient,
  createSessionProducer,
  provisionTopics,
  type EventProducer,
  provisionOptionsOf,
} from '@wolkvox-chat-stream/kafka'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import type { ConsumerService } from './consumer-service.js'

export interface ServiceOutput {
  producer: EventProducer
  /** The emitter's own connection (named `<service>-emitter`). */
  redis: Redis
  /** Disconnects both; never throws. */
  close(): Promise<void>
}

/**
 * Provisions `spec` with the service's Kafka settings (`KAFKA_CREATE_TOPICS=false` only verifies
 * it), then connects a producer and the emitter's Redis connection.
 * @throws AppError `KAFKA_TOPIC_MISMATCH`, `KAFKA_UNAVAILABLE`, `REDIS_UNAVAILABLE` as the packages do.
 */
export async function openServiceOutput(
  service: ConsumerService,
  spec: TopicSpec,
): Promise<ServiceOutput> {
  const { config, logger } = service
  const kafka = createKafkaClient({ ...config.kafka, logger: logger.child({ kafka: true }) })
  await provisionTopics(kafka, [spec], provisionOptionsOf(config.kafka, logger))
  // A new idempotent session after a failed send (producer-session.ts): the emitters send again.
  const producer = createSessionProducer(() => createEventProducer(kafka))
  await producer.connect()
  const redis = createRedis(config.redis, { name: `${service.name}-emitter`, logger })
  try {
    await waitUntilReady(redis, { timeoutMs: 10_000 })
  } catch (error) {
    redis.disconnect()
    await producer.disconnect().catch(() => undefined)
    throw error
  }
  return {
    producer,
    redis,
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
