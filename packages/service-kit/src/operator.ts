import { randomBytes } from 'node:crypto'
import { dlqTopic } from '@wolkvox-chat-stream/events'
import {
  createConsumer,
  createEventProducer,
  runBatches,
  toKafkaError,
  type Kafka,
  type KafkaMessage,
} from '@wolkvox-chat-stream/kafka'
import { toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import { readDeadLetter, type DeadLetter } from './dead-letter.js'
import { assertServiceName, serviceKeys } from './keys.js'
import { deleteMatching } from './state-store.js'

/** The consumer group that remembers how far `dlq redrive` got. */
export const redriveGroup = (name: string): string => `${assertServiceName(name)}-dlq-redrive`

/** What `dlq list` shows. */
export interface DeadLetterSummary {
  topic: string
  exists: boolean
  /** Records in the topic (within its retention). */
  records: number
  /** Records not redriven yet. */
  pending: number
  /** Records by `dlq.error.code`. */
  byCode: Record<string, number>
}

interface Span {
  partition: number
  low: number
  high: number
}

async function spans(kafka: Kafka, topic: string): Promise<Span[] | undefined> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    if (!(await admin.listTopics()).includes(topic)) return undefined
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.map((o) => ({
      partition: o.partition,
      low: Number(o.low),
      high: Number(o.high),
    }))
  } catch (error) {
    throw toKafkaError(error, `Reading the offsets of ${topic}`)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

async function committed(
  kafka: Kafka,
  groupId: string,
  topic: string,
): Promise<Map<number, number>> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    const [found] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return new Map((found?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]))
  } catch (error) {
    throw toKafkaError(error, `Reading the offsets of group ${groupId}`)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/**
 * Reads `topic` from where `groupId` stands (the beginning for a new group) to its end offsets as of
 * the call, handing each batch's records to `each` and resolving them once `each` returns; records
 * written after the call are left for next time. With `commit`, progress is kept in the group;
 * otherwise the group is deleted afterwards.
 */
async function readToEnd(
  kafka: Kafka,
  topic: string,
  groupId: string,
  ends: Map<number, number>,
  commit: boolean,
  each: (partition: number, messages: KafkaMessage[]) => Promise<void>,
): Promise<void> {
  const start = await committed(kafka, groupId, topic)
  const remaining = new Map(
    [...ends].filter(([partition, high]) => Math.max(start.get(partition) ?? -1, 0) < high),
  )
  if (remaining.size === 0) return
  const consumer = createConsumer(kafka, {
    groupId,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
  })
  let finish: (error?: unknown) => void = () => undefined
  const finished = new Promise<void>((resolve, reject) => {
    finish = (error) =>
      error === undefined
        ? resolve()
        : reject(
            error instanceof Error
              ? error
              : new Error('reading the topic failed', { cause: error }),
          )
  })
  try {
    await runBatches(consumer, {
      topics: [topic],
      fromBeginning: true,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload
        const end = remaining.get(batch.partition)
        if (end === undefined) return
        const mine = batch.messages.filter((m) => Number(m.offset) < end)
        try {
          if (mine.length > 0) await each(batch.partition, mine)
        } catch (error) {
          finish(error)
          return
        }
        const last = mine[mine.length - 1]
        if (last !== undefined) payload.resolveOffset(last.offset)
        if (commit) await payload.commitOffsetsIfNecessary()
        if (last !== undefined && Number(last.offset) + 1 >= end) remaining.delete(batch.partition)
        if (remaining.size === 0) finish()
      },
      onCrash: (error, restart) => {
        if (!restart) finish(error)
      },
    })
    await finished
  } finally {
    await consumer.disconnect().catch(() => undefined)
    if (!commit) {
      const admin = kafka.admin()
      await admin
        .connect()
        .then(() => admin.deleteGroups([groupId]))
        .catch(() => undefined)
      await admin.disconnect().catch(() => undefined)
    }
  }
}

const endsOf = (list: Span[]): Map<number, number> =>
  new Map(list.filter((s) => s.high > s.low).map((s) => [s.partition, s.high]))

/** `dlq list <name>`: how many records the service's dead-letter topic holds, by error code. */
export async function summarizeDeadLetters(kafka: Kafka, name: string): Promise<DeadLetterSummary> {
  const topic = dlqTopic(assertServiceName(name)).name
  const found = await spans(kafka, topic)
  if (found === undefined) return { topic, exists: false, records: 0, pending: 0, byCode: {} }
  const done = await committed(kafka, redriveGroup(name), topic)
  const byCode: Record<string, number> = {}
  await readToEnd(
    kafka,
    topic,
    `${name}-dlq-list-${randomBytes(4).toString('hex')}`,
    endsOf(found),
    false,
    (_, messages) => {
      for (const message of messages) {
        const code = readDeadLetter(message).errorCode ?? '(none)'
        byCode[code] = (byCode[code] ?? 0) + 1
      }
      return Promise.resolve()
    },
  )
  let records = 0
  let pending = 0
  for (const span of found) {
    records += span.high - span.low
    pending += span.high - Math.max(span.low, done.get(span.partition) ?? -1)
  }
  return { topic, exists: true, records, pending, byCode }
}

/** `dlq show <name>`: the records of the dead-letter topic, oldest first, up to `limit`. */
export async function readDeadLetters(
  kafka: Kafka,
  name: string,
  options: { limit?: number } = {},
): Promise<DeadLetter[]> {
  const topic = dlqTopic(assertServiceName(name)).name
  const found = await spans(kafka, topic)
  if (found === undefined) return []
  const out: DeadLetter[] = []
  const limit = options.limit ?? Infinity
  await readToEnd(
    kafka,
    topic,
    `${name}-dlq-show-${randomBytes(4).toString('hex')}`,
    endsOf(found),
    false,
    (_, messages) => {
      for (const message of messages) if (out.length < limit) out.push(readDeadLetter(message))
      return Promise.resolve()
    },
  )
  return out.sort((a, b) => Number(a.offset) - Number(b.offset)).slice(0, limit)
}

/** What `dlq redrive` did. */
export interface RedriveResult {
  topic: string
  redriven: number
  /** Records without a `dlq.topic` header, passed over. */
  skipped: number
  byTarget: Record<string, number>
}

/**
 * `dlq redrive <name>`: produces every record of the dead-letter topic not redriven yet back to its
 * original topic (`dlq.topic`) with its original key, bytes and headers, then records the progress
 * in the group `<name>-dlq-redrive`, so a second redrive sends only newer records. The records get
 * new offsets: subscribers de-duplicate them by `event_id` as usual. Records that fail again land
 * in the dead-letter topic again, after this run's end.
 *
 * @throws AppError `KAFKA_*` when the cluster refuses.
 */
export async function redriveDeadLetters(kafka: Kafka, name: string): Promise<RedriveResult> {
  const topic = dlqTopic(assertServiceName(name)).name
  const result: RedriveResult = { topic, redriven: 0, skipped: 0, byTarget: {} }
  const found = await spans(kafka, topic)
  if (found === undefined) return result
  const producer = createEventProducer(kafka)
  await producer.connect()
  try {
    await readToEnd(kafka, topic, redriveGroup(name), endsOf(found), true, async (_, messages) => {
      const records = []
      for (const message of messages) {
        const letter = readDeadLetter(message)
        if (letter.topic === undefined) {
          result.skipped++
          continue
        }
        records.push({
          topic: letter.topic,
          key: letter.key,
          value: letter.value ?? Buffer.alloc(0),
          headers: letter.originalHeaders,
        })
        result.byTarget[letter.topic] = (result.byTarget[letter.topic] ?? 0) + 1
      }
      await producer.send(records)
      result.redriven += records.length
    })
  } finally {
    await producer.disconnect().catch(() => undefined)
  }
  return result
}

/**
 * `rebuild <name>`: deletes the service's epoch key. Running instances notice within
 * `CONSUMER_EPOCH_CHECK_INTERVAL`, wipe each partition's state and replay the input from the
 * beginning (`/readyz` answers 503 meanwhile); stopped ones do so when they start. Returns whether
 * the key existed.
 */
export async function requestRebuild(redis: Redis, name: string): Promise<boolean> {
  try {
    return (await redis.del(serviceKeys(name).epoch)) > 0
  } catch (error) {
    throw toRedisError(error)
  }
}

/**
 * Deletes everything the service keeps in Redis (every partition's state, offsets, event_ids, the
 * registry and the epoch); for tests and benchmarks that clean up after themselves. Never run it
 * while the service runs: use {@link requestRebuild}.
 */
export async function deleteServiceState(redis: Redis, name: string): Promise<number> {
  const keys = serviceKeys(name)
  let deleted = await deleteMatching(redis, keys.allPartitionsPattern())
  try {
    deleted += await redis.del(keys.epoch, keys.partitions)
  } catch (error) {
    throw toRedisError(error)
  }
  return deleted
}
