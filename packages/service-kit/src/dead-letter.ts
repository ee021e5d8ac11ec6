import type { AppError } from '@wolkvox-chat-stream/errors'
import { dlqHeaders } from '@wolkvox-chat-stream/events'
import type { KafkaMessage, OutgoingRecord } from '@wolkvox-chat-stream/kafka'

/** The longest `dlq.error.message` kept; the rest is cut with an ellipsis. */
export const DLQ_ERROR_MESSAGE_MAX = 1_000

/**
 * The header `dlq redrive` puts on a record it sends back to its original topic: the one consumer
 * service it is for. Every other service built on the kit passes the record over as a duplicate
 * (it is a copy of an event they have seen), so only the service that dead-lettered it handles it.
 */
export const REDRIVE_HEADER = 'dlq.redrive.for'

/**
 * The service a record was redriven for ({@link REDRIVE_HEADER}); undefined for an ordinary record.
 */
export function redrivenFor(message: Pick<KafkaMessage, 'headers'>): string | undefined {
  const value = message.headers?.[REDRIVE_HEADER]
  const first = Array.isArray(value) ? value[0] : value
  return first === undefined ? undefined : first.toString()
}

/**
 * What identifies a dead letter: its origin, `<topic>|<partition>|<offset>`. A record dead-lettered
 * twice (a rebuild replays it) has one origin: `dlq list` counts it once and `dlq redrive` sends it
 * once. Undefined for a record without the `dlq.*` origin headers.
 */
export function originKey(
  letter: Pick<DeadLetter, 'topic' | 'partition' | 'originalOffset'>,
): string | undefined {
  const { topic, partition, originalOffset } = letter
  if (topic === undefined || partition === undefined || originalOffset === undefined)
    return undefined
  return `${topic}|${partition}|${originalOffset}`
}

/** Where a dead-lettered record came from. */
export interface DeadLetterOrigin {
  topic: string
  partition: number
  message: Pick<KafkaMessage, 'key' | 'value' | 'offset' | 'headers'>
}

/**
 * The dead-letter record of a message (ARCHITECTURE.md, Topics): the original key and bytes, its
 * original headers, and `dlq.topic`, `dlq.partition`, `dlq.offset`, `dlq.error.code`,
 * `dlq.error.message`. A null value (a tombstone) is kept as an empty value.
 */
export function deadLetterRecord(
  dlqTopicName: string,
  origin: DeadLetterOrigin,
  error: AppError,
): OutgoingRecord {
  const headers: Record<string, string | Buffer> = {}
  for (const [name, value] of Object.entries(origin.message.headers ?? {})) {
    // A repeated header keeps its first value: the producer's contract has none.
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined && !name.startsWith('dlq.')) headers[name] = first
  }
  const message =
    error.message.length > DLQ_ERROR_MESSAGE_MAX
      ? `${error.message.slice(0, DLQ_ERROR_MESSAGE_MAX - 1)}…`
      : error.message
  headers[dlqHeaders.topic] = origin.topic
  headers[dlqHeaders.partition] = String(origin.partition)
  headers[dlqHeaders.offset] = origin.message.offset
  headers[dlqHeaders.errorCode] = error.code
  headers[dlqHeaders.errorMessage] = message
  return {
    topic: dlqTopicName,
    key: origin.message.key,
    value: origin.message.value ?? Buffer.alloc(0),
    headers,
  }
}

/** A dead-lettered record read back: its origin and error, decoded from the headers. */
export interface DeadLetter {
  /** Offset in the dead-letter topic. */
  offset: string
  topic: string | undefined
  partition: number | undefined
  originalOffset: string | undefined
  errorCode: string | undefined
  errorMessage: string | undefined
  key: Buffer | null
  value: Buffer | null
  /** The headers other than `dlq.*`, as the original record had them. */
  originalHeaders: Record<string, Buffer>
}

/** Reads the `dlq.*` headers of a record of a dead-letter topic. */
export function readDeadLetter(message: KafkaMessage): DeadLetter {
  const text = (name: string): string | undefined => {
    const value = message.headers?.[name]
    const first = Array.isArray(value) ? value[0] : value
    return first === undefined ? undefined : first.toString()
  }
  const originalHeaders: Record<string, Buffer> = {}
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value
    if (first !== undefined && !name.startsWith('dlq.'))
      originalHeaders[name] = Buffer.isBuffer(first) ? first : Buffer.from(first)
  }
  const partition = text(dlqHeaders.partition)
  return {
    offset: message.offset,
    topic: text(dlqHeaders.topic),
    partition: partition === undefined ? undefined : Number(partition),
    originalOffset: text(dlqHeaders.offset),
    errorCode: text(dlqHeaders.errorCode),
    errorMessage: text(dlqHeaders.errorMessage),
    key: message.key,
    value: message.value,
    originalHeaders,
  }
}
