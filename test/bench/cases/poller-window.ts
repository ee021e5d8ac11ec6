/*
 * One large chat_2 window from the simulator (a separate process) to the watermark.
 *   BENCH_SIDE=poller  the poller: fetch, parse, build, encode, de-duplicate, produce (acks=all,
 *                      gzip, idempotent), record as published, checkpoint, fenced watermark
 *   BENCH_SIDE=raw     the baseline: raw kafkajs sendBatch (acks=all, gzip) of the same events,
 *                      encoded before the clock starts
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_MESSAGES (60000); BENCH_REGISTRY=1 runs the
 * poller in registry mode on BENCH_SCHEMA_REGISTRY_URL (the schemas registered before the clock).
 */
import { randomBytes } from 'node:crypto'
import { buildChatMessages, encodeChatMessage, topics } from '@wolkvox-chat-stream/events'
import { CompressionTypes, createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createPollerRuntime, readPollerConfig } from '@wolkvox-chat-stream/poller'
import { numberFromEnv, reportResult } from '../case-support.js'
import { rangeHolding, startSimulatorProcess } from '../simulator-process.js'

const side = process.env.BENCH_SIDE ?? 'poller'
const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const target = numberFromEnv('BENCH_MESSAGES', 60_000)
const token = 'bench-token'

const simulator = await startSimulatorProcess({ token })
const simUrl = simulator.url
const range = await rangeHolding(simulator, target)
const server = String(100_000 + Math.floor(Math.random() * 800_000))

let items: number
let durationMs: number
if (side === 'poller') {
  const config = readPollerConfig({
    WOLKVOX_SERVER: server,
    WOLKVOX_TOKEN: token,
    WOLKVOX_BASE_URL: simUrl,
    KAFKA_BROKERS: brokers,
    REDIS_URL: process.env.BENCH_REDIS_URL ?? '',
    POLL_ROW_CAP: '1000000',
    POLL_MAX_WINDOW: '30d',
    POLL_LOCK_TTL: '5s',
    POLL_MAX_RESPONSE_BYTES: String(512 * 1024 * 1024),
    ...(process.env.BENCH_REGISTRY === '1'
      ? { SCHEMA_REGISTRY_URL: process.env.BENCH_SCHEMA_REGISTRY_URL ?? '' }
      : {}),
  })
  const runtime = await createPollerRuntime(
    config,
    createLogger({ name: 'bench', level: 'error' }),
    createMetricsRegistry({ collectDefaultMetrics: false }),
  )
  // Not timed: the first lease on the bench's empty Redis waits one lock TTL (the epoch check).
  await runtime.poll(config.operations[0]!, {
    fromMs: range.fromMs - 40 * 86_400_000,
    toMs: range.fromMs - 40 * 86_400_000,
  })
  const started = performance.now()
  const summary = await runtime.poll(config.operations[0]!, range)
  durationMs = performance.now() - started
  items = summary.published
  await runtime.close()
} else {
  const truth = await simulator.truth(range.fromMs, range.toMs)
  const context = {
    server,
    zone: 'America/Bogota',
    window: { start: new Date(range.fromMs), end: new Date(range.toMs) },
    polledAt: new Date(),
  }
  const messages = truth.data.flatMap((chat) =>
    buildChatMessages(chat, context).events.map((e) => ({
      key: e.conn_id,
      value: encodeChatMessage(e),
    })),
  )
  const kafka = createKafkaClient({ brokers: [brokers], clientId: 'bench-raw' })
  const admin = kafka.admin()
  await admin.connect()
  const topic = `bench-poller-raw-${randomBytes(3).toString('hex')}`
  await admin.createTopics({
    topics: [{ topic, numPartitions: topics.chatMessage.partitions, replicationFactor: 1 }],
  })
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const started = performance.now()
  for (let i = 0; i < messages.length; i += 10_000) {
    await producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.GZIP,
      topicMessages: [{ topic, messages: messages.slice(i, i + 10_000) }],
    })
  }
  durationMs = performance.now() - started
  items = messages.length
  await producer.disconnect()
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.disconnect()
}
simulator.stop()
reportResult({ items, durationMs })
