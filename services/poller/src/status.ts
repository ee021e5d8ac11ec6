import { toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import type { SchedulerInfo } from './adapters/bullmq-schedule.js'
import { readBindingState } from './adapters/checkpoint-log.js'
import { listBackfills, type BackfillRecord } from './backfill-store.js'
import type { PollerConfig } from './config.js'
import { checkpointMissingCommands } from './core/poll-operation.js'
import { coverageGaps, type PollPurpose } from './operation-store.js'
import type { OperationHandle } from './runtime.js'
import type { Range } from './window.js'

const iso = (ms: number | null | undefined): string | null =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString()
const isoRange = (r: Range): { from: string; to: string } => ({
  from: new Date(r.fromMs).toISOString(),
  to: new Date(r.toMs).toISOString(),
})
const MAX_GAPS_SHOWN = 50

/** A window that keeps failing: the watermark (or a backfill) has not moved past it. */
export interface StuckWindow {
  purpose: PollPurpose
  /** The first second not yet on the topic. */
  from: string | null
  failures: number
  since: string | null
  code: string | null
}

/** What `status` prints and `GET /status` answers, per operation. Never a token. */
export interface OperationStatus {
  server: string
  timeZone: string
  /** The last second wholly on the topic, and how far behind now it is. */
  watermark: string | null
  lagSeconds: number | null
  lastSuccess: Record<
    string,
    { at: string; window: { from: string; to: string } | null; published: number }
  >
  lastError: { at: string; purpose: string; code: string; message: string } | null
  paused: { reason: string; since: string; until: string } | null
  lock: { held: boolean; expiresInMs: number | null }
  quota: {
    day: string
    used: number
    budget: number
    reserve: number
    /** Calls left today for live polls, and for backfills (which never touch the reserve). */
    liveLeft: number
    backfillLeft: number
  }
  coverage: {
    intervals: number
    from: string | null
    to: string | null
    /** Holes between the first covered second and the watermark (the first 50). */
    gaps: { from: string; to: string }[]
    gapCount: number
  }
  stuckWindows: StuckWindow[]
  /**
   * The watermark's binding to the checkpoint topic (adapters/checkpoint-log.ts): `bound` when
   * the last checkpoint's place in the log is recorded, `unverified` when not yet (checked by the
   * next poll's full read), `missing` while polling is stopped by `POLL_CHECKPOINT_MISSING`.
   */
  checkpoint: {
    state: 'bound' | 'unverified' | 'missing'
    /** Where the last checkpoint landed: the cluster id, partition and offset. */
    cluster: string | null
    partition: number | null
    offset: number | null
    missing: {
      code: 'POLL_CHECKPOINT_MISSING'
      reason: string
      since: string
      /** The watermark the topic does not back, and the newest one the topic holds. */
      watermark: string
      topicWatermark: string | null
      cluster: string | null
      /** The commands that resolve it (README, "When Kafka is replaced"). */
      resolve: string[]
    } | null
  }
  backfills: BackfillRecord[]
  schedule: { kind: string; everyMs: number | null; next: string | null }[] | null
}

/**
 * Reads the status of one operation from Redis (and the schedule, when given). Works from any
 * process: the `status` command, or `GET /status` of a running poller.
 */
export async function readOperationStatus(input: {
  handle: OperationHandle
  config: Readonly<PollerConfig>
  redis: Redis
  describeSchedule?: (server: string) => Promise<SchedulerInfo[]>
  nowMs?: number
}): Promise<OperationStatus> {
  const { handle, config, redis } = input
  const { operation, store, lock } = handle
  const nowMs = input.nowMs ?? Date.now()
  const [stored, record, pause, used, coverage, pttl, backfills, schedule, binding] =
    await Promise.all([
      lock.readState(`watermark.${config.report}`),
      store.readRecord(),
      store.readPause(handle.tokenHash, nowMs),
      store.quotaUsed(nowMs),
      store.readCoverage(),
      redis.pttl(lock.keys.lock).catch((error: unknown) => {
        throw toRedisError(error)
      }),
      listBackfills(redis, operation.server),
      input.describeSchedule ? input.describeSchedule(operation.server) : Promise.resolve(null),
      readBindingState(redis, operation.server, config.report),
    ])
  const watermarkMs = stored === null ? null : Number(stored)
  const reserve = handle.reserveAt(nowMs)
  const gapEnd = watermarkMs ?? coverage.at(-1)?.toMs ?? null
  const gaps =
    coverage[0] !== undefined && gapEnd !== null
      ? coverageGaps(coverage, coverage[0].fromMs, gapEnd)
      : []
  const stuck: StuckWindow[] = []
  for (const [purpose, failing] of Object.entries(record.failing)) {
    if (failing.failures < config.stuckAfter) continue
    stuck.push({
      purpose: purpose as PollPurpose,
      from: iso(failing.watermarkMs === null ? null : failing.watermarkMs + 1000),
      failures: failing.failures,
      since: iso(failing.sinceMs),
      code: record.lastError?.purpose === purpose ? record.lastError.code : null,
    })
  }
  for (const backfill of backfills) {
    if (backfill.state === 'running' && backfill.failures >= config.stuckAfter) {
      stuck.push({
        purpose: 'backfill',
        from: backfill.next,
        failures: backfill.failures,
        since: backfill.updatedAt,
        code: backfill.error?.code ?? null,
      })
    }
  }
  return {
    server: operation.server,
    timeZone: operation.timeZone,
    watermark: iso(watermarkMs),
    lagSeconds: watermarkMs === null ? null : Math.max(0, Math.round((nowMs - watermarkMs) / 1000)),
    lastSuccess: Object.fromEntries(
      Object.entries(record.lastSuccess).map(([purpose, s]) => [
        purpose,
        { at: iso(s.atMs)!, window: s.window ? isoRange(s.window) : null, published: s.published },
      ]),
    ),
    lastError: record.lastError
      ? {
          at: iso(record.lastError.atMs)!,
          purpose: record.lastError.purpose,
          code: record.lastError.code,
          message: record.lastError.message,
        }
      : null,
    paused: pause
      ? { reason: pause.reason, since: iso(pause.sinceMs)!, until: iso(pause.untilMs)! }
      : null,
    lock: { held: pttl > 0 || pttl === -1, expiresInMs: pttl > 0 ? pttl : null },
    quota: {
      day: store.quotaDay(nowMs),
      used,
      budget: handle.budget,
      reserve,
      liveLeft: Math.max(0, handle.budget - used),
      backfillLeft: Math.max(0, handle.budget - reserve - used),
    },
    coverage: {
      intervals: coverage.length,
      from: iso(coverage[0]?.fromMs),
      to: iso(coverage.at(-1)?.toMs),
      gaps: gaps.slice(0, MAX_GAPS_SHOWN).map(isoRange),
      gapCount: gaps.length,
    },
    stuckWindows: stuck,
    checkpoint: {
      state: binding.missing ? 'missing' : binding.location ? 'bound' : 'unverified',
      cluster: binding.location?.cluster ?? null,
      partition: binding.location?.partition ?? null,
      offset: binding.location?.offset ?? null,
      missing: binding.missing
        ? {
            code: 'POLL_CHECKPOINT_MISSING',
            reason: binding.missing.reason,
            since: iso(binding.missing.sinceMs)!,
            watermark: iso(binding.missing.watermarkMs)!,
            topicWatermark: iso(binding.missing.topicWatermarkMs),
            cluster: binding.missing.cluster,
            resolve: checkpointMissingCommands(operation.server, operation.startMs),
          }
        : null,
    },
    backfills,
    schedule: schedule
      ? schedule.map((s) => ({ kind: s.kind, everyMs: s.everyMs, next: iso(s.nextAtMs) }))
      : null,
  }
}
