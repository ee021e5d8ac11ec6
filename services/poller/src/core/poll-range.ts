import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import { halve, splitRange, type Range } from '../window.js'
import type {
  ChatSource,
  ChatStream,
  EventFactory,
  EventSink,
  PollLease,
  PollObserver,
  PublishedSet,
} from './ports.js'

/** Totals of one poll (the JSON line `once` prints). */
export interface PollStats {
  fetched: number
  /** Events acknowledged by Kafka, `revised` ones included. */
  published: number
  /** Of `published`: events published again because their revision changed since. */
  revised: number
  /** Events skipped: published before with the same revision. */
  duplicates: number
  deadLettered: number
  splits: number
  requests: number
}

export interface PollRangeDeps {
  source: ChatSource
  toEvents: EventFactory
  sink: EventSink
  published: PublishedSet
  observer?: PollObserver
  clock?: () => number
}

export const emptyStats = (): PollStats => ({
  fetched: 0,
  published: 0,
  revised: 0,
  duplicates: 0,
  deadLettered: 0,
  splits: 0,
  requests: 0,
})

function add(into: PollStats, from: PollStats): void {
  for (const key of Object.keys(into) as (keyof PollStats)[]) into[key] += from[key]
}

/**
 * Polls a range under a lease: piece by piece (each at most `maxWindowMs`), each piece fetched,
 * split in half while the upstream may have truncated it, published with acks, checkpointed, and
 * only then the watermark moved forward by a fenced compare-and-set. A failure stops the poll with
 * the watermark at the last piece that is wholly on the topic, so the rest is polled again.
 */
export async function pollRange(
  deps: PollRangeDeps,
  input: {
    range: Range
    maxWindowMs: number
    lease: PollLease
    watermarkMs: number | null
    /**
     * Whether the watermark may move to the end of `piece`. By default only when the piece leaves
     * no gap after the watermark (an explicit range far ahead must not skip what lies between).
     */
    mayAdvance?: (piece: Range, watermarkMs: number | null) => boolean
    /** Once aborted, no further piece starts (the one in flight finishes): a graceful stop. */
    stop?: AbortSignal
  },
): Promise<PollStats & { watermarkMs: number | null; stopped: boolean }> {
  const clock = deps.clock ?? Date.now
  const total = emptyStats()
  let watermark = input.watermarkMs
  for (const piece of splitRange(input.range, input.maxWindowMs)) {
    if (input.stop?.aborted) return { ...total, watermarkMs: watermark, stopped: true }
    const stats = emptyStats()
    await pollPiece(deps, piece, input.lease, stats, clock)
    add(total, stats)
    await deps.observer?.onPiece?.(piece)
    // Only a window wholly on the topic moves the watermark, never backwards and never over a gap.
    if (watermark !== null && piece.toMs <= watermark) continue
    const contiguous = watermark === null || piece.fromMs <= watermark + 1000
    if (!(input.mayAdvance ?? (() => contiguous))(piece, watermark) || !contiguous) continue
    const checkpoint = {
      watermarkMs: piece.toMs,
      window: piece,
      ...stats,
      fence: input.lease.fence,
      atMs: clock(),
    }
    await deps.sink.checkpoint(checkpoint)
    const outcome = await input.lease.advanceWatermark(piece.toMs, watermark)
    if (outcome !== 'ok') {
      throw new AppError(
        'POLL_WATERMARK_REJECTED',
        `The watermark write was refused (${outcome}); the window will be polled again`,
        {
          retriable: true,
          details: { outcome },
        },
      )
    }
    watermark = piece.toMs
    deps.observer?.onWatermark?.(piece.toMs)
  }
  return { ...total, watermarkMs: watermark, stopped: false }
}

async function pollPiece(
  deps: PollRangeDeps,
  range: Range,
  lease: PollLease,
  stats: PollStats,
  clock: () => number,
): Promise<void> {
  if (lease.signal.aborted) throw lease.signal.reason
  const started = clock()
  stats.requests++
  const publisher = chunkPublisher(deps, range, lease, stats)
  const stream: ChatStream = {
    onChats: (chats) => publisher.add(chats, clock()),
    // A retry hands the same chats out again: the published set must know the first ones by then.
    onRetry: () => publisher.settle(),
  }
  let result
  try {
    result = await deps.source.fetch(range, {
      signal: lease.signal,
      deadline: () => lease.deadline(),
      stream,
    })
  } catch (error) {
    // What was streamed before the failure is acknowledged (or failed) before the window fails.
    await publisher.settle().catch(() => undefined)
    deps.observer?.onRequest?.(isAppError(error) ? error.code : 'UNKNOWN', clock() - started, 0)
    // A call cut off on our side may still run upstream: keep the token busy until it must be done.
    if (
      lease.signal.aborted ||
      (isAppError(error) && ['WOLKVOX_TIMEOUT', 'WOLKVOX_ABORTED'].includes(error.code))
    ) {
      lease.keepAfterAbortedCall()
    }
    // Cut off because the lease ended: say so (LOCK_LEASE_LOST), not just "aborted by the caller".
    const leaseEnded = lease.signal.aborted && isAppError(lease.signal.reason)
    if (leaseEnded && isAppError(error) && error.code === 'WOLKVOX_ABORTED')
      throw lease.signal.reason
    throw error
  }
  deps.observer?.onRequest?.('ok', clock() - started, result.bytes)
  if (result.truncated) {
    // Chats streamed before the cap are real: published, and duplicates when the halves read them.
    await publisher.settle()
    const halves = halve(range)
    if (!halves) {
      throw new AppError(
        'POLL_WINDOW_UNSPLITTABLE',
        'A one-second window still hits the upstream cap; it cannot be split further',
        {
          retriable: false,
          details: { fromMs: range.fromMs },
        },
      )
    }
    stats.splits++
    deps.observer?.onSplit?.(range)
    for (const half of halves) await pollPiece(deps, half, lease, stats, clock)
    return
  }
  if (result.chats.length > 0) await publisher.add(result.chats, clock())
  await publisher.settle()
}

/**
 * Publishes the chats of one response chunk by chunk, as they come: each chunk is built, encoded
 * and looked up in the published set while the previous chunk is on its way to Kafka. Sends stay
 * strictly in order (one in flight, so per-key order holds), but the CPU work and the lookup of the
 * next chunk overlap the wait for the last one's acknowledgements. Recording a chunk as published
 * (after its acks) runs beside the next send; `settle` resolves once every record is written.
 */
function chunkPublisher(
  deps: PollRangeDeps,
  range: Range,
  lease: PollLease,
  stats: PollStats,
): { add(chats: readonly unknown[], polledAtMs: number): Promise<void>; settle(): Promise<void> } {
  let sending: Promise<void> = Promise.resolve()
  const recording: Promise<void>[] = []
  let failed: Error | undefined
  let chunks = 0
  const fail = (error: unknown): void => {
    failed ??= error instanceof Error ? error : new Error(String(error))
  }
  const add = async (chats: readonly unknown[], polledAtMs: number): Promise<void> => {
    for (let start = 0; start < chats.length;) {
      let end = start
      let messages = 0
      // A small first chunk: Kafka starts sending sooner.
      const size = chunks++ === 0 ? FIRST_CHUNK_MESSAGES : CHUNK_MESSAGES
      while (end < chats.length && (messages < size || end === start)) {
        const conversation = (chats[end] as { conversation?: unknown } | null)?.conversation
        messages += Array.isArray(conversation) ? conversation.length : 1
        end++
      }
      const built = deps.toEvents(
        start === 0 && end === chats.length ? chats : chats.slice(start, end),
        { window: range, polledAtMs },
      )
      start = end
      stats.fetched += built.fetchedMessages
      const lookup = deps.published.unpublished(built.events)
      // Awaited below, after the previous send: no unhandled rejection meanwhile.
      lookup.catch(() => undefined)
      await sending
      if (failed !== undefined) throw failed
      const due = await lookup
      // The same message can appear twice in one response only as a distinct occurrence (its own
      // id). A re-read publishes an event again when its revision changed: same key, same event_id,
      // a new revision and polled_at, so per-key order puts it after the revision it replaces.
      const events = built.events.filter((e) => due.has(e.eventId))
      let revised = 0
      for (const e of events) if (due.get(e.eventId) === 'revised') revised++
      stats.duplicates += built.events.length - events.length
      if (lease.signal.aborted) throw lease.signal.reason
      sending = deps.sink.publish(events, built.deadLetters).then(() => {
        // Written only after Kafka acknowledged: a crash before this re-publishes, never loses.
        const record = deps.published
          .add(events)
          .then(() => {
            stats.published += events.length
            stats.revised += revised
            stats.deadLettered += built.deadLetters.length
            deps.observer?.onPublished?.({
              published: events.length,
              revised,
              duplicates: built.events.length - events.length,
              deadLettered: built.deadLetters.length,
              fetched: built.fetchedMessages,
            })
          })
          .catch(fail)
        recording.push(record)
      }, fail)
    }
  }
  const settle = async (): Promise<void> => {
    await sending
    await Promise.all(recording)
    if (failed !== undefined) throw failed
  }
  return { add, settle }
}

/** Messages of the first chunk of a response. */
const FIRST_CHUNK_MESSAGES = 1_000
/** Messages per chunk built while the previous chunk is being sent. */
const CHUNK_MESSAGES = 5_000
