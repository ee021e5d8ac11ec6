/*
 * A chunk of one partition's batch on its way to Redis, before any I/O: its messages decoded into
 * items (the events the handlers get), then filtered against what the partition's state holds
 * (stored offset, applied event_ids, stored revisions), and its dead letters in a row counted.
 * Pure functions of their inputs, the service's decoder aside.
 */
import { AppError } from '@wolkvox-chat-stream/errors'
import type { KafkaMessage } from '@wolkvox-chat-stream/kafka'
import { redrivenFor } from './dead-letter.js'
import type { ConsumerServiceOptions, MessageInfo, PreviousRevision } from './options.js'
import type { StateOp } from './state-ops.js'

type Revisions<T> = NonNullable<ConsumerServiceOptions<T>['revisions']>

/** One consumed message on its way through a chunk (also an event of its op group). */
export interface Item<T> {
  /** Its place in the chunk. */
  index: number
  message: KafkaMessage
  offset: string
  /** Where it came from and, once decoded, the event: what `handleBatch` is given. */
  info: MessageInfo & { event?: T; previous?: PreviousRevision }
  event?: T
  eventId: string | undefined
  /** With `revisions`: the event's revision and order. */
  revision?: { revision: string; order: number }
  /** The revision token the partition must hold for the event ('' new), and the one it leaves. */
  expect?: string
  token?: string
  /** Why decoding failed (kept across attempts). */
  decodeError?: AppError
  /** Why it goes to the dead-letter topic. */
  error?: AppError
  duplicate?: boolean
  /**
   * The other service a redriven copy is for (`dlq.redrive.for`): passed over undecoded, as a
   * duplicate.
   */
  redrivenFor?: string
  /** Recorded by `handle`. */
  ops?: StateOp[]
}

const EMPTY = Buffer.alloc(0)

export const defaultEventId = (event: unknown): string | undefined => {
  const id = (event as { event_id?: unknown } | null)?.event_id
  return typeof id === 'string' && id !== '' ? id : undefined
}

/** Of two revisions of one event, whether `a` is the newer: the larger order, then the later offset. */
function newerRevision(
  a: { revision?: { order: number }; offset: string },
  b: { revision?: { order: number }; offset: string },
): boolean {
  const x = a.revision?.order ?? 0
  const y = b.revision?.order ?? 0
  return x > y || (x === y && Number(a.offset) > Number(b.offset))
}

/** Reads a stored revision token `<order>|<revision>|<summary>`; undefined for none. */
function parseToken(token: string | undefined): PreviousRevision | undefined {
  if (token === undefined) return undefined
  const first = token.indexOf('|')
  const second = token.indexOf('|', first + 1)
  if (first < 0 || second < 0) return undefined
  return {
    order: Number(token.slice(0, first)),
    revision: token.slice(first + 1, second),
    summary: token.slice(second + 1),
  }
}

/** An error from a service's code as an AppError (`CONSUMER_HANDLER_FAILED` unless it is one). */
export function asAppError(error: unknown, what: string): AppError {
  if (error instanceof AppError) return error
  return new AppError(
    'CONSUMER_HANDLER_FAILED',
    `${what} threw: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  )
}

/**
 * Decodes a chunk's messages. Pure (the service's decoder aside), so the next chunk is decoded
 * while the previous one's script runs in Redis. A retriable decoder failure is thrown.
 */
export function chunkDecoder<T>(options: {
  decode: (bytes: Buffer) => T
  eventIdOf: (event: T) => string | undefined
  revisions: Revisions<T> | undefined
  /** The service's name: a copy `dlq redrive` sent for another service is passed over. */
  name?: string
}): (topic: string, partition: number, messages: KafkaMessage[]) => Item<T>[] {
  const { decode, eventIdOf, revisions, name } = options
  return (topic, partition, messages) =>
    messages.map((message, index) => {
      const info: Item<T>['info'] = {
        topic,
        partition,
        offset: message.offset,
        key: message.key === null ? null : message.key.toString('utf8'),
        timestamp: message.timestamp,
      }
      const item: Item<T> = { index, message, offset: message.offset, info, eventId: undefined }
      const redriven = name === undefined ? undefined : redrivenFor(message)
      if (redriven !== undefined && redriven !== name) {
        item.redrivenFor = redriven
        return item
      }
      try {
        const event = decode(message.value ?? EMPTY)
        item.event = event
        info.event = event
        item.eventId = eventIdOf(event)
        if (revisions !== undefined) item.revision = revisions.of(event)
      } catch (error) {
        const appError = asAppError(error, 'decode')
        if (appError.retriable) throw appError
        item.decodeError = appError
      }
      return item
    })
}

/**
 * Counts dead letters in a row from the service's running count, in offset order; `cut` is the
 * number of items up to and including the one that reaches the limit (all of them otherwise).
 */
export function countFailures<T>(
  items: readonly Item<T>[],
  before: number,
  limit: number,
): { cut: number; run: number } {
  let run = before
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!
    if (item.error !== undefined) {
      run++
      if (run >= limit) return { cut: i + 1, run }
    } else if (!item.duplicate) {
      run = 0
    }
  }
  return { cut: items.length, run }
}

/**
 * The events of a chunk to hand to the handlers when the service keeps no revisions: not at or
 * below the stored offset, not applied before by event_id, the first of an id in the chunk.
 */
export function freshEvents<T>(
  candidates: readonly Item<T>[],
  stored: number,
  knownIds: ReadonlySet<string>,
): Item<T>[] {
  const seen = new Set<string>()
  const fresh: Item<T>[] = []
  for (const item of candidates) {
    const id = item.eventId
    item.info.previous = undefined
    item.duplicate =
      Number(item.offset) <= stored || (id !== undefined && (knownIds.has(id) || seen.has(id)))
    if (id !== undefined) seen.add(id)
    if (!item.duplicate) fresh.push(item)
  }
  return fresh
}

/**
 * The same with revisions (README: Corrections): of an id's revisions in the chunk only the newest
 * counts; it is new when the id was never applied, a correction (with `previous`) when the stored
 * revision differs and is older, else a duplicate. Each fresh event carries the revision token
 * the script must find (`expect`) and the one it leaves (`token`).
 */
export function freshRevisions<T>(
  candidates: readonly Item<T>[],
  stored: number,
  knownIds: ReadonlySet<string>,
  tokens: ReadonlyMap<string, string>,
  summary: (event: T) => string,
): Item<T>[] {
  const newest = new Map<string, Item<T>>()
  for (const item of candidates) {
    const id = item.eventId
    if (id === undefined || Number(item.offset) <= stored) continue
    const other = newest.get(id)
    if (other === undefined || newerRevision(item, other)) newest.set(id, item)
  }
  const fresh: Item<T>[] = []
  for (const item of candidates) {
    const id = item.eventId
    item.info.previous = undefined
    item.expect = undefined
    item.token = undefined
    item.duplicate = Number(item.offset) <= stored
    if (!item.duplicate && id !== undefined) {
      const own = item.revision!
      if (newest.get(id) !== item) item.duplicate = true
      else if (knownIds.has(id)) {
        const previous = parseToken(tokens.get(id))
        if (previous === undefined || previous.revision === own.revision) item.duplicate = true
        else if (own.order <= previous.order) item.duplicate = true
        else {
          item.info.previous = previous
          item.expect = tokens.get(id)
        }
      } else item.expect = ''
      if (!item.duplicate) {
        item.token = `${own.order}|${own.revision}|${summary(item.event as T)}`
      }
    }
    if (!item.duplicate) fresh.push(item)
  }
  return fresh
}
