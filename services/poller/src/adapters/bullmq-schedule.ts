/*
 * The poller's schedule on BullMQ, the only module that imports it (ARCHITECTURE.md: BullMQ is
 * used by the poller alone). One queue for every operation, one job scheduler per operation and
 * kind; a job's name is its kind and its data only the operation's server code, never a token.
 */
import { Queue, QueueKeys, Worker } from 'bullmq'
import type { Redis } from '@wolkvox-chat-stream/redis'

/** What a job asks for: the next due range (`poll`) or a re-read of the last day (`sweep`). */
export type JobKind = 'poll' | 'sweep'

/** What a job asks for: its kind (the job's name) and the operation (its only data). */
export interface ScheduleJob {
  server: string
  kind: JobKind
}

/**
 * When a job was due: a job scheduler's job is named `repeat:<scheduler>:<millis>` after the time
 * it was made for (its `delay` is reset to 0 when BullMQ promotes it, so creation time plus delay
 * would say when the previous one ran); any other job, its creation time plus its delay.
 */
export function dueAt(job: { id?: string | undefined; timestamp: number; delay?: number }): number {
  const millis = /^repeat:.*:(\d+)$/.exec(job.id ?? '')?.[1]
  return millis === undefined ? job.timestamp + (job.delay ?? 0) : Number(millis)
}

/** A job as a worker takes it: when it was due (its scheduler's time for it). */
export interface DueJob extends ScheduleJob {
  dueAtMs: number
}

/** A job's whole data. */
interface JobData {
  server: string
}

/** A scheduler that should exist. */
export interface SchedulerSpec extends ScheduleJob {
  everyMs: number
}

/** A scheduler as BullMQ holds it. */
export interface SchedulerInfo extends ScheduleJob {
  everyMs: number | null
  nextAtMs: number | null
}

/** The schedule: schedulers in Redis, and this process's worker. */
export interface Schedule {
  /**
   * Creates the schedulers that are missing or have another period; returns those it created.
   * With `quick`, it first asks whether each of these schedulers exists (one ZMSCORE) and checks
   * each one only when one is missing: the poller's tick runs it so, and schedulers come back after
   * Redis lost its data at the cost of one command per tick, not two per operation and kind.
   */
  ensure(specs: readonly SchedulerSpec[], options?: { quick?: boolean }): Promise<SchedulerSpec[]>
  /** Removes schedulers of operations not in `servers` (an operation taken out of the config). */
  removeOthers(servers: ReadonlySet<string>): Promise<SchedulerInfo[]>
  /** The schedulers of `server`. */
  describe(server: string): Promise<SchedulerInfo[]>
  /**
   * Starts the worker: `handle` runs each job and returns a short outcome (`ok` or an error code),
   * kept as the job's result. It must not throw.
   */
  startWorker(handle: (job: DueJob) => Promise<string>): void
  /**
   * Restarts the worker when it has let a due job wait `stallMs` or more while it had a free
   * slot (see {@link workerStalled}); returns what it found then, else null. The poller calls it
   * on every tick: BullMQ's blocking connection can be left closed for good after a Redis
   * Cluster failover, and the worker then takes no job while everything else works.
   */
  restartIfStalled(nowMs: number): Promise<WorkerStall | null>
  /** Stops taking jobs; waits for those in flight unless `force`. */
  closeWorker(force?: boolean): Promise<void>
  /** Closes the queue and the worker (not the connection passed in). */
  close(): Promise<void>
}

/** A worker found not taking a due job, and restarted. */
export interface WorkerStall {
  /** When the oldest job waiting was due. */
  dueAtMs: number
  /** How long it had waited, with a slot of the worker free since then. */
  waitedMs: number
}

/**
 * Whether a worker is stalled: a job has been due for `stallMs` or more, and a slot of the
 * worker has been free all that time (since the job was due, or since its last job ended). A
 * worker whose every slot is taken (a long backfill window) is not stalled, only busy.
 */
export function workerStalled(input: {
  nowMs: number
  /** The oldest job due and not taken (waiting, or delayed with its time come); null if none. */
  dueAtMs: number | null
  running: number
  concurrency: number
  /** When a job of this worker last ended (0 if none has). */
  freedAtMs: number
  stallMs: number
}): WorkerStall | null {
  const { nowMs, dueAtMs, running, concurrency, freedAtMs, stallMs } = input
  if (dueAtMs === null || running >= concurrency) return null
  const waitedMs = nowMs - Math.max(dueAtMs, freedAtMs)
  return waitedMs >= stallMs ? { dueAtMs, waitedMs: nowMs - dueAtMs } : null
}

/** How long a due job may wait for a free worker before the worker is restarted. */
export const WORKER_STALL_MS = 30_000
/** How long a stalled worker is given to close before it is left behind. */
const STALLED_CLOSE_MS = 5_000

/** Waits for `promise` at most `ms` (its failure ignored); the timer never outlives it. */
export async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms)
    }),
  ])
  clearTimeout(timer)
}

/** BullMQ's keys are `wcs:{bullmq}:<queue>:…`: the project prefix, and one cluster slot. */
export const SCHEDULE_PREFIX = 'wcs:{bullmq}'
export const SCHEDULE_QUEUE = 'poller'

/**
 * BullMQ's keys of the schedule's queue (as BullMQ names them), and those of `ids` (jobs, or
 * `repeat:<scheduler id>`): every one under `{bullmq}`, since BullMQ's scripts take several at once.
 */
export function scheduleKeys(ids: readonly string[] = [], queueName = SCHEDULE_QUEUE): string[] {
  const keys = new QueueKeys(SCHEDULE_PREFIX)
  return [...Object.values(keys.getKeys(queueName)), ...ids.map((id) => keys.toKey(queueName, id))]
}

const schedulerId = (job: ScheduleJob): string => `${job.kind}-${job.server}`

function parseId(id: string): ScheduleJob | null {
  const m = /^(poll|sweep)-([0-9]{1,6})$/.exec(id)
  return m ? { kind: m[1] as JobKind, server: m[2]! } : null
}

/**
 * A {@link Schedule} on `connection`, a connection with the `blocking` role (BullMQ's workers
 * block on Redis; the worker opens a duplicate of it for that).
 */
export function createBullSchedule(options: {
  connection: Redis
  concurrency: number
  /** Called with errors BullMQ reports outside a job (Redis away, a lost job lock). */
  onError: (error: Error) => void
  queueName?: string
  /** {@link WORKER_STALL_MS} unless given. */
  stallMs?: number
}): Schedule {
  const queueName = options.queueName ?? SCHEDULE_QUEUE
  const queue = new Queue<JobData, string>(queueName, {
    connection: options.connection,
    prefix: SCHEDULE_PREFIX,
  })
  queue.on('error', options.onError)
  let worker: Worker<JobData, string> | undefined
  let handler: ((job: DueJob) => Promise<string>) | undefined
  // Jobs this process runs now, and when one last ended: a stall needs a free slot.
  let running = 0
  let freedAtMs = 0
  // Workers replaced after a stall whose close has not finished: closed again with the schedule.
  const leftBehind = new Set<Worker<JobData, string>>()

  const newWorker = (handle: (job: DueJob) => Promise<string>): Worker<JobData, string> => {
    const created = new Worker<JobData, string>(
      queueName,
      async (job) => {
        const server = job.data?.server
        if (typeof server !== 'string' || (job.name !== 'poll' && job.name !== 'sweep'))
          return 'ignored'
        running++
        try {
          return await handle({ server, kind: job.name, dueAtMs: dueAt(job) })
        } finally {
          running--
          freedAtMs = Date.now()
        }
      },
      {
        connection: options.connection,
        prefix: SCHEDULE_PREFIX,
        concurrency: options.concurrency,
        autorun: true,
      },
    )
    created.on('error', options.onError)
    return created
  }

  /** When the oldest job that could run now became due; null when none is. */
  const oldestDueMs = async (nowMs: number): Promise<number | null> => {
    const [waiting] = await queue.getJobs(['wait', 'prioritized'], 0, 0, true)
    const [delayed] = await queue.getJobs(['delayed'], 0, 0, true)
    const dues = [waiting, delayed]
      .filter((job) => job !== undefined)
      .map((job) => dueAt(job))
      .filter((due) => due <= nowMs)
    return dues.length === 0 ? null : Math.min(...dues)
  }

  const info = (id: string, every?: number, next?: number): SchedulerInfo | null => {
    const job = parseId(id)
    return job ? { ...job, everyMs: every ?? null, nextAtMs: next ?? null } : null
  }

  return {
    ensure: async (specs, ensureOptions = {}) => {
      const created: SchedulerSpec[] = []
      if (ensureOptions.quick) {
        // One ZMSCORE of this process's own scheduler ids in the scheduler set: a count would be
        // fooled by other processes' schedulers on the same queue (another poller's operations).
        const repeatKey = new QueueKeys(SCHEDULE_PREFIX).toKey(queueName, 'repeat')
        const scores = await options.connection.zmscore(repeatKey, ...specs.map(schedulerId))
        if (scores.every((score) => score !== null)) return created
      }
      for (const spec of specs) {
        const id = schedulerId(spec)
        const existing = await queue.getJobScheduler(id)
        if (existing && Number(existing.every) === spec.everyMs) continue
        await queue.upsertJobScheduler(
          id,
          { every: spec.everyMs },
          {
            name: spec.kind,
            data: { server: spec.server },
            // A missed or duplicated trigger is harmless (the lock and the watermark decide), so
            // a job is never retried and little history is kept.
            opts: { attempts: 1, removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } },
          },
        )
        created.push(spec)
      }
      return created
    },
    removeOthers: async (servers) => {
      const removed: SchedulerInfo[] = []
      for (const scheduler of await queue.getJobSchedulers(0, -1)) {
        const id = scheduler.id ?? scheduler.key
        const parsed = info(id, scheduler.every, scheduler.next)
        if (parsed && servers.has(parsed.server)) continue
        await queue.removeJobScheduler(id)
        if (parsed) removed.push(parsed)
      }
      return removed
    },
    describe: async (server) => {
      const out: SchedulerInfo[] = []
      for (const kind of ['poll', 'sweep'] as const) {
        const scheduler = await queue.getJobScheduler(schedulerId({ server, kind }))
        if (scheduler)
          out.push({
            server,
            kind,
            everyMs: scheduler.every ?? null,
            nextAtMs: scheduler.next ?? null,
          })
      }
      return out
    },
    startWorker: (handle) => {
      if (worker) return
      handler = handle
      worker = newWorker(handle)
    },
    restartIfStalled: async (nowMs) => {
      if (!worker || !handler || worker.closing) return null
      if (await queue.isPaused()) return null
      const stall = workerStalled({
        nowMs,
        dueAtMs: await oldestDueMs(nowMs),
        running,
        concurrency: options.concurrency,
        freedAtMs,
        stallMs: options.stallMs ?? WORKER_STALL_MS,
      })
      if (!stall) return null
      // The stalled worker is closed without waiting for its jobs (a job it runs goes on to its
      // end, and the lock and the watermark keep a second trigger harmless); a close that hangs
      // on its broken connection is left behind.
      const stalled = worker
      worker = newWorker(handler)
      leftBehind.add(stalled)
      await settledWithin(
        stalled.close(true).then(() => leftBehind.delete(stalled)),
        STALLED_CLOSE_MS,
      )
      return stall
    },
    closeWorker: async (force = false) => {
      // A graceful close waits for the job in flight (the caller bounds that wait); a forced
      // one can still hang on a connection broken under it (a Redis Cluster failover): bounded.
      if (force) await settledWithin(worker?.close(true) ?? Promise.resolve(), STALLED_CLOSE_MS)
      else await worker?.close(false)
    },
    close: async () => {
      for (const w of leftBehind) await settledWithin(w.close(true), STALLED_CLOSE_MS)
      await settledWithin(worker?.close(true) ?? Promise.resolve(), STALLED_CLOSE_MS)
      await settledWithin(queue.close(), STALLED_CLOSE_MS)
    },
  }
}
