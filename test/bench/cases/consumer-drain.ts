/*
 * Draining a backlog of ChatMessage events from a 6-partition topic.
 *   BENCH_SIDE=kit  the toy counting consumer on the service kit: decode, de-duplicate by offset and
 *                   event_id, three HINCRBYs per event applied with the partition offset by one Lua
 *                   script per chunk, commits after the state is stored
 *   BENCH_SIDE=raw  the baseline: a raw kafkajs eachBatch consumer that does no work
 *   BENCH_SIDE=decode  the raw consumer plus Avro decoding of every event (not in the table: it
 *                   tells how much of the kit's cost is the event contract's decoding)
 *   BENCH_SIDE=decode-fields  the same, decoding only the fields the sentiment aggregator reads
 * Both read the same topic, with the same fetch sizes, from the first offset in a fresh group; the
 * clock runs from start to the last event counted. The topic is produced once per bench run (the
 * broker is new for each run) by whichever side runs first, before its clock starts.
 * Env: BENCH_KAFKA_BROKERS, BENCH_REDIS_URL, BENCH_EVENTS (1000000).
 */
import { randomBytes } from 'node:crypto'
import { chatMessageCodec, decodeChatMessage } from '@wolkvox-chat-stream/events'
import { consumerFetchSizes, createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { sentimentEventFields } from '@wolkvox-chat-stream/sentiment-aggregator'
import { deleteServiceState } from '@wolkvox-chat-stream/service-kit'
import { createToyCounter } from '../../support/toy-counter.js'
import { numberFromEnv, reportResult } from '../case-support.js'
import { ensureDrainInput } from '../drain-input.js'

const side = process.env.BENCH_SIDE ?? 'kit'
const brokers = process.env.BENCH_KAFKA_BROKERS ?? ''
const redisUrl = process.env.BENCH_REDIS_URL ?? ''
const count = numberFromEnv('BENCH_EVENTS', 1_000_000)

const log = (line: string): void => void process.stderr.write(`  [consumer-drain] ${line}\n`)

const kafka = createKafkaClient({ brokers: brokers.split(','), clientId: `bench-drain-${side}` })
const topic = await ensureDrainInput(kafka, count, log)

const decodeSentimentFields = chatMessageCodec.decodeFields([...sentimentEventFields])

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
      if (side === 'decode-fields') for (const m of batch.messages) decodeSentimentFields(m.value!)
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
