/*
 * Draining a backlog of ChatMessage events from a 6-partition topic.
 *   BENCH_SIDE=kit  the toy counting consumer on the service kit: decode, de-duplicate by offset and
 *                   event_id, three HINCRBYs per event applied with the partition offset by one Lua
 *                   script per chunk, commits after the state is stored
 *   BENCH_SIDE=raw  the baseline: a raw kafkajs eachBatch consumer that does no work
 *   BENCH_SIDE=decode  the raw consumer plus Avro decoding of every event (not in the table: it
 *                   tells how much of the kit's cost is the event contract's decoding)
 * Both read the same topic, with the same fetch sizes, from the first offset in a fresh group; the
 * clock runs from start to the last event counted. The topic is produced once per bench run (the
 * broker is new for each run) by whichever side runs first, before its clock starts.
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_EVENTS (1000000).
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  decodeChatMessage,
  encodeChatMessage,
  topicKeys,
  type ChatMessage,
} from '@wolkvox-chat-stream/events'
import {
  consumerFetchSizes,
  createEventProducer,
  createKafkaClient,
  type Kafka,
} from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { deleteServiceState } from '@wolkvox-chat-stream/service-kit'
import { datasetEvents } from '../../support/chat-events.js'
import { createTopic } from '../../support/topics.js'
import { createToyCounter } from '../../support/toy-counter.js'
import { numberFromEnv, reportResult } from '../case-support.js'

const side = process.env.BENCH_SIDE ?? 'kit'
const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const redisUrl = process.env.BENCH_REDIS_URL ?? ''
const count = numberFromEnv('BENCH_EVENTS', 1_000_000)
const topic = `bench-consumer-drain-${count}`
const PARTITIONS = 6

const log = (line: string): void => void process.stderr.write(`  [consumer-drain] ${line}\n`)

/** Creates and fills the topic unless an earlier case of this run did. */
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
  // Realistic events from the simulator's data, made unique per copy (event_id and conversation).
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

const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: `bench-drain-${side}` })
await ensureInput(kafka)

let durationMs: number
if (side === 'kit') {
  const name = `bench-kit-${randomBytes(4).toString('hex')}`
  const service = createToyCounter({
    name,
    input: topic,
    brokers,
    redisUrl,
    // The replay of a new service is logged as a rebuild: only errors matter here.
    logger: createLogger({ name, level: 'error', stream: process.stderr }),
  })
  const started = performance.now()
  await service.start()
  for (;;) {
    const { applied, duplicates, deadLettered } = service.status().stats
    if (applied + duplicates + deadLettered >= count) break
    if (service.status().phase === 'failed') throw new Error('the kit consumer failed')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  durationMs = performance.now() - started
  await service.stop()
  const redis = createRedis(redisUrl)
  await waitUntilReady(redis)
  await deleteServiceState(redis, name)
  await redis.quit()
} else {
  const consumer = kafka.consumer({
    groupId: `bench-raw-${randomBytes(4).toString('hex')}`,
    allowAutoTopicCreation: false,
    ...consumerFetchSizes,
  })
  let seen = 0
  let finish: () => void = () => undefined
  const drained = new Promise<void>((resolve) => (finish = resolve))
  const started = performance.now()
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    eachBatch: ({ batch }) => {
      if (side === 'decode') for (const m of batch.messages) decodeChatMessage(m.value!)
      seen += batch.messages.length
      if (seen >= count) finish()
      return Promise.resolve()
    },
  })
  await drained
  durationMs = performance.now() - started
  await consumer.disconnect()
}
reportResult({ items: count, durationMs })
