import { AppError, isAppError, isRetriable } from '@wolkvox-chat-stream/errors'
import { createBackfillStore, type BackfillState } from './backfill-store.js'
import type { OperationConfig } from './config.js'
import { estimateEtaMs, type BackfillProgress } from './progress.js'
import type { PollerRuntime } from './runtime.js'
import { splitRange, type Range } from './window.js'

/** What a finished (or already finished) backfill reports. */
export interface BackfillResult {
  id: string
  server: string
  from: string
  to: string
  windowsTotal: number
  windowsDone: number
  published: number
  fetched: number
  /** True when an earlier run had done part of it. */
  resumed: boolean
  /** True when it was already done: nothing was fetched. */
  alreadyDone: boolean
  durationMs: number
}

/** Sleeps `ms`, waking early (without throwing) when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

const MIN_TRIES = 5

/**
 * Polls `range` of an operation window by window (each at most `windowMs`) through the same token
 * lock as the live schedule, without moving the watermark of an operation that has none. Each
 * finished window is recorded in the backfill's own checkpoint in Redis, so running the same
 * command again after a kill resumes at the first unfinished window (a window cut off half-way
 * is polled again; its published events are skipped as duplicates).
 *
 * It yields to the live schedule: it waits while a live poll wants the token, waits only
 * `backfill.lockWaitMs` for the lock (then backs off and tries again), pauses
 * `backfill.pauseMs` between windows, and never uses the daily calls kept for live polls.
 *
 * @throws AppError `POLL_BACKFILL_RUNNING` (another process runs it), `POLL_STOPPED` (SIGTERM or
 *   SIGINT: resumable), `POLL_QUOTA_RESERVE_REACHED` (resumable tomorrow), or the error of a window
 *   that failed `max(5, POLL_STUCK_AFTER)` times in a row or cannot succeed by retrying.
 */
export async function runBackfill(input: {
  runtime: PollerRuntime
  operation: OperationConfig
  range: Range
  windowMs: number
  restart?: boolean
  stop: AbortSignal
  abandon?: AbortSignal
  onWindow: (progress: BackfillProgress) => void
  now?: () => number
}): Promise<BackfillResult> {
  const { runtime, operation, range, windowMs, stop } = input
  const { config, logger, metrics } = runtime
  const now = input.now ?? Date.now
  const server = operation.server
  const { store: opStore } = runtime.handle(operation)
  const store = createBackfillStore(runtime.redis, server, range)
  const started = now()
  if (input.restart) await store.forget()
  const existing = await store.read()
  const windows = splitRange(range, windowMs)
  const windowsTotal = windows.length
  const result = (windowsDone: number, published: number, fetched: number): BackfillResult => ({
    id: store.id,
    server,
    from: new Date(range.fromMs).toISOString(),
    to: new Date(range.toMs).toISOString(),
    windowsTotal,
    windowsDone,
    published,
    fetched,
    resumed: existing !== null,
    alreadyDone: existing?.state === 'done',
    durationMs: now() - started,
  })
  if (existing?.state === 'done') return result(windowsTotal, existing.published, existing.fetched)
  if (!(await store.claim())) {
    throw new AppError(
      'POLL_BACKFILL_RUNNING',
      `A backfill of ${server} from ${new Date(range.fromMs).toISOString()} to ${new Date(range.toMs).toISOString()} is already running`,
      { details: { server, id: store.id } },
    )
  }
  try {
    await store.begin(range, windowMs, now())
    let next = (await store.nextMs()) ?? range.fromMs
    let windowsDone =
      next > range.fromMs
        ? splitRange({ fromMs: range.fromMs, toMs: next - 1000 }, windowMs).length
        : 0
    let published = existing?.published ?? 0
    let fetched = existing?.fetched ?? 0
    let failures = 0
    let doneThisRun = 0
    const runStarted = now()
    const save = (state: BackfillState, error?: unknown): Promise<void> =>
      store.save(
        {
          nextMs: next > range.toMs ? null : next,
          windowsDone,
          windowsTotal,
          published,
          fetched,
          state,
          failures,
          error:
            error === undefined
              ? null
              : {
                  code: isAppError(error) ? error.code : 'UNEXPECTED',
                  message: error instanceof Error ? error.message : 'non-Error thrown',
                },
        },
        now(),
      )
    const stopped = async (): Promise<never> => {
      await save('stopped')
      throw new AppError(
        'POLL_STOPPED',
        `The backfill stopped after ${windowsDone} of ${windowsTotal} windows; run the same command to resume`,
        { details: { server, id: store.id } },
      )
    }

    while (next <= range.toMs) {
      if (stop.aborted) await stopped()
      // The live schedule first: a live poll waiting for the token gets it before the next window.
      while (!stop.aborted && (await opStore.isTokenWanted())) await pause(100, stop)
      if (stop.aborted) await stopped()
      // The windows windowsTotal counts: splitRange folds a short last piece into the one before.
      const planned = windows.find((w) => w.toMs >= next)!
      const window = { fromMs: next, toMs: planned.toMs }
      try {
        const summary = await runtime.poll(operation, window, {
          purpose: 'backfill',
          lockWaitMs: config.backfill.lockWaitMs,
          stop,
          ...(input.abandon ? { abandon: input.abandon } : {}),
        })
        if (summary.stopped) await stopped()
        next = window.toMs + 1000
        windowsDone++
        doneThisRun++
        failures = 0
        published += summary.published
        fetched += summary.fetched
        await save(next > range.toMs ? 'done' : 'running')
        metrics.backfillWindows.inc({ server })
        input.onWindow({
          server,
          window,
          windowsDone,
          windowsTotal,
          published,
          fetched,
          etaMs: estimateEtaMs({
            doneThisRun,
            elapsedMs: now() - runStarted,
            remaining: windowsTotal - windowsDone,
          }),
        })
      } catch (error) {
        const code = isAppError(error) ? error.code : 'UNEXPECTED'
        if (code === 'POLL_LOCK_BUSY') {
          // Contention is not a failure: someone (the live schedule, most likely) has the token.
          await pause(config.backfill.pauseMs, stop)
          continue
        }
        if (code === 'POLL_STOPPED') await stopped()
        if (code === 'POLL_QUOTA_RESERVE_REACHED' || code === 'POLL_QUOTA_BUDGET_EXHAUSTED') {
          await save('stopped', error)
          throw error
        }
        failures++
        const tries = Math.max(MIN_TRIES, config.stuckAfter)
        if (!isRetriable(error) || failures >= tries) {
          await save('failed', error)
          throw error
        }
        await save('running', error)
        logger.warn('backfill window failed; trying again', {
          server,
          code,
          failures,
          window: {
            from: new Date(window.fromMs).toISOString(),
            to: new Date(window.toMs).toISOString(),
          },
        })
        await pause(Math.min(30_000, 500 * 2 ** failures), stop)
        continue
      }
      // Between two windows the token is free for a moment, longer than a live poll's backoff.
      await pause(config.backfill.pauseMs, stop)
    }
    return result(windowsDone, published, fetched)
  } finally {
    await store.release().catch(() => undefined)
  }
}
