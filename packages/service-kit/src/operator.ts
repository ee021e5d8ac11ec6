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
import { AppError } from '@wolkvox-chat-stream/errors'
import { scanKeys, toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import { originKey, readDeadLetter, REDRIVE_HEADER, type DeadLetter } from './dead-letter.js'
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
  /**
   * Dead letters: records of distinct origins (topic, partition, offset). A record dead-lettered
   * again by a replay (a rebuild) is one dead letter.
   */
  deadLetters: number
  /** Dead letters not redriven yet. */
  pending: number
  /** Dead letters by `dlq.error.code` (of the origin's latest record). */
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

/** A record of a dead-letter topic with the partition it was read from. */
interface Letter {
  partition: number
  letter: DeadLetter
  /** Its origin, or (no `dlq.*` origin headers) its own place in the dead-letter topic. */
  origin: string
}

/** Every record of the dead-letter topic (up to its end as of the call), oldest first. */
async function readLetters(kafka: Kafka, name: string, found: Span[]): Promise<Letter[]> {
  const topic = dlqTopic(name).name
  const out: Letter[] = []
  await readToEnd(
    kafka,
    topic,
    `${name}-dlq-read-${randomBytes(4).toString('hex')}`,
    endsOf(found),
    false,
    (partition, messages) => {
      for (const message of messages) {
        const letter = readDeadLetter(message)
        out.push({
          partition,
          letter,
          origin: originKey(letter) ?? `${topic}|${partition}|${message.offset}`,
        })
      }
      return Promise.resolve()
    },
  )
  return out.sort(
    (a, b) => a.partition - b.partition || Number(a.letter.offset) - Number(b.letter.offset),
  )
}

/**
 * Of the records read, the origins `dlq redrive` sent already (a record before the redrive
 * group's committed offset), and the records still to redrive: the first of each other origin.
 */
function pendingOf(
  letters: Letter[],
  done: Map<number, number>,
): { redriven: Set<string>; pending: Letter[] } {
  const redriven = new Set<string>()
  for (const l of letters)
    if (Number(l.letter.offset) < (done.get(l.partition) ?? -1)) redriven.add(l.origin)
  const seen = new Set<string>()
  const pending: Letter[] = []
  for (const l of letters) {
    if (redriven.has(l.origin) || seen.has(l.origin)) continue
    seen.add(l.origin)
    pending.push(l)
  }
  return { redriven, pending }
}

/**
 * `dlq list <name>`: how many dead letters the service's dead-letter topic holds, each origin
 * counted once, by error code, and how many are not redriven yet.
 */
export async function summarizeDeadLetters(kafka: Kafka, name: string): Promise<DeadLetterSummary> {
  const topic = dlqTopic(assertServiceName(name)).name
  const found = await spans(kafka, topic)
  if (found === undefined)
    return { topic, exists: false, records: 0, deadLetters: 0, pending: 0, byCode: {} }
  const done = await committed(kafka, redriveGroup(name), topic)
  const letters = await readLetters(kafka, name, found)
  const latest = new Map<string, string>()
  for (const l of letters) latest.set(l.origin, l.letter.errorCode ?? '(none)')
  const byCode: Record<string, number> = {}
  for (const code of latest.values()) byCode[code] = (byCode[code] ?? 0) + 1
  return {
    topic,
    exists: true,
    records: letters.length,
    deadLetters: latest.size,
    pending: pendingOf(letters, done).pending.length,
    byCode,
  }
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
  /** Dead letters sent back, each origin once. */
  redriven: number
  /** Records without a `dlq.topic` header, passed over. */
  skipped: number
  /** Records of an origin redriven already, or met earlier in this run (a replay's copies). */
  repeated: number
  byTarget: Record<string, number>
}

/**
 * `dlq redrive <name>`: sends every dead letter not redriven yet, once per origin (topic,
 * partition, offset), back to its original topic (`dlq.topic`) with its original key, bytes and
 * headers plus {@link REDRIVE_HEADER} naming the service: every other service on the kit passes it
 * over, so only `<name>` handles it again (at its new offset, de-duplicated by `event_id` as usual).
 * Then records the progress in the group `<name>-dlq-redrive`, so a second redrive sends only
 * newer dead letters. A record that fails again lands in the dead-letter topic again, with its new
 * origin. Subscribers outside the kit see the copy too and must de-duplicate it by `event_id`.
 *
 * @throws AppError `KAFKA_*` when the cluster refuses.
 */
export async function redriveDeadLetters(kafka: Kafka, name: string): Promise<RedriveResult> {
  const topic = dlqTopic(assertServiceName(name)).name
  const result: RedriveResult = { topic, redriven: 0, skipped: 0, repeated: 0, byTarget: {} }
  const found = await spans(kafka, topic)
  if (found === undefined) return result
  const groupId = redriveGroup(name)
  const done = await committed(kafka, groupId, topic)
  const letters = await readLetters(kafka, name, found)
  const { pending } = pendingOf(letters, done)
  const from = (l: Letter): boolean => Number(l.letter.offset) >= (done.get(l.partition) ?? -1)
  result.repeated = letters.filter(from).length - pending.length
  const records = []
  for (const { letter } of pending) {
    if (letter.topic === undefined) {
      result.skipped++
      continue
    }
    records.push({
      topic: letter.topic,
      key: letter.key,
      value: letter.value ?? Buffer.alloc(0),
      headers: { ...letter.originalHeaders, [REDRIVE_HEADER]: name },
    })
    result.byTarget[letter.topic] = (result.byTarget[letter.topic] ?? 0) + 1
  }
  if (records.length > 0) {
    const producer = createEventProducer(kafka)
    await producer.connect()
    try {
      await producer.send(records)
    } finally {
      await producer.disconnect().catch(() => undefined)
    }
    result.redriven = records.length
  }
  // Sent (durably: the producer waits for every replica) before the progress moves past them.
  const admin = kafka.admin()
  try {
    await admin.connect()
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [...endsOf(found)].map(([partition, high]) => ({
        partition,
        offset: String(high),
      })),
    })
  } catch (error) {
    throw toKafkaError(error, `Recording the progress of ${groupId}`)
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
  return result
}

/** The consumer services the operator commands know, and where they were found. */
export interface KnownServices {
  names: string[]
  /** Where they were looked up, for the error message. */
  where: string
}

const DLQ_NAME = /^wolkvox\.([a-z][a-z0-9-]{0,62})\.dlq$/

/**
 * The services with a dead-letter topic (`wolkvox.<name>.dlq`): every service on the kit provisions
 * its own when it first starts.
 *
 * @throws AppError `KAFKA_*` when the cluster refuses.
 */
export async function servicesWithDeadLetterTopics(kafka: Kafka): Promise<KnownServices> {
  const admin = kafka.admin()
  try {
    await admin.connect()
    const names = (await admin.listTopics()).flatMap((t) => DLQ_NAME.exec(t)?.[1] ?? [])
    return { names: names.sort(), where: 'dead-letter topics wolkvox.<name>.dlq on Kafka' }
  } catch (error) {
    throw toKafkaError(error, 'Listing the topics')
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

/**
 * The services with state in Redis: an epoch key (`wcs:{<name>}:epoch`, made at every start) or a
 * partition registry (`wcs:{<name>}:kit:partitions`, kept when `rebuild` deletes the epoch).
 *
 * @throws AppError `REDIS_*` when Redis is away.
 */
export async function servicesInRedis(redis: Redis): Promise<KnownServices> {
  const names = new Set<string>()
  const pattern = /^wcs:\{([a-z][a-z0-9-]{0,62})\}:(?:epoch|kit:partitions)$/
  try {
    for (const match of [`wcs:{*}:epoch`, `wcs:{*}:kit:partitions`]) {
      for await (const keys of scanKeys(redis, match)) {
        for (const key of keys) {
          const found = pattern.exec(key)?.[1]
          if (found !== undefined) names.add(found)
        }
      }
    }
  } catch (error) {
    throw toRedisError(error)
  }
  return { names: [...names].sort(), where: 'consumer state in Redis (wcs:{<name>}:epoch)' }
}

/**
 * Checks that `name` is a known service.
 *
 * @throws AppError `CONSUMER_SERVICE_UNKNOWN` naming the known services otherwise.
 */
export function assertKnownService(name: string, known: KnownServices): void {
  if (known.names.includes(name)) return
  throw new AppError(
    'CONSUMER_SERVICE_UNKNOWN',
    `No consumer service is called ${JSON.stringify(name)} (looked up in ${known.where}). ` +
      `Known services: ${known.names.length === 0 ? '(none)' : known.names.join(', ')}`,
    { details: { name, known: known.names } },
  )
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
    deleted += await redis.del(keys.epoch, keys.partitions, keys.deadLetters)
  } catch (error) {
    throw toRedisError(error)
  }
  return deleted
}
