import { AppError } from '@wolkvox-chat-stream/errors'
import type { TokenLock } from '@wolkvox-chat-stream/token-lock'
import { dueRange, type Range, type WindowSettings } from '../window.js'
import type { ChatSource, EventFactory, EventSink, PollObserver, PublishedSet } from './ports.js'
import { pollRange, type PollStats } from './poll-range.js'

/** Where the watermark lives and how it comes back after Redis lost it. */
export interface WatermarkRecovery {
  /** The watermark of the last checkpoint on the checkpoint topic, or null when there is none. */
  fromCheckpoints(): Promise<number | null>
}

export interface PollOperationDeps {
  lock: TokenLock
  source: ChatSource
  toEvents: EventFactory
  sink: EventSink
  published: PublishedSet
  recovery: WatermarkRecovery
  observer?: PollObserver
  clock?: () => number
}

export interface PollOperationInput {
  server: string
  report: string
  settings: WindowSettings
  startMs: number
  lockWaitMs: number
  /** An explicit range (`once --from --to`); otherwise the next due range from the watermark. */
  range?: Range
  /** A graceful stop: no new piece starts, the one in flight finishes; a lock wait gives up. */
  stop?: AbortSignal
  /** Abandons the poll at once: the call in flight is aborted (its lease kept for the upstream). */
  abandon?: AbortSignal
}

/** The JSON line `once` prints. */
export interface PollSummary extends Omit<PollStats, 'requests'> {
  server: string
  window: { from: string; to: string } | null
  watermark: string | null
  recovered: boolean
  requests: number
  durationMs: number
  fence: number
  /** True when a graceful stop ended the poll before the whole range was done. */
  stopped: boolean
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/**
 * One poll of one operation, under its token lock held for the whole poll: read (or recover) the
 * watermark, work out the range, fetch, publish, checkpoint, advance the watermark.
 * @throws AppError `POLL_LOCK_BUSY` when the lock stays busy for `lockWaitMs`; the client's,
 *   Kafka's and Redis's errors as they come (the watermark then stays where the topic is whole).
 */
export async function pollOperation(
  deps: PollOperationDeps,
  input: PollOperationInput,
): Promise<PollSummary> {
  const clock = deps.clock ?? Date.now
  const started = clock()
  const watermarkName = `watermark.${input.report}`
  const result = await deps.lock.withLock(
    { waitMs: input.lockWaitMs, ...(input.stop ? { signal: input.stop } : {}) },
    async (_signal, fence, lease) => {
      if (input.abandon?.aborted || input.stop?.aborted) throw stopReason(input)
      const signal = input.abandon ? AbortSignal.any([lease.signal, input.abandon]) : lease.signal
      let recovered = false
      let stored = await lease.readState(watermarkName)
      if (stored === null) {
        // Redis holds nothing that Kafka cannot rebuild: a missing watermark comes back from the
        // checkpoint topic (a new operation simply has none there either).
        const fromTopic = await deps.recovery.fromCheckpoints()
        if (fromTopic !== null) {
          const write = await lease.fencedSet(watermarkName, String(fromTopic))
          if (!write.ok)
            throw new AppError(
              'POLL_WATERMARK_REJECTED',
              `Restoring the watermark was refused (${write.reason})`,
            )
          stored = String(fromTopic)
          recovered = true
        }
      }
      const watermarkMs = stored === null ? null : Number(stored)
      const range =
        input.range ??
        dueRange({ watermarkMs, startMs: input.startMs, nowMs: clock(), settings: input.settings })
      if (range === null) {
        return { stats: null, range: null, watermarkMs, recovered, fence, stopped: false }
      }
      const stats = await pollRange(
        {
          source: deps.source,
          toEvents: deps.toEvents,
          sink: deps.sink,
          published: deps.published,
          observer: deps.observer,
          clock,
        },
        {
          range,
          maxWindowMs: input.settings.maxWindowMs,
          watermarkMs,
          // An explicit range never starts a new operation's watermark: POLL_START does.
          mayAdvance: (_piece, current) => input.range === undefined || current !== null,
          ...(input.stop ? { stop: input.stop } : {}),
          lease: {
            signal,
            fence,
            deadline: () => lease.deadline(),
            keepAfterAbortedCall: () => lease.keepAfterAbortedCall(),
            advanceWatermark: async (toMs, expected) => {
              const write = await lease.fencedSet(
                watermarkName,
                String(toMs),
                expected === null ? undefined : String(expected),
              )
              return write.ok ? 'ok' : write.reason
            },
          },
        },
      )
      return {
        stats,
        range,
        watermarkMs: stats.watermarkMs,
        recovered,
        fence,
        stopped: stats.stopped,
      }
    },
  )
  if (result.status === 'busy') {
    throw new AppError(
      'POLL_LOCK_BUSY',
      `The token of operation ${input.server} stayed busy for ${result.waitMs} ms (${result.reason})`,
      {
        details: { server: input.server, reason: result.reason },
      },
    )
  }
  const { stats, range, watermarkMs, recovered, fence, stopped } = result.value
  return {
    server: input.server,
    window: range === null ? null : { from: iso(range.fromMs)!, to: iso(range.toMs)! },
    fetched: stats?.fetched ?? 0,
    published: stats?.published ?? 0,
    duplicates: stats?.duplicates ?? 0,
    deadLettered: stats?.deadLettered ?? 0,
    splits: stats?.splits ?? 0,
    requests: stats?.requests ?? 0,
    watermark: iso(watermarkMs),
    recovered,
    fence,
    durationMs: clock() - started,
    stopped,
  }
}

function stopReason(input: PollOperationInput): AppError {
  return new AppError('POLL_STOPPED', 'The poller is stopping; the window was not started', {
    retriable: true,
    details: { server: input.server },
  })
}
