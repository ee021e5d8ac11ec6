import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Env } from '@wolkvox-chat-stream/config'
import type { TopicSpec } from '@wolkvox-chat-stream/events'
import type { Logger, MetricsRegistry } from '@wolkvox-chat-stream/observability'
import type { ConsumerServiceConfig } from './config.js'
import type { StateReader } from './state-reader.js'
import type { StateWriter } from './state-ops.js'
import type { ConsumerService } from './consumer-service.js'

/** Where a consumed message sits in its topic. */
export interface MessageInfo {
  readonly topic: string
  readonly partition: number
  readonly offset: string
  /** The record key as UTF-8 (`conn_id` on the chat message topic), or null. */
  readonly key: string | null
  /** The record timestamp (publish time), ms since the epoch, as a string. */
  readonly timestamp: string
}

/**
 * The revision of an event that was applied before, when a newer revision of the same event
 * arrives (see {@link ConsumerServiceOptions.revisions}): what the handler recorded about it.
 */
export interface PreviousRevision {
  revision: string
  /** The order the service gave it (for ChatMessage, `polled_at` in ms). */
  order: number
  /** What `revisions.summary` returned for it: what the handler needs to take it back. */
  summary: string
}

/** What `handle` gets besides the event. */
export interface EventContext extends MessageInfo {
  /** Set when the event is a newer revision of one applied before: take that one back. */
  readonly previous?: PreviousRevision
  /** Records the event's state changes; applied with the partition's offset after the batch. */
  readonly state: StateWriter
  readonly logger: Logger
}

/** One decoded event and where it came from, as `handleBatch` gets it. */
export interface Delivered<T> extends MessageInfo {
  readonly event: T
  /** Set when the event is a newer revision of one applied before: take that one back. */
  readonly previous?: PreviousRevision
}

/**
 * How a service tells revisions of one event apart (README: Corrections). Without it, an event
 * whose id was applied is a duplicate whatever it holds.
 */
export interface RevisionOptions<T> {
  /**
   * The event's revision (a hash of what may change) and its order (newer is larger); a revision
   * of '' is unknown: such an event is never a correction.
   */
  of(event: T): { revision: string; order: number }
  /**
   * What the handler needs later to take this event's contribution back, stored per event_id for
   * `CONSUMER_EVENT_ID_TTL` (keep it short; no message text).
   */
  summary(event: T): string
}

/** What `handleBatch` gets besides the events. */
export interface BatchContext {
  readonly topic: string
  readonly partition: number
  /** Records the batch's state changes; applied all together, with the partition's offset. */
  readonly state: StateWriter
  readonly logger: Logger
}

/** Handed to a service's own HTTP routes. */
export interface RouteContext {
  /** Merged reads of the service's state (see README: cross-partition state). */
  readonly state: StateReader
  readonly logger: Logger
}

/** A service's own HTTP route: answers and returns true, or returns false for a 404. */
export type ServiceRoute = (
  req: IncomingMessage,
  res: ServerResponse,
  kit: RouteContext,
) => boolean | Promise<boolean>

/**
 * Points where a service may act after its state is stored (publish what changed) and where fault
 * tests kill a process. A hook that throws a retriable AppError is called again after a pause;
 * anything else stops the service (the chunk's offset is then not committed).
 */
export interface ConsumerHooks {
  /**
   * After a chunk's state (and its offset) is stored in Redis, before the offset is resolved for
   * the Kafka commit: a process killed here must change nothing when it is redelivered, so what a
   * hook publishes must be idempotent (an upsert of the current value, not a delta).
   */
  afterStateStored?: (info: {
    partition: number
    lastOffset: string
    applied: number
  }) => void | Promise<void>
}

/**
 * Options of {@link createConsumerService}. Give `handle` (one event at a time), `handleBatch`
 * (the fresh events of a chunk together), or both (`handle` first). Handlers only record state
 * changes through `ctx.state`; they never commit offsets, trap signals or write to Redis directly.
 * A handler that throws a retriable AppError is retried after a pause; anything else sends the
 * event to `wolkvox.<name>.dlq`. Throw `AppError('CONSUMER_EVENT_REJECTED', why)` to refuse an
 * event that breaks the service's invariant.
 */
export interface ConsumerServiceOptions<T> {
  /**
   * The consumer group, the dead-letter topic `wolkvox.<name>.dlq`, the hash tag of the service's
   * Redis keys, the logger name and the `service` metric label. Lower case, a letter first.
   */
  name: string
  /**
   * The topic to consume. A topic spec (`topics.chatMessage`) is also provisioned (created, or
   * verified with `KAFKA_CREATE_TOPICS=false`); a bare name must exist. `CONSUMER_INPUT_TOPIC`
   * overrides it (then it is not provisioned).
   */
  input: string | TopicSpec
  /**
   * Bytes to event; a thrown AppError (non-retriable) sends the message to the dead-letter topic.
   * Default: `decodeChatMessage` (any shipped ChatMessage version).
   */
  decode?: (bytes: Buffer) => T
  /** The event's de-duplication id. Default: its `event_id` field when it is a string. */
  eventId?: (event: T) => string | undefined
  /**
   * Corrections: an event whose id was applied before arrives with a newer revision; the handler
   * gets it with `previous` and records the move from the old revision to the new one. A replay of
   * the revisions in any order ends as the newest alone. Without this option such an event is a
   * duplicate.
   */
  revisions?: RevisionOptions<T>
  handle?: (event: T, ctx: EventContext) => void | Promise<void>
  handleBatch?: (events: readonly Delivered<T>[], ctx: BatchContext) => void | Promise<void>
  /**
   * Lua functions `ctx.state.lua(name, keys, args)` may call, run inside the apply script: name to
   * body. A body sees its own `KEYS` and `ARGV`, opens with a header documenting them, and checks
   * before it writes.
   */
  scripts?: Readonly<Record<string, string>>
  /** The service's own HTTP routes, next to `/healthz`, `/readyz` and `/metrics`. */
  routes?: ServiceRoute
  /** The port when `HTTP_PORT` is unset. Default 8090. */
  httpPort?: number
  /**
   * Whether the service serves HTTP. Default true; false for a companion (see
   * {@link ConsumerServiceOptions.companions}), whose host serves its health and metrics.
   */
  http?: boolean
  /**
   * Consumer services run inside this one's process (created with `http: false`), e.g. a second
   * input topic the service joins at query time. They start before it consumes and stop after it;
   * `/readyz` answers ready only when every one is ready; `/metrics` renders their registries too
   * (each with its own `service` label); one failing stops this service with its error.
   */
  companions?: readonly ConsumerService[]
  /**
   * Partitions processed at once when `CONSUMER_PARTITIONS_CONCURRENTLY` is unset. Default 1; two
   * suit a service whose chunks take long in Redis (one is handled while the other's script runs).
   */
  partitionsConcurrently?: number
  /** Default `process.env`. */
  env?: Env
  /** Overrides of the values read from the environment (tests, tools). */
  config?: Partial<ConsumerServiceConfig>
  /** Default: a JSON logger named after the service at `LOG_LEVEL`. */
  logger?: Logger
  /** Default: a fresh registry with the default label `service=<name>`. */
  metrics?: MetricsRegistry
  /** Events per apply script; a bigger batch is applied in chunks. Default 1000. */
  maxEventsPerScript?: number
  hooks?: ConsumerHooks
}
