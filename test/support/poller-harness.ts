import { decodeChatMessage, eventId, topics, type ChatMessage } from '@wolkvox-chat-stream/events'
import { createKafkaClient, type Kafka } from '@wolkvox-chat-stream/kafka'
import type { Truth } from '@wolkvox-chat-stream/wolkvox-simulator'
import { readTopicToEnd } from './read-topic.js'

/** A fresh operation code for one test, so tests sharing the broker's topics never mix. */
export function newServerCode(): string {
  return String(100_000 + Math.floor(Math.random() * 899_999))
}

/** The environment a poller reads, pointed at a simulator, the run's broker and a Redis. */
export function pollerEnv(input: {
  server: string
  token: string
  simulatorUrl: string
  kafkaBrokers: string
  redisUrl: string
  extra?: Record<string, string>
}): Record<string, string> {
  return {
    WOLKVOX_SERVER: input.server,
    WOLKVOX_TOKEN: input.token,
    WOLKVOX_BASE_URL: input.simulatorUrl,
    KAFKA_BROKERS: input.kafkaBrokers,
    REDIS_URL: input.redisUrl,
    POLL_LOCK_TTL: '3s',
    POLL_LOCK_WAIT: '60s',
    LOG_LEVEL: 'warn',
    ...input.extra,
  }
}

/** What a message of the ground truth must look like on the topic, by its event id. */
export interface ExpectedMessage {
  conn_id: string
  date: string
  from: string
  from_name: string
  message: string
  channel: string
  customer_id: string
}

/** Each message of the truth with its event_id, as the poller computes it. */
export function truthMessages(
  truth: Pick<Truth, 'data'>,
  server: string,
  report = 'chat_2',
): { id: string; connId: string; message: Record<string, string | undefined> }[] {
  const out: { id: string; connId: string; message: Record<string, string | undefined> }[] = []
  for (const chat of truth.data) {
    const seen = new Map<string, number>()
    for (const raw of chat.conversation) {
      const m = raw as Record<string, string | undefined>
      const twinKey = JSON.stringify([m.date, m.from, m.from_name, m.message])
      const occurrence = seen.get(twinKey) ?? 0
      seen.set(twinKey, occurrence + 1)
      const id = eventId({
        server,
        report,
        conn_id: chat.conn_id,
        date: m.date!,
        from: m.from!,
        from_name: m.from_name!,
        message: m.message!,
        occurrence,
      })
      out.push({ id, connId: chat.conn_id, message: m })
    }
  }
  return out
}

/** The event ids (and fields) the topic must hold for the truth of a window. */
export function expectedMessages(
  truth: Truth,
  server: string,
  report = 'chat_2',
): Map<string, ExpectedMessage> {
  const out = new Map<string, ExpectedMessage>()
  for (const { id, connId, message: m } of truthMessages(truth, server, report)) {
    out.set(id, {
      conn_id: connId,
      date: m.date!,
      from: m.from!,
      from_name: m.from_name!,
      message: m.message!,
      channel: m.channel!,
      customer_id: m.customer_id!,
    })
  }
  return out
}

let reader: Kafka | undefined

/** Every ChatMessage of `server` on the topic, in topic order. */
export async function chatMessagesOf(kafkaBrokers: string, server: string): Promise<ChatMessage[]> {
  reader ??= createKafkaClient({ brokers: [kafkaBrokers], clientId: 'test-topic-reader' })
  const records = await readTopicToEnd(reader, topics.chatMessage.name)
  return records.map((r) => decodeChatMessage(r.value!)).filter((e) => e.server === server)
}

/** How `server`'s messages on the topic differ from the simulator's truth of a range. */
export async function topicDiffFromTruth(
  kafkaBrokers: string,
  server: string,
  truth: Truth,
): Promise<ReturnType<typeof compareWithTruth>> {
  return compareWithTruth(
    await chatMessagesOf(kafkaBrokers, server),
    expectedMessages(truth, server),
  )
}

/** Raw records of the poller's dead-letter topic for `server`. */
export async function deadLettersOf(
  kafkaBrokers: string,
  server: string,
): Promise<{ key: string; value: string; headers: Record<string, string> }[]> {
  reader ??= createKafkaClient({ brokers: [kafkaBrokers], clientId: 'test-topic-reader' })
  const records = await readTopicToEnd(reader, topics.pollerDlq.name)
  return records
    .filter((r) => r.key?.toString().startsWith(`${server}|`))
    .map((r) => ({
      key: r.key!.toString(),
      value: r.value!.toString(),
      headers: Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k, String(v)])),
    }))
}

/** Compares the topic with the truth: every expected message exactly once, every field exact. */
export function compareWithTruth(
  events: readonly ChatMessage[],
  expected: Map<string, ExpectedMessage>,
): { missing: string[]; unexpected: string[]; repeated: string[]; wrong: string[] } {
  const counts = new Map<string, number>()
  const wrong: string[] = []
  for (const e of events) {
    counts.set(e.event_id, (counts.get(e.event_id) ?? 0) + 1)
    const want = expected.get(e.event_id)
    if (!want) continue
    for (const field of [
      'conn_id',
      'date',
      'from',
      'from_name',
      'message',
      'channel',
      'customer_id',
    ] as const) {
      if (e[field] !== want[field]) wrong.push(`${e.event_id}.${field}`)
    }
  }
  return {
    missing: [...expected.keys()].filter((id) => !counts.has(id)),
    unexpected: [...counts.keys()].filter((id) => !expected.has(id)),
    repeated: [...counts.entries()].filter(([, n]) => n > 1).map(([id]) => id),
    wrong,
  }
}
