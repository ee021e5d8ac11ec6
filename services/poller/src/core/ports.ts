import type { Range } from '../window.js'

/** One upstream answer for a range (the Wolkvox client behind it). */
export interface FetchResult {
  /** The chats as the upstream returned them (one item per conversation), those not streamed. */
  chats: readonly unknown[]
  /** The response reached the row cap or the size cap: it may be truncated, so split and ask again. */
  truncated: boolean
  /** Response size, for metrics. */
  bytes: number
}

/** The upstream, as the core sees it. */
export interface ChatSource {
  /**
   * Fetches one range. Must never start or continue a call past `deadline()` (asked again when
   * checked: a renewed lease moves it), and must abort on
   * `signal`. Throws an AppError with the Wolkvox code on failure.
   */
  fetch(
    range: Range,
    options: { signal: AbortSignal; deadline: () => number; stream?: ChatStream },
  ): Promise<FetchResult>
}

/**
 * Where a source that reads the response as it arrives hands its chats out, in order, in groups,
 * instead of in `chats`; it reads no further until `onChats` resolves. A failed attempt may have
 * handed out part of its chats; a retry awaits `onRetry`, then hands them out again from the first.
 */
export interface ChatStream {
  onChats(chats: readonly unknown[]): Promise<void>
  onRetry(): Promise<void>
}

/** What the published set remembers of an event: its identity and the revision of its values. */
export interface EventRevision {
  eventId: string
  /**
   * `revision` of the event (packages/events, `chatMessageRevision`): a hash of its upstream values
   * outside `event_id`. Another revision of a published id is published again.
   */
  revision: string
}

/** An event ready to publish. */
export interface OutgoingEvent extends EventRevision {
  key: string
  value: Buffer
}

/** A row that could not become an event, with its raw JSON. */
export interface DeadLetter {
  key: string
  value: Buffer
  reason: string
}

/** Turns the chats of one response into events and dead letters (packages/events behind it). */
export type EventFactory = (
  chats: readonly unknown[],
  context: { window: Range; polledAtMs: number },
) => { events: OutgoingEvent[]; deadLetters: DeadLetter[]; fetchedMessages: number }

/** What a finished window records on the checkpoint topic. */
export interface Checkpoint {
  watermarkMs: number
  window: Range
  fetched: number
  /** Revised events included: the v1 record has no field of its own for them. */
  published: number
  duplicates: number
  deadLettered: number
  splits: number
  /** The fencing token of the lease the window was published under. */
  fence: number
  atMs: number
}

/** Kafka, as the core sees it. Every method resolves only once Kafka acknowledged (acks=all). */
export interface EventSink {
  publish(events: readonly OutgoingEvent[], deadLetters: readonly DeadLetter[]): Promise<void>
  checkpoint(checkpoint: Checkpoint): Promise<void>
}

/**
 * Why an event is due: `new` (its id was never published) or `revised` (its id was published with
 * another revision, or with one not known: remembered by an earlier version of the poller).
 */
export type DueReason = 'new' | 'revised'

/**
 * Remembers which revision of each event was published, so that a re-read publishes nothing twice
 * and publishes again what the upstream changed since.
 */
export interface PublishedSet {
  /**
   * The events among `events` to publish, by id: those whose id was not published yet (`new`) and
   * those whose id was last published with another revision (`revised`). An event absent from the
   * answer was published with this very revision.
   */
  unpublished(events: readonly EventRevision[]): Promise<Map<string, DueReason>>
  /**
   * Records the events as published with their revisions (the latest one wins); called only after
   * Kafka acknowledged them.
   */
  add(events: readonly EventRevision[]): Promise<void>
  /**
   * Forgets every id of the operation: the log they were published to is gone (a new cluster, a
   * re-created topic), so a re-poll must publish them again.
   */
  clear(): Promise<void>
}

/** The operation's watermark: the last second (inclusive) known to be fully on the topic. */
export interface WatermarkStore {
  /** The watermark, recovered from the checkpoint topic when Redis lost it; null for a new operation. */
  read(): Promise<number | null>
}

/** The lease the whole poll runs under (packages/token-lock behind it). */
export interface PollLease {
  signal: AbortSignal
  fence: number
  deadline(): number
  keepAfterAbortedCall(): void
  /** Fenced compare-and-set of the watermark. */
  advanceWatermark(
    toMs: number,
    expected: number | null,
  ): Promise<'ok' | 'lease_lost' | 'conflict' | 'stale_fence'>
}

/** Observations for metrics and logs. */
export interface PollObserver {
  onRequest?(outcome: string, durationMs: number, bytes: number): void
  onSplit?(range: Range): void
  onPublished?(counts: {
    /** Every event acknowledged, `revised` ones included. */
    published: number
    /** Of `published`, the events whose id was published before with another revision. */
    revised: number
    duplicates: number
    deadLettered: number
    fetched: number
  }): void
  onWatermark?(watermarkMs: number): void
  /**
   * A piece of the range is wholly on the topic (its events acknowledged and remembered); awaited,
   * so it must not throw.
   */
  onPiece?(piece: Range): void | Promise<void>
}
