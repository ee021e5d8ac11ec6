/*
 * Baseline for every producing benchmark: raw kafkajs `sendBatch` of pre-encoded records,
 * acks=all, no project code in the path. Env: BENCH_KAFKA_BROKERS, BENCH_RECORDS (100000),
 * BENCH_RECORD_BYTES (300), BENCH_BATCH (10000).
 */
import { randomBytes } from 'node:crypto'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { reportResult, numberFromEnv } from '../case-support.js'

const brokers = (process.env.BENCH_KAFKA_BROKERS ?? '').split(',')
const records = numberFromEnv('BENCH_RECORDS', 100_000)
const recordBytes = numberFromEnv('BENCH_RECORD_BYTES', 300)
const batch = numberFromEnv('BENCH_BATCH', 10_000)

const kafka = createKafkaClient({ brokers, clientId: 'bench-raw-send-batch' })
const admin = kafka.admin()
await admin.connect()
const topic = `bench-raw-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
await admin.createTopics({
  waitForLeaders: true,
  topics: [{ topic, numPartitions: 6, replicationFactor: 1 }],
})

const messages = Array.from({ length: records }, (_, i) => ({
  key: Buffer.from(`conn-${i % 1_000}`),
  value: randomBytes(recordBytes),
}))
const producer = kafka.producer({ allowAutoTopicCreation: false })
await producer.connect()

const started = performance.now()
for (let offset = 0; offset < messages.length; offset += batch) {
  await producer.sendBatch({
    acks: -1,
    topicMessages: [{ topic, messages: messages.slice(offset, offset + batch) }],
  })
}
const durationMs = performance.now() - started

await producer.disconnect()
await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
await admin.disconnect()
reportResult({ items: records, durationMs })
