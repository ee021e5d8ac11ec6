import { promisify } from 'node:util'
import { gunzip, gzip } from 'node:zlib'
import kafkajs, {
  type Admin,
  type IHeaders,
  type Kafka,
  type Producer,
  type RecordMetadata,
} from 'kafkajs'
import { AppError } from '@wolkvox-chat-stream/errors'
import { toKafkaError } from './errors.js'

const { CompressionCodecs, CompressionTypes } = kafkajs

/**
 * The gzip level the project's producers write: 1, the fastest. A chat batch comes out about 10%
 * larger than at zlib's default 6, for less than half the compression work (measured on the
 * benchmark's events); it is still gzip, which every reader reads the same way.
 */
export const GZIP_LEVEL = 1

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/**
 * Makes kafkajs write gzip at {@link GZIP_LEVEL}. kafkajs keeps one codec per compression type for
 * the whole process, so this applies to every producer in it, from the first event producer on.
 */
function useFastGzip(): void {
  CompressionCodecs[CompressionTypes.GZIP] = () => ({
    compress: (encoder: { buffer: Buffer }) => gzipAsync(encoder.buffer, { level: GZIP_LEVEL }),
    decompress: (buffer: Buffer) => gunzipAsync(buffer),
  })
}

/** The largest record the adapter sends by default: key, value and headers (ARCHITECTURE.md). */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024

/** One record to produce. The record timestamp is always the publish time (ARCHITECTURE.md). */
export interface OutgoingRecord {
  topic: string
  /** UTF-8 string keys per the contract; `null` for none. */
  key: string | Buffer | null
  value: Buffer | string
  headers?: Record<string, string | Buffer>
}

/** Options for {@link createEventProducer}. */
export interface EventProducerOptions {
  /**
   * `gzip` (default) or `none`. gzip is the codec kafkajs ships and every client in every language
   * reads; lz4, snappy and zstd would need extra native codec packages for kafkajs.
   */
  compression?: 'gzip' | 'none'
  /** Uncompressed bytes per `sendBatch` call; a larger single record is sent alone. Default 8 MiB. */
  maxBatchBytes?: number
  /** Records per `sendBatch` call. Default 10,000. */
  maxBatchRecords?: number
  /** Larger records are refused before anything is sent. Default 16 MiB. */
  maxRecordBytes?: number
  /** How long the leader waits for the in-sync replicas to acknowledge. Default 30 s. */
  ackTimeoutMs?: number
  /** kafkajs's retries of one request before the error reaches the caller. Default 5. */
  retries?: number
}

/** A producer for the contract's topics: `acks=all`, idempotent, batched, compressed. */
export interface EventProducer {
  /** @throws AppError `KAFKA_UNAVAILABLE` or `KAFKA_AUTH_FAILED`. */
  connect(): Promise<void>
  /**
   * Produces `records` and resolves once the cluster acknowledged every one of them (all in-sync
   * replicas). Records are sent in order, in `sendBatch` calls bounded by `maxBatchBytes` and
   * `maxBatchRecords`, so a key's records keep their order. When it rejects, some records may
   * already be written: the caller sends them all again (the topics are at-least-once and
   * subscribers de-duplicate by `event_id`).
   *
   * @throws AppError `KAFKA_RECORD_TOO_LARGE` (before anything is sent) naming the record,
   * `KAFKA_UNAVAILABLE` (retriable), `KAFKA_AUTH_FAILED` or `KAFKA_REQUEST_FAILED`.
   */
  send(records: readonly OutgoingRecord[]): Promise<RecordMetadata[]>
  disconnect(): Promise<void>
  /** The kafkajs producer, for instrumentation events. */
  readonly producer: Producer
}

const sizeOf = (data: string | Buffer | null | undefined): number =>
  data === null || data === undefined
    ? 0
    : typeof data === 'string'
      ? Buffer.byteLength(data)
      : data.length

/** Key, value and header bytes of a record: what counts against the 16 MB limit. */
export function recordBytes(record: OutgoingRecord): number {
  let bytes = sizeOf(record.key) + sizeOf(record.value)
  if (record.headers !== undefined) {
    for (const [name, value] of Object.entries(record.headers)) {
      bytes += Buffer.byteLength(name) + sizeOf(value)
    }
  }
  return bytes
}

/**
 * Splits records, in order, into chunks of at most `maxRecords` records and `maxBytes` bytes; a
 * record larger than `maxBytes` is a chunk of its own.
 */
export function chunkRecords<T extends OutgoingRecord>(
  records: readonly T[],
  maxBytes: number,
  maxRecords: number,
): T[][] {
  const chunks: T[][] = []
  let current: T[] = []
  let currentBytes = 0
  for (const record of records) {
    const bytes = recordBytes(record)
    if (current.length > 0 && (currentBytes + bytes > maxBytes || current.length >= maxRecords)) {
      chunks.push(current)
      current = []
      currentBytes = 0
    }
    current.push(record)
    currentBytes += bytes
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

// The partitioner kafkajs uses (murmur2 of the key over every partition of the topic), so the
// partitions a send must be acknowledged for can be known beforehand.
const defaultPartition = kafkajs.Partitioners.DefaultPartitioner()

/**
 * The partitions of each topic that keyed `messages` go to, as kafkajs's default partitioner
 * places them on a topic of `count(topic)` partitions (records without a key are left out: the
 * default partitioner spreads them over the partitions it finds available).
 */
export function keyedPartitions(
  topicMessages: readonly { topic: string; messages: readonly { key: string | Buffer | null }[] }[],
  count: (topic: string) => number,
): Set<string> {
  const out = new Set<string>()
  for (const { topic, messages } of topicMessages) {
    const partitionMetadata = Array.from({ length: count(topic) }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [],
      isr: [],
      partitionErrorCode: 0,
    }))
    for (const message of messages) {
      if (message.key === null) continue
      const partition = defaultPartition({
        topic,
        partitionMetadata,
        message: { key: message.key, value: null },
      })
      out.add(`${topic}:${partition}`)
    }
  }
  return out
}

/**
 * Creates the project's producer on a client from {@link createKafkaClient}. kafkajs has no linger
 * setting, so batching is explicit: hand `send` a whole window of records at once.
 */
export function createEventProducer(
  kafka: Kafka,
  options: EventProducerOptions = {},
): EventProducer {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
  const maxBatchBytes = options.maxBatchBytes ?? 8 * 1024 * 1024
  const maxBatchRecords = options.maxBatchRecords ?? 10_000
  const compression =
    (options.compression ?? 'gzip') === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None
  if (compression === CompressionTypes.GZIP) useFastGzip()
  // Idempotence with one request in flight: a retried batch is neither duplicated nor reordered.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // Bounded on purpose (kafkajs's default for idempotence is unlimited): a send fails in bounded
    // time, its window is not acknowledged and is sent again by a new session (producer-session.ts),
    // at least once. kafkajs's warning about it is dropped in kafka-log.ts.
    retry: { retries: options.retries ?? 5 },
  })

  // kafkajs 2.2.4 can resolve a sendBatch without writing some partitions: when a partition's
  // leader dies mid-send and leadership moves to a broker that had already answered for another
  // partition, its retry skips that broker (it remembers answers per broker, not per partition).
  // So every send is checked against the partitions its keyed records go to; partition counts come
  // from the topic's metadata, read once per topic (and again before a send is declared short).
  let admin: Admin | undefined
  const counts = new Map<string, number>()
  const readCounts = async (topics: readonly string[]): Promise<void> => {
    if (admin === undefined) {
      const created = kafka.admin()
      await created.connect()
      admin = created
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [...topics] })
    for (const topic of metadata.topics) counts.set(topic.name, topic.partitions.length)
  }
  const shortOf = async (
    topicMessages: { topic: string; messages: { key: string | Buffer | null }[] }[],
    metadata: readonly RecordMetadata[],
  ): Promise<string[]> => {
    const unknown = topicMessages.map((t) => t.topic).filter((t) => !counts.has(t))
    if (unknown.length > 0) await readCounts(unknown)
    const acknowledged = new Set(metadata.map((m) => `${m.topicName}:${m.partition}`))
    const missing = (): string[] =>
      [...keyedPartitions(topicMessages, (topic) => counts.get(topic) ?? 1)].filter(
        (p) => !acknowledged.has(p),
      )
    if (missing().length === 0) return []
    // Partitions may have been added since the counts were read.
    await readCounts(topicMessages.map((t) => t.topic))
    return missing()
  }

  return {
    producer,
    async connect() {
      try {
        await producer.connect()
      } catch (error) {
        throw toKafkaError(error, 'Connecting the producer')
      }
    },
    async send(records) {
      records.forEach((record, index) => {
        const bytes = recordBytes(record)
        if (bytes > maxRecordBytes) {
          throw new AppError(
            'KAFKA_RECORD_TOO_LARGE',
            `Record ${index} for ${record.topic} has ${bytes} bytes, over the ${maxRecordBytes}-byte limit; nothing was sent`,
            { details: { topic: record.topic, index, bytes, maxRecordBytes } },
          )
        }
      })
      const written: RecordMetadata[] = []
      for (const chunk of chunkRecords(records, maxBatchBytes, maxBatchRecords)) {
        const byTopic = new Map<
          string,
          { key: string | Buffer | null; value: string | Buffer; headers?: IHeaders }[]
        >()
        for (const record of chunk) {
          let messages = byTopic.get(record.topic)
          if (!messages) byTopic.set(record.topic, (messages = []))
          messages.push({
            key: record.key,
            value: record.value,
            ...(record.headers ? { headers: record.headers } : {}),
          })
        }
        const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }))
        let short: string[]
        try {
          const metadata = await producer.sendBatch({
            acks: -1,
            timeout: options.ackTimeoutMs ?? 30_000,
            compression,
            topicMessages,
          })
          short = await shortOf(topicMessages, metadata)
          written.push(...metadata)
        } catch (error) {
          throw toKafkaError(error, `Producing ${chunk.length} records`, {
            topics: [...byTopic.keys()],
          })
        }
        if (short.length > 0) {
          throw new AppError(
            'KAFKA_UNAVAILABLE',
            `Producing ${chunk.length} records: the cluster acknowledged nothing for ${short.join(', ')} (a partition leader changed during the send); send them again`,
            { retriable: true, details: { partitions: short } },
          )
        }
      }
      return written
    },
    async disconnect() {
      await producer.disconnect()
      await admin?.disconnect().catch(() => undefined)
    },
  }
}
