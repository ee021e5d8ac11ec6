import type { MetricsRegistry } from '@wolkvox-chat-stream/observability'
import { leaseLostReasons, type TokenLockHooks } from '@wolkvox-chat-stream/token-lock'
import type { PollObserver } from './core/ports.js'

/** Settings the alert rules compare metrics with (deploy/prometheus/rules). */
export interface PollerMetricsSettings {
  /** `POLL_INTERVAL`, served as `wolkvox_poller_interval_seconds`. */
  intervalMs: number
  /** `POLL_STUCK_AFTER`: failures in a row at which `wolkvox_poller_window_stuck` becomes 1. */
  stuckAfter: number
}

/**
 * The poller's metrics. Labels are bounded: `server` (one per configured operation) and
 * `outcome` (a fixed list of codes). Never an agent, customer or conversation. Counters the
 * alerts watch start at zero for every operation, so that their first increase is seen.
 */
export function createPollerMetrics(registry: MetricsRegistry, settings: PollerMetricsSettings) {
  const watermarks = new Map<string, number>()
  const quotaUsed = new Map<string, { day: string; used: number }>()
  const m = {
    pollDuration: registry.histogram<'server' | 'outcome'>({
      name: 'wolkvox_poller_poll_duration_seconds',
      help: 'Duration of a whole poll (lock, fetch, publish, watermark), by outcome.',
      labelNames: ['server', 'outcome'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    }),
    requests: registry.counter<'server' | 'outcome'>({
      name: 'wolkvox_poller_requests_total',
      help: 'Calls to the Wolkvox API by outcome (ok or the error code).',
      labelNames: ['server', 'outcome'],
    }),
    requestDuration: registry.histogram<'server'>({
      name: 'wolkvox_poller_request_duration_seconds',
      help: 'Duration of one Wolkvox API call, retries included.',
      labelNames: ['server'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    }),
    responseBytes: registry.counter<'server'>({
      name: 'wolkvox_poller_response_bytes_total',
      help: 'Bytes received from the Wolkvox API.',
      labelNames: ['server'],
    }),
    fetched: registry.counter<'server'>({
      name: 'wolkvox_poller_records_fetched_total',
      help: 'Chat messages received from the Wolkvox API (re-fetches included).',
      labelNames: ['server'],
    }),
    published: registry.counter<'server'>({
      name: 'wolkvox_poller_events_published_total',
      help: 'ChatMessage events acknowledged by Kafka.',
      labelNames: ['server'],
    }),
    revised: registry.counter<'server'>({
      name: 'wolkvox_poller_events_revised_total',
      help: 'Of the events published, those published again because Wolkvox changed a value outside their event_id (a new revision).',
      labelNames: ['server'],
    }),
    duplicates: registry.counter<'server'>({
      name: 'wolkvox_poller_duplicates_skipped_total',
      help: 'Messages skipped because they were already published.',
      labelNames: ['server'],
    }),
    deadLettered: registry.counter<'server'>({
      name: 'wolkvox_poller_dead_lettered_total',
      help: 'Rows sent to wolkvox.poller.dlq.v1 because they cannot become events.',
      labelNames: ['server'],
    }),
    splits: registry.counter<'server'>({
      name: 'wolkvox_poller_window_splits_total',
      help: 'Windows split in half because the response reached the row or size cap.',
      labelNames: ['server'],
    }),
    watermark: registry.gauge<'server'>({
      name: 'wolkvox_poller_watermark_timestamp_seconds',
      help: 'The last second wholly on the topic, per operation (Unix time).',
      labelNames: ['server'],
    }),
    lag: registry.gauge<'server'>({
      name: 'wolkvox_poller_lag_seconds',
      help: 'Seconds between now and the watermark.',
      labelNames: ['server'],
      collect() {
        for (const [server, ms] of watermarks)
          this.set({ server }, Math.max(0, (Date.now() - ms) / 1000))
      },
    }),
    lockWait: registry.histogram<'server'>({
      name: 'wolkvox_poller_lock_wait_seconds',
      help: 'Time spent waiting for the token lock.',
      labelNames: ['server'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    }),
    lockHold: registry.histogram<'server'>({
      name: 'wolkvox_poller_lock_hold_seconds',
      help: 'Time the token lock was held.',
      labelNames: ['server'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    }),
    lockContended: registry.counter<'server'>({
      name: 'wolkvox_poller_lock_contended_total',
      help: 'Acquisitions that found the token lock busy at least once.',
      labelNames: ['server'],
    }),
    lockBusy: registry.counter<'server'>({
      name: 'wolkvox_poller_lock_busy_total',
      help: 'Polls that gave up waiting for the token lock.',
      labelNames: ['server'],
    }),
    lockLost: registry.counter<'server' | 'reason'>({
      name: 'wolkvox_poller_lock_lost_total',
      help: 'Leases lost while working (expired, lost, unconfirmed); the work was aborted.',
      labelNames: ['server', 'reason'],
    }),
    quotaUsed: registry.gauge<'server'>({
      name: 'wolkvox_poller_quota_used',
      help: "Upstream calls counted today (the operation's local day), retries included.",
      labelNames: ['server'],
      collect() {
        for (const [server, { used }] of quotaUsed) this.set({ server }, used)
      },
    }),
    quotaBudget: registry.gauge<'server'>({
      name: 'wolkvox_poller_quota_budget',
      help: 'Calls per local day this poller allows itself for the operation (POLL_DAILY_QUOTA).',
      labelNames: ['server'],
    }),
    quotaReserve: registry.gauge<'server'>({
      name: 'wolkvox_poller_quota_reserve',
      help: 'Calls of the daily budget kept for live polls; a backfill never uses them.',
      labelNames: ['server'],
    }),
    jobs: registry.counter<'server' | 'kind' | 'outcome'>({
      name: 'wolkvox_poller_jobs_total',
      help: 'Scheduled jobs run by this process (kind poll or sweep), by outcome (ok or the error code).',
      labelNames: ['server', 'kind', 'outcome'],
    }),
    scheduleDelay: registry.histogram<'kind'>({
      name: 'wolkvox_poller_schedule_delay_seconds',
      help: 'How late a scheduled job (kind poll or sweep) started against the time its scheduler set for it.',
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    }),
    workerRestarts: registry.counter({
      name: 'wolkvox_poller_worker_restarts_total',
      help: 'Schedule workers restarted because a due job waited 30 s while they had a free slot (POLL_WORKER_STALLED).',
    }),
    schedulersCreated: registry.counter<'server'>({
      name: 'wolkvox_poller_schedulers_created_total',
      help: 'Job schedulers found missing (first start, or Redis lost its data) and created.',
      labelNames: ['server'],
    }),
    failuresInARow: registry.gauge<'server' | 'purpose'>({
      name: 'wolkvox_poller_consecutive_failures',
      help: 'Failed polls in a row (live or sweep); at POLL_STUCK_AFTER the window is reported stuck.',
      labelNames: ['server', 'purpose'],
    }),
    windowStuck: registry.gauge<'server' | 'purpose'>({
      name: 'wolkvox_poller_window_stuck',
      help: '1 while the live or sweep window has failed POLL_STUCK_AFTER times in a row, else 0.',
      labelNames: ['server', 'purpose'],
      async collect() {
        const failures = await m.failuresInARow.get()
        for (const { labels, value } of failures.values) {
          const { server, purpose } = labels
          if (typeof server === 'string' && typeof purpose === 'string')
            this.set({ server, purpose }, value >= settings.stuckAfter ? 1 : 0)
        }
      },
    }),
    interval: registry.gauge<'server'>({
      name: 'wolkvox_poller_interval_seconds',
      help: 'The live poll period (POLL_INTERVAL); the lag alert fires beyond three of them.',
      labelNames: ['server'],
    }),
    upstreamMaintenance: registry.gauge<'server'>({
      name: 'wolkvox_poller_upstream_maintenance',
      help: '1 from an upstream maintenance answer (WOLKVOX_MAINTENANCE) until a call succeeds.',
      labelNames: ['server'],
    }),
    backfillWindows: registry.counter<'server'>({
      name: 'wolkvox_poller_backfill_windows_total',
      help: 'Backfill windows wholly published.',
      labelNames: ['server'],
    }),
    checkpointMismatch: registry.gauge<'server'>({
      name: 'wolkvox_poller_checkpoint_mismatch',
      help: '1 while the operation is stopped because the checkpoint topic holds no checkpoint at or after its watermark (POLL_CHECKPOINT_MISSING; resolve with `npm run poller -- rebind`), else 0.',
      labelNames: ['server'],
    }),
    checkpointReads: registry.counter<'reason'>({
      name: 'wolkvox_poller_checkpoint_reads_total',
      help: 'Full reads of wolkvox.poller.checkpoint.v1 (reason startup, suspicious or recovery); one read serves every operation.',
      labelNames: ['reason'],
    }),
    stopped: registry.gauge<'server' | 'reason'>({
      name: 'wolkvox_poller_operation_stopped',
      help: '1 while an operation is stopped by an error that needs a person (invalid token, quota used up).',
      labelNames: ['server', 'reason'],
    }),
  }

  return {
    ...m,
    setQuotaUsed(server: string, day: string, used: number) {
      const known = quotaUsed.get(server)
      // Replicas count into one Redis counter; keep the highest reading of the day.
      if (!known || known.day !== day || used > known.used) quotaUsed.set(server, { day, used })
    },
    setWatermark(server: string, ms: number) {
      watermarks.set(server, ms)
      m.watermark.set({ server }, ms / 1000)
    },
    /**
     * Sets what every replica must report alike from what Redis holds for the operation: the
     * watermark (so a replica whose last poll is old does not report a growing lag), a recorded
     * checkpoint refusal, and the failures in a row (counted by all replicas together, so a window
     * stuck across replicas is seen, and one freed by another replica is not reported stuck).
     */
    syncFromStore(
      server: string,
      stored: {
        watermarkMs: number | null
        failures: Readonly<Record<'live' | 'sweep', number>>
        /** Whether a POLL_CHECKPOINT_MISSING refusal is recorded. */
        checkpointMissing?: boolean
      },
    ) {
      if (stored.checkpointMissing !== undefined)
        m.checkpointMismatch.set({ server }, stored.checkpointMissing ? 1 : 0)
      if (stored.watermarkMs !== null) {
        watermarks.set(server, stored.watermarkMs)
        m.watermark.set({ server }, stored.watermarkMs / 1000)
      }
      for (const purpose of ['live', 'sweep'] as const)
        m.failuresInARow.set({ server, purpose }, stored.failures[purpose])
    },
    observer(server: string): PollObserver {
      m.deadLettered.inc({ server }, 0)
      m.revised.inc({ server }, 0)
      m.checkpointMismatch.set({ server }, 0)
      m.interval.set({ server }, settings.intervalMs / 1000)
      return {
        onRequest: (outcome, durationMs, bytes) => {
          m.requests.inc({ server, outcome })
          if (outcome === 'ok') m.upstreamMaintenance.set({ server }, 0)
          else if (outcome === 'WOLKVOX_MAINTENANCE') m.upstreamMaintenance.set({ server }, 1)
          m.requestDuration.observe({ server }, durationMs / 1000)
          if (bytes > 0) m.responseBytes.inc({ server }, bytes)
        },
        onSplit: () => m.splits.inc({ server }),
        onPublished: (c) => {
          m.fetched.inc({ server }, c.fetched)
          m.published.inc({ server }, c.published)
          m.revised.inc({ server }, c.revised)
          m.duplicates.inc({ server }, c.duplicates)
          m.deadLettered.inc({ server }, c.deadLettered)
        },
        onWatermark: (ms) => {
          watermarks.set(server, ms)
          m.watermark.set({ server }, ms / 1000)
        },
      }
    },
    lockHooks(server: string): TokenLockHooks {
      for (const reason of leaseLostReasons) m.lockLost.inc({ server, reason }, 0)
      return {
        onAcquired: ({ waitMs, contended }) => {
          m.lockWait.observe({ server }, waitMs / 1000)
          if (contended) m.lockContended.inc({ server })
        },
        onBusy: () => m.lockBusy.inc({ server }),
        onReleased: ({ heldMs }) => m.lockHold.observe({ server }, heldMs / 1000),
        onLost: ({ reason }) => m.lockLost.inc({ server, reason }),
      }
    },
  }
}

export type PollerMetrics = ReturnType<typeof createPollerMetrics>
