import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import type { DueJob, Schedule, SchedulerSpec } from './adapters/bullmq-schedule.js'
import type { OperationConfig } from './config.js'
import { readBindingState } from './adapters/checkpoint-log.js'
import { latestSettledMs, type PollSummary } from './core/poll-operation.js'
import type { PollerRuntime } from './runtime.js'
import { readStatusPage, type StatusPage, type StatusQuery } from './status.js'

/** The `run` command: the schedule, its worker, the sweep, and a graceful stop. */
export interface PollerService {
  /** Creates (or checks) the schedulers and starts working on jobs. */
  start(): Promise<void>
  /**
   * Stops: no new job, the window in flight finishes (or is abandoned after
   * `POLL_SHUTDOWN_TIMEOUT`), then the worker and queue close. The runtime is left to the caller.
   */
  stop(): Promise<void>
  /** Whether the service takes jobs (for `/readyz`). */
  ready(): boolean
  /**
   * `GET /status`: the whole fleet's summary and one page of full statuses (worst first, filtered
   * by `query.server` and `query.states`); null when `query.server` is not configured here.
   */
  status(query?: StatusQuery): Promise<StatusPage | null>
}

const floorSecond = (ms: number): number => Math.floor(ms / 1000) * 1000

/**
 * Builds the `run` service over a runtime and a schedule. Each operation has a `poll` scheduler
 * every `POLL_INTERVAL` and, unless `POLL_SWEEP_INTERVAL` is 0, a `sweep` scheduler. A tick
 * (every interval, at most every 30 s) re-creates missing schedulers, so they come back after
 * Redis lost its data; the watermarks come back from the checkpoint topic on the next poll.
 */
export function createPollerService(input: {
  runtime: PollerRuntime
  schedule: Schedule
  now?: () => number
}): PollerService {
  const { runtime, schedule } = input
  const { config, logger, metrics } = runtime
  const now = input.now ?? Date.now
  const byServer = new Map(config.operations.map((o) => [o.server, o]))
  const stopController = new AbortController()
  const abandonController = new AbortController()
  let tick: NodeJS.Timeout | undefined
  let started = false
  let stopping: Promise<void> | undefined
  const inFlight = new Set<Promise<unknown>>()

  const specs: SchedulerSpec[] = config.operations.flatMap((o) => [
    { server: o.server, kind: 'poll' as const, everyMs: config.intervalMs },
    ...(config.sweepIntervalMs > 0
      ? [{ server: o.server, kind: 'sweep' as const, everyMs: config.sweepIntervalMs }]
      : []),
  ])

  const ensureSchedulers = async (quick = false): Promise<void> => {
    const created = await schedule.ensure(specs, { quick })
    for (const spec of created) {
      metrics.schedulersCreated.inc({ server: spec.server })
      logger.info('job scheduler created', { ...spec })
    }
  }

  // Every operation's gauges, read again from Redis (another replica may have polled it) once per
  // POLL_INTERVAL, not on every tick: the alerts wait three intervals, and at 200 operations and
  // three replicas a read on every 30 s tick cost more Redis commands than the polls themselves.
  // A replica's own polls set them at once.
  let gaugesReadAtMs = Number.NEGATIVE_INFINITY
  const refreshQuotaGauges = async (tickMs: number): Promise<void> => {
    if (now() - gaugesReadAtMs < config.intervalMs - tickMs / 2) return
    gaugesReadAtMs = now()
    for (const operation of config.operations) {
      const handle = runtime.handle(operation)
      const [stored, record, binding] = await Promise.all([
        handle.lock.readState(`watermark.${config.report}`),
        handle.store.readRecord(),
        readBindingState(runtime.redis, operation.server, config.report),
      ])
      metrics.syncFromStore(operation.server, {
        watermarkMs: stored === null ? null : Number(stored),
        checkpointMissing: binding.missing !== null,
        failures: {
          live: record.failing.live?.failures ?? 0,
          sweep: record.failing.sweep?.failures ?? 0,
        },
      })
      metrics.setQuotaUsed(
        operation.server,
        handle.store.quotaDay(),
        await handle.store.quotaUsed(),
      )
      metrics.quotaReserve.set({ server: operation.server }, handle.reserveAt())
    }
  }

  const sweep = async (operation: OperationConfig): Promise<PollSummary | null> => {
    const stored = await runtime.handle(operation).lock.readState(`watermark.${config.report}`)
    if (stored === null) return null
    // Ends at the watermark (a sweep never moves it, it only re-reads what is already covered),
    // and never after what the upstream can answer (a watermark an older version set too far).
    const toMs = Math.min(Number(stored), latestSettledMs(now(), config.settleLagMs))
    const fromMs = floorSecond(Math.max(now() - config.sweepLookbackMs, operation.startMs))
    if (fromMs > toMs) return null
    return runtime.poll(
      operation,
      { fromMs, toMs },
      { purpose: 'sweep', stop: stopController.signal, abandon: abandonController.signal },
    )
  }

  const runJob = async (job: DueJob): Promise<string> => {
    // How late the job starts against its scheduler's time: the fleet's schedule adherence.
    const delayMs = Math.max(0, now() - job.dueAtMs)
    metrics.scheduleDelay.observe({ kind: job.kind }, delayMs / 1000)
    const operation = byServer.get(job.server)
    if (!operation) {
      logger.warn('job for an operation this process does not know; skipped', { ...job })
      return 'unknown-operation'
    }
    if (stopController.signal.aborted) return 'stopping'
    const startedMs = now()
    const work =
      job.kind === 'sweep'
        ? sweep(operation)
        : runtime.poll(operation, undefined, {
            purpose: 'live',
            stop: stopController.signal,
            abandon: abandonController.signal,
          })
    inFlight.add(work)
    try {
      const summary = await work
      metrics.jobs.inc({ server: job.server, kind: job.kind, outcome: 'ok' })
      // One line per job, how late it started included: an operator sees the schedule at work.
      // A sweep with nothing to re-read (no watermark yet) says so with the same fields.
      logger.info('poll done', {
        kind: job.kind,
        delayMs,
        ...(summary ?? {
          server: job.server,
          window: null,
          published: 0,
          durationMs: now() - startedMs,
        }),
      })
      return 'ok'
    } catch (error) {
      const code = isAppError(error) ? error.code : 'UNEXPECTED'
      metrics.jobs.inc({ server: job.server, kind: job.kind, outcome: code })
      const quiet = ['POLL_LOCK_BUSY', 'POLL_STOPPED', 'POLL_OPERATION_PAUSED'].includes(code)
      logger[quiet ? 'info' : 'warn']('poll failed', {
        server: job.server,
        kind: job.kind,
        delayMs,
        err: error,
      })
      return code
    } finally {
      inFlight.delete(work)
    }
  }

  const tickMs = Math.max(1_000, Math.min(config.intervalMs, 30_000))
  const onTick = async (): Promise<void> => {
    try {
      await ensureSchedulers(true)
      const stall = await schedule.restartIfStalled(now())
      if (stall) {
        metrics.workerRestarts.inc()
        logger.warn('the schedule worker took no due job while free; restarted it', {
          code: 'POLL_WORKER_STALLED',
          dueAt: new Date(stall.dueAtMs).toISOString(),
          waitedMs: stall.waitedMs,
        })
      }
      await refreshQuotaGauges(tickMs)
    } catch (error) {
      logger.warn('schedule check failed; trying again on the next tick', { err: error })
    }
  }

  return {
    start: async () => {
      // The definitive read of the checkpoint topic, once for every operation (checkpoint-log.ts);
      // a failure here is not fatal: the first poll tries again.
      await runtime.checkpoints.startup().catch((error: unknown) => {
        logger.warn('could not read the checkpoint topic at start; the first poll tries again', {
          err: error,
        })
      })
      const removed = await schedule.removeOthers(new Set(byServer.keys()))
      for (const r of removed)
        logger.info('job scheduler of an unconfigured operation removed', { ...r })
      await ensureSchedulers()
      schedule.startWorker(runJob)
      tick = setInterval(() => void onTick(), tickMs)
      started = true
      logger.info('poller running', {
        operations: [...byServer.keys()],
        intervalMs: config.intervalMs,
        sweepIntervalMs: config.sweepIntervalMs,
      })
    },
    stop: () => {
      stopping ??= (async () => {
        clearInterval(tick)
        stopController.abort(
          new AppError('POLL_STOPPED', 'The poller is stopping', { retriable: true }),
        )
        const closing = schedule.closeWorker()
        let timer: NodeJS.Timeout | undefined
        const timedOut = await Promise.race([
          closing.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), config.shutdownTimeoutMs)
          }),
        ])
        clearTimeout(timer)
        if (timedOut) {
          logger.warn('the window in flight did not finish in time; abandoning it', {
            code: 'POLL_SHUTDOWN_ABANDONED',
            timeoutMs: config.shutdownTimeoutMs,
          })
          abandonController.abort(
            new AppError(
              'POLL_SHUTDOWN_ABANDONED',
              'The poller stopped before the window in flight finished; it will be polled again',
            ),
          )
          await Promise.race([
            Promise.allSettled([...inFlight]),
            new Promise((resolve) => setTimeout(resolve, 5_000)),
          ])
          await schedule.closeWorker(true).catch(() => undefined)
        }
        await schedule.close()
      })()
      return stopping
    },
    ready: () => started && stopping === undefined,
    status: (query = {}) =>
      readStatusPage({
        handles: config.operations.map((operation) => runtime.handle(operation)),
        config,
        redis: runtime.redis,
        describeSchedule: (s) => schedule.describe(s),
        query,
      }),
  }
}
