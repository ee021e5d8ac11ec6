/*
 * The sentiment aggregator draining a backlog of ChatMessage events (QUALITY.md: at least 0.7x a
 * raw kafkajs consumer on the same topic). Reads the topic `consumer-drain.ts` fills
 * (`bench-consumer-drain-<count>`), filling it the same way when no earlier case did, so its
 * `BENCH_SIDE=raw` side is the baseline. The clock runs from start to the last event counted;
 * the changed windows are upserted to a fresh output topic meanwhile, as in production.
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_EVENTS (1000000).
 */
import { createHash, randomBytes } from 'node:crypto'
import { encodeChatMessage, topicKeys, type ChatMessage } from '@wolkvox-chat-stream/events'
import { createEventProducer, createKafkaClient, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'
import { deleteServiceState } from '@wolkvox-chat-stream/service-kit'
import { datasetEvents } from '../../support/chat-events.js'
import { createTopic } from '../../support/topics.js'
import { numberFromEnv, reportResult } from '../case-support.js'

const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const redisUrl = process.env.BENCH_REDIS_URL ?? ''
const count = numberFromEnv('BENCH_EVENTS', 1_000_000)
const topic = `bench-consumer-drain-${count}`
const PARTITIONS = 6

const log = (line: string): void => void process.stderr.write(`  [sentiment-drain] ${line}\n`)

/** Creates and fills the topic exactly as consumer-drain.ts does, unless a case already did. */
async function ensureInput(kafka: Kafka): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    if ((await admin.listTopics()).includes(topic)) {
      const offsets = await admin.fetchTopicOffsets(topic)
      if (offsets.reduce((sum, o) => sum + Number(o.high), 0) === count) return
      await admin.deleteTopics({ topics: [topic] })
      await new Promise((resolve) => setTimeout(resolve, 2_000))
    }
    await createTopic(admin, topic, PARTITIONS, [{ name: 'max.message.bytes', value: '17825792' }])
  } finally {
    await admin.disconnect()
  }
  const started = performance.now()
  const pool = datasetEvents(20_000, { seed: 9 })
  const producer = createEventProducer(kafka)
  await producer.connect()
  for (let from = 0; from < count; from += pool.length) {
    const copy = from / pool.length
    const records = pool.slice(0, Math.min(pool.length, count - from)).map((event) => {
      const unique: ChatMessage =
        copy === 0
          ? event
          : {
              ...event,
              conn_id: `${event.conn_id}-${copy}`,
              event_id: createHash('sha256')
                .update(`${copy}|${event.event_id}`)
                .digest('hex')
                .slice(0, 32),
            }
      return { topic, key: topicKeys.chatMessage(unique), value: encodeChatMessage(unique) }
    })
    await producer.send(records)
  }
  await producer.disconnect()
  log(`produced ${count} events in ${Math.round(performance.now() - started)} ms`)
}

const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: 'bench-sentiment' })
await ensureInput(kafka)

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
