/*
 * The backlog the drain benchmarks read (consumer-drain.ts, service-drain.ts): a 6-partition topic
 * of `count` realistic ChatMessage events, produced once per bench run by the harness before the
 * rows that read it (fill-backlog.ts), or by a case run on its own, before its clock starts.
 */
import { createHash } from 'node:crypto'
import { encodeChatMessage, topicKeys, type ChatMessage } from '@wolkvox-chat-stream/events'
import { createEventProducer, type Kafka } from '@wolkvox-chat-stream/kafka'
import { datasetEvents } from '../support/chat-events.js'
import { createTopic } from '../support/topics.js'

const PARTITIONS = 6

/** The topic name for a backlog of `count` events. */
export const drainTopic = (count: number): string => `bench-consumer-drain-${count}`

/** Creates and fills the backlog topic unless an earlier case of this run did; returns its name. */
export async function ensureDrainInput(
  kafka: Kafka,
  count: number,
  log: (line: string) => void,
): Promise<string> {
  const topic = drainTopic(count)
  const admin = kafka.admin()
  await admin.connect()
  try {
    if ((await admin.listTopics()).includes(topic)) {
      const offsets = await admin.fetchTopicOffsets(topic)
      if (offsets.reduce((sum, o) => sum + Number(o.high), 0) === count) return topic
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
  return topic
}
