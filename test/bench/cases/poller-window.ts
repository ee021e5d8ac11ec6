/*
 * One large chat_2 window from the simulator (a separate process) to the watermark.
 *   BENCH_SIDE=poller  the poller: fetch, parse, build, encode, de-duplicate, produce (acks=all,
 *                      gzip, idempotent), record as published, checkpoint, fenced watermark
 *   BENCH_SIDE=raw     the baseline: raw kafkajs sendBatch (acks=all, gzip) of the same events,
 *                      encoded before the clock starts
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_MESSAGES (60000).
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { buildChatMessages, encodeChatMessage, topics } from '@wolkvox-chat-stream/events'
import { CompressionTypes, createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createPollerRuntime, readPollerConfig } from '@wolkvox-chat-stream/poller'
import { formatWallClock } from '@wolkvox-chat-stream/wolkvox-client'
import { numberFromEnv, reportResult } from '../case-support.js'

const side = process.env.BENCH_SIDE ?? 'poller'
const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const target = numberFromEnv('BENCH_MESSAGES', 60_000)
const HOUR = 3_600_000
const token = 'bench-token'
const port = 20_000 + Math.floor(Math.random() * 20_000)

// The simulator runs in its own process so that its work is not counted in ours.
const simMain = fileURLToPath(
  new URL('../../../services/wolkvox-simulator/src/main.ts', import.meta.url),
)
const sim = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--conditions=source',
    simMain,
    '--port',
    String(port),
    '--seed',
    '5',
    '--chats-per-hour',
    '600',
    '--token',
    token,
    '--row-cap',
    '1000000',
    '--log-level',
    'warn',
  ],
  { stdio: ['ignore', 'ignore', 'inherit'] },
)
const simUrl = `http://127.0.0.1:${port}`
for (let i = 0; ; i++) {
  const up = await fetch(`${simUrl}/healthz`).then(
    (r) => r.ok,
    () => false,
  )
  if (up) break
  if (i > 300) throw new Error('the simulator did not start')
  await new Promise((resolve) => setTimeout(resolve, 100))
}

// A window of whole hours in the past that holds at least `target` messages.
const end = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR
const truthOf = async (
  fromMs: number,
  toMs: number,
): Promise<{ messageCount: number; data: unknown[] }> => {
  const query = `date_ini=${formatWallClock(fromMs, 'America/Bogota')}&date_end=${formatWallClock(toMs, 'America/Bogota')}`
  return (await (await fetch(`${simUrl}/__sim/truth?${query}`)).json()) as {
    messageCount: number
    data: unknown[]
  }
}
const perHour = Math.max(1, (await truthOf(end - HOUR, end - 1000)).messageCount)
const hours = Math.ceil(target / perHour)
const range = { fromMs: end - hours * HOUR, toMs: end - 1000 }
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
  const truth = await truthOf(range.fromMs, range.toMs)
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
sim.kill('SIGTERM')
reportResult({ items, durationMs })
