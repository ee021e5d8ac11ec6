import {
  buildChatMessages,
  encodeChatMessage,
  topicKeys,
  type ChatMessage,
} from '@wolkvox-chat-stream/events'
import { createEventProducer, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createDataset } from '@wolkvox-chat-stream/wolkvox-simulator'

const ZONE = 'America/Bogota'
const START_MS = Date.parse('2025-02-10T00:00:00Z')

/**
 * Realistic ChatMessage events: the simulator's seeded chats, hour after hour, turned into events
 * by the poller's builder, as they would reach `wolkvox.chat.message.v1`. The first `count`
 * events, whole chats first (the last chat may be cut).
 */
export function datasetEvents(
  count: number,
  options: { seed?: number; server?: string } = {},
): ChatMessage[] {
  const dataset = createDataset({
    seed: options.seed ?? 7,
    chatsPerHour: 60,
    timeZone: ZONE,
    historyStartMs: START_MS,
  })
  const events: ChatMessage[] = []
  for (let hour = START_MS / 3_600_000; events.length < count; hour++) {
    for (const chat of dataset.chatsInHour(hour)) {
      const upstream = {
        ...chat.fields,
        conversation: chat.messages.map((m) => JSON.parse(m.text) as unknown),
      }
      const window = { start: new Date(hour * 3_600_000), end: new Date((hour + 1) * 3_600_000) }
      events.push(
        ...buildChatMessages(upstream, {
          server: options.server ?? '0010',
          zone: ZONE,
          window,
          polledAt: window.end,
        }).events,
      )
      if (events.length >= count) break
    }
  }
  return events.slice(0, count)
}

/** `count` events of `server`, whole chats only (a cut last chat would wait for its idle time). */
export function wholeChats(count: number, seed: number, server: string): ChatMessage[] {
  const events = datasetEvents(count, { seed, server })
  const complete = new Set(
    events.filter((e) => e.position === e.conversation_length - 1).map((e) => e.conn_id),
  )
  return events.filter((e) => complete.has(e.conn_id))
}

/** Produces `events` to `topic`, keyed by conn_id like the poller; resolves once acknowledged. */
export async function produceEvents(
  kafka: Kafka,
  topic: string,
  events: readonly ChatMessage[],
): Promise<void> {
  await produceRaw(
    kafka,
    events.map((event) => ({
      topic,
      key: topicKeys.chatMessage(event),
      value: encodeChatMessage(event),
    })),
  )
}

/** Produces records as they are (undecodable bytes included). */
export async function produceRaw(
  kafka: Kafka,
  records: { topic: string; key: string | null; value: Buffer }[],
): Promise<void> {
  const producer = createEventProducer(kafka)
  await producer.connect()
  try {
    await producer.send(records)
  } finally {
    await producer.disconnect()
  }
}
