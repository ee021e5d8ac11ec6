/*
 * The chat-quality service draining a backlog of ChatMessage events, beside a raw kafkajs consumer
 * on the same topic (as the sentiment row). Reads the topic `consumer-drain.ts` fills
 * (`bench-consumer-drain-<count>`), filling it the same way when no earlier case did, so its
 * `BENCH_SIDE=raw` side is the baseline. The clock runs from start to the last event counted;
 * every message is matched with the protocol rules and kept with its conversation, and due
 * records are written to a fresh output topic meanwhile, as in production.
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_EVENTS (1000000).
 */
import { randomBytes } from 'node:crypto'
import { createChatQuality } from '@wolkvox-chat-stream/chat-quality'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { deleteServiceState } from '@wolkvox-chat-stream/service-kit'
import { numberFromEnv, reportResult } from '../case-support.js'
import { ensureDrainInput } from '../drain-input.js'

const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const redisUrl = process.env.BENCH_REDIS_URL ?? ''
const count = numberFromEnv('BENCH_EVENTS', 1_000_000)

const log = (line: string): void => void process.stderr.write(`  [quality-drain] ${line}\n`)

const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'bench-quality' })
const topic = await ensureDrainInput(kafka, count, log)

const name = `bench-quality-${randomBytes(4).toString('hex')}`
const service = createChatQuality({
  name,
  // The replay of a new service is logged as a rebuild: only errors matter here.
  logger: createLogger({ name, level: 'error', stream: process.stderr }),
  env: {
    KAFKA_BROKERS: brokers,
    REDIS_URL: redisUrl,
    HTTP_PORT: '0',
    LOG_LEVEL: 'error',
    CONSUMER_INPUT_TOPIC: topic,
    QUALITY_OUTPUT_TOPIC: `bench-quality-out-${randomBytes(4).toString('hex')}`,
    QUALITY_RULES_WATCH: 'false',
  },
})
const started = performance.now()
await service.start()
for (;;) {
  const { applied, duplicates, deadLettered } = service.status().stats
  if (applied + duplicates + deadLettered >= count) break
  if (service.status().phase === 'failed') throw new Error('the quality service failed')
  await new Promise((resolve) => setTimeout(resolve, 20))
}
const durationMs = performance.now() - started
await service.stop()
const redis = createRedis(redisUrl)
await waitUntilReady(redis)
await deleteServiceState(redis, name)
await redis.quit()
reportResult({ items: count, durationMs })
