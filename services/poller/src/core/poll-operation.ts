import { AppError } from '@wolkvox-chat-stream/errors'
import type { Lease, TokenLock } from '@wolkvox-chat-stream/token-lock'
import { dueRange, type Range, type WindowSettings } from '../window.js'
import type { ChatSource, EventFactory, EventSink, PollObserver, PublishedSet } from './ports.js'
import { pollRange, type PollStats } from './poll-range.js'

/** Where the watermark lives and how it comes back after Redis lost it. */
export interface WatermarkRecovery {
  /** The watermark of the last checkpoint on the checkpoint topic, or null when there is none. */
  fromCheckpoints(): Promise<number | null>
}

/** Why the checkpoint topic does not back the watermark in Redis. */
export interface CheckpointMismatch {
  /** The watermark in Redis that the topic does not back. */
  watermarkMs: number
  /** The newest watermark among the operation's checkpoints on the topic; null when none. */
  topicWatermarkMs: number | null
  /** The id of the Kafka cluster the poller writes to, when known. */
  cluster: string | null
  /**
   * `missing`: no checkpoint of the operation on the topic; `older`: only checkpoints below the
   * watermark; `log-replaced`: a checkpoint just written landed in another log than the previous
   * one (the topic or cluster was replaced during the poll).
   */
  reason: 'missing' | 'older' | 'log-replaced'
  /** When the refusal was first recorded. */
  sinceMs: number
}

/**
 * The watermark bound to the Kafka log it describes: the watermark says "everything up to here is
 * on the topic", which holds only while the checkpoint topic the poller writes to holds a
 * checkpoint of the operation at or after it (adapters/checkpoint-log.ts).
 */
export interface CheckpointBinding {
  /**
   * Null when the checkpoint topic backs `watermarkMs`; otherwise the refusal, recorded (and kept
   * until {@link CheckpointBinding.resolved}) so every later poll refuses too.
   * @throws the Kafka or Redis error that kept it from deciding (retriable; nothing is decided).
   */
  verify(watermarkMs: number): Promise<CheckpointMismatch | null>
  /** Forgets where the last checkpoint landed: the next one starts a new log. */
  forget(): Promise<void>
  /** Ends a refusal once the operation is bound to the log again (a rebind or a re-poll). */
  resolved(): Promise<void>
}

export interface PollOperationDeps {
  lock: TokenLock
  source: ChatSource
  toEvents: EventFactory
  sink: EventSink
  published: PublishedSet
  recovery: WatermarkRecovery
  /** Without it the watermark is trusted as it is (tests of the core). */
  binding?: CheckpointBinding
  observer?: PollObserver
  clock?: () => number
}

export interface PollOperationInput {
  server: string
  report: string
  settings: WindowSettings
  startMs: number
  lockWaitMs: number
  /**
   * An explicit range (`once --from --to`); otherwise the next due range from the watermark. It
   * must end by now less the settle lag: the upstream cannot answer later seconds yet.
   */
  range?: Range
  /** When the checkpoint topic does not back the watermark: refuse (default) or re-poll from `startMs`. */
  onCheckpointMissing?: 'stop' | 'repoll'
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
  /** True when the checkpoint topic did not back the watermark and the operation re-polled from `POLL_START`. */
  repolled: boolean
  requests: number
  durationMs: number
  fence: number
  /** True when a graceful stop ended the poll before the whole range was done. */
  stopped: boolean
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/**
 * One poll of one operation, under its token lock held for the whole poll: read (or recover) the
 * watermark, check that the checkpoint topic backs it, work out the range, fetch, publish,
 * checkpoint, advance the watermark.
 * @throws AppError `POLL_RANGE_NOT_SETTLED` when an explicit range ends after now less the settle
 *   lag; `POLL_LOCK_BUSY` when the lock stays busy for `lockWaitMs`; `POLL_CHECKPOINT_MISSING`
 *   when the checkpoint topic does not back the watermark (unless `onCheckpointMissing` is
 *   `repoll`); the client's, Kafka's and Redis's errors as they come (the watermark then stays
 *   where the topic is whole).
 */
export async function pollOperation(
  deps: PollOperationDeps,
  input: PollOperationInput,
): Promise<PollSummary> {
  const clock = deps.clock ?? Date.now
  const started = clock()
  const watermarkName = `watermark.${input.report}`
  if (input.range) {
    // The watermark claims "the upstream has nothing more up to here": never for seconds it
    // cannot answer yet, or the next poll would start in the future and skip them.
    const latestMs = latestSettledMs(clock(), input.settings.settleLagMs)
    if (input.range.toMs > latestMs) {
      throw new AppError(
        'POLL_RANGE_NOT_SETTLED',
        `The range ends at ${iso(input.range.toMs)}, after now less POLL_SETTLE_LAG (${iso(latestMs)}): the upstream cannot answer it yet; end it by ${iso(latestMs)} (the live schedule polls the rest)`,
        { details: { server: input.server, toMs: input.range.toMs, latestMs } },
      )
    }
  }
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
      let watermarkMs = stored === null ? null : Number(stored)
      let repolled = false
      // A recovered watermark was just read from the topic: it is bound by construction.
      if (!recovered && watermarkMs !== null && deps.binding) {
        const mismatch = await deps.binding.verify(watermarkMs)
        if (mismatch !== null) {
          if (input.onCheckpointMissing !== 'repoll')
            throw checkpointMissing(input.server, mismatch, input.startMs)
          // The log lost what the watermark claims: start again as a new operation would.
          watermarkMs = input.startMs - 1000
          await bindWatermark(deps, lease, watermarkName, watermarkMs, clock)
          repolled = true
        }
      }
      const range =
        input.range ??
        dueRange({
          watermarkMs: repolled ? null : watermarkMs,
          startMs: input.startMs,
          nowMs: clock(),
          settings: input.settings,
        })
      if (range === null) {
        return { stats: null, range: null, watermarkMs, recovered, repolled, fence, stopped: false }
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
        repolled,
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
  const { stats, range, watermarkMs, recovered, repolled, fence, stopped } = result.value
  return {
    server: input.server,
    window: range === null ? null : { from: iso(range.fromMs)!, to: iso(range.toMs)! },
    fetched: stats?.fetched ?? 0,
    published: stats?.published ?? 0,
    revised: stats?.revised ?? 0,
    duplicates: stats?.duplicates ?? 0,
    deadLettered: stats?.deadLettered ?? 0,
    splits: stats?.splits ?? 0,
    requests: stats?.requests ?? 0,
    watermark: iso(watermarkMs),
    recovered,
    repolled,
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

/** The last second an explicit range may end at: now less the settle lag, whole seconds. */
export function latestSettledMs(nowMs: number, settleLagMs: number): number {
  return Math.floor(nowMs / 1000) * 1000 - Math.floor(settleLagMs / 1000) * 1000
}

/** The commands that resolve `POLL_CHECKPOINT_MISSING` for `server`, as the error and `status` print them. */
export function checkpointMissingCommands(server: string, startMs: number): string[] {
  return [
    `npm run poller -- rebind --server ${server} --from ${iso(startMs)}`,
    `npm run poller -- rebind --server ${server}`,
  ]
}

function checkpointMissing(server: string, m: CheckpointMismatch, startMs: number): AppError {
  const [repoll, accept] = checkpointMissingCommands(server, startMs)
  const found =
    m.reason === 'log-replaced'
      ? 'a checkpoint just written landed in another log than the previous one (the topic or the cluster was replaced)'
      : m.topicWatermarkMs === null
        ? 'no checkpoint of the operation'
        : `only checkpoints up to ${iso(m.topicWatermarkMs)}`
  return new AppError(
    'POLL_CHECKPOINT_MISSING',
    `Operation ${server}: the watermark ${iso(m.watermarkMs)} is not backed by the checkpoint topic wolkvox.poller.checkpoint.v1${m.cluster === null ? '' : ` of cluster ${m.cluster}`} (${found}), so messages up to it may be missing from this Kafka log; polling is stopped. Re-poll from a time (any time; POLL_START shown) with \`${repoll}\`, or accept this log as starting at the watermark with \`${accept}\`. Or set POLL_ON_CHECKPOINT_MISSING=repoll.`,
    {
      details: {
        server,
        reason: m.reason,
        watermarkMs: m.watermarkMs,
        topicWatermarkMs: m.topicWatermarkMs,
        cluster: m.cluster,
      },
    },
  )
}

/** The parts of a lease a rebind uses. */
type BindLease = Pick<Lease, 'fence' | 'fencedSet'>

/**
 * Binds the operation to the log it now writes to at `watermarkMs`: forgets the published set
 * (its ids were published to the old log, so a re-poll must publish them again), writes a
 * checkpoint at `watermarkMs` to the checkpoint topic, sets the watermark (fenced, not
 * compare-and-set: it may move back), and ends a refusal. Each step may be repeated after a crash.
 */
async function bindWatermark(
  deps: Pick<PollOperationDeps, 'sink' | 'published' | 'binding'>,
  lease: BindLease,
  watermarkName: string,
  watermarkMs: number,
  clock: () => number,
): Promise<void> {
  await deps.published.clear()
  await deps.binding?.forget()
  await deps.sink.checkpoint({
    watermarkMs,
    window: { fromMs: watermarkMs, toMs: watermarkMs },
    fetched: 0,
    published: 0,
    duplicates: 0,
    deadLettered: 0,
    splits: 0,
    fence: lease.fence,
    atMs: clock(),
  })
  const write = await lease.fencedSet(watermarkName, String(watermarkMs))
  if (!write.ok)
    throw new AppError(
      'POLL_WATERMARK_REJECTED',
      `Setting the watermark was refused (${write.reason})`,
      { retriable: true, details: { reason: write.reason } },
    )
  await deps.binding?.resolved()
}

/** What `rebind` prints. */
export interface RebindSummary {
  server: string
  /** The watermark before, and the one the operation is now bound at. */
  previous: string | null
  watermark: string
  fence: number
}

/**
 * `rebind`: binds an operation to the Kafka log it now writes to, under its token lock. With
 * `fromMs`, the watermark moves to the second before it, so the next poll re-polls from there (less
 * `POLL_LOOKBACK`); without, the log is accepted as holding everything up to the current watermark.
 * Either way the published set is forgotten, a checkpoint at the new watermark is written, and a
 * `POLL_CHECKPOINT_MISSING` refusal ends.
 * @throws AppError `CONFIG_INVALID` (no watermark and no `fromMs`), `POLL_LOCK_BUSY`, and Kafka's
 *   and Redis's errors.
 */
export async function rebindOperation(
  deps: Pick<PollOperationDeps, 'lock' | 'sink' | 'published' | 'binding' | 'clock'>,
  input: { server: string; report: string; lockWaitMs: number; fromMs?: number },
): Promise<RebindSummary> {
  const clock = deps.clock ?? Date.now
  const watermarkName = `watermark.${input.report}`
  const result = await deps.lock.withLock(
    { waitMs: input.lockWaitMs },
    async (_s, fence, lease) => {
      const stored = await lease.readState(watermarkName)
      const previous = stored === null ? null : Number(stored)
      const target =
        input.fromMs === undefined ? previous : Math.floor(input.fromMs / 1000) * 1000 - 1000
      if (target === null) {
        throw new AppError(
          'CONFIG_INVALID',
          `Operation ${input.server} has no watermark: there is nothing to accept (its first poll starts at POLL_START); give --from T to start it at T`,
        )
      }
      await bindWatermark(deps, lease, watermarkName, target, clock)
      return { previous, target, fence }
    },
  )
  if (result.status === 'busy') {
    throw new AppError(
      'POLL_LOCK_BUSY',
      `The token of operation ${input.server} stayed busy for ${result.waitMs} ms (${result.reason})`,
      { details: { server: input.server, reason: result.reason } },
    )
  }
  return {
    server: input.server,
    previous: iso(result.value.previous),
    watermark: iso(result.value.target)!,
    fence: result.value.fence,
  }
}
