/*
 * The sentiment aggregator draining a backlog of ChatMessage events (QUALITY.md: at least 0.7x a
 * raw kafkajs consumer on the same topic). Reads the topic `consumer-drain.ts` fills
 * (`bench-consumer-drain-<count>`), filling it the same way when no earlier case did, so its
 * `BENCH_SIDE=raw` side is the baseline. The clock runs from start to the last event counted;
 * the changed windows are upserted to a fresh output topic meanwhile, as in production.
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_EVENTS (1000000).
 */
import { randomBytes } from 'node:crypto'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'
import { deleteServiceState } from '@wolkvox-chat-stream/service-kit'
import { numberFromEnv, reportResult } from '../case-support.js'
import { ensureDrainInput } from '../drain-input.js'

const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const redisUrl = process.env.BENCH_REDIS_URL ?? ''
const count = numberFromEnv('BENCH_EVENTS', 1_000_000)

const log = (line: string): void => void process.stderr.write(`  [sentiment-drain] ${line}\n`)

const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'bench-sentiment' })
const topic = await ensureDrainInput(kafka, count, log)

const name = `bench-sentiment-${randomBytes(4).toString('hex')}`
const service = createSentimentAggregator({
  name,
  outputTopic: `bench-sentiment-out-${randomBytes(4).toString('hex')}`,
  // The replay of a new service is logged as a rebuild: only errors matter here.
  logger: createLogger({ name, level: 'error', stream: process.stderr }),
  env: {
    KAFKA_BROKERS: brokers,
    REDIS_URL: redisUrl,
    HTTP_PORT: '0',
    LOG_LEVEL: 'error',
    CONSUMER_INPUT_TOPIC: topic,
  },
})
const started = performance.now()
await service.start()
for (;;) {
  const { applied, duplicates, deadLettered } = service.status().stats
  if (applied + duplicates + deadLettered >= count) break
  if (service.status().phase === 'failed') throw new Error('the sentiment aggregator failed')
  await new Promise((resolve) => setTimeout(resolve, 20))
}
const durationMs = performance.now() - started
await service.stop()
const redis = createRedis(redisUrl)
await waitUntilReady(redis)
await deleteServiceState(redis, name)
await redis.quit()
reportResult({ items: count, durationMs })
