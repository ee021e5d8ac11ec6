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
   * Checked on every tick, so schedulers come back after Redis lost its data.
   */
  ensure(specs: readonly SchedulerSpec[]): Promise<SchedulerSpec[]>
  /** Removes schedulers of operations not in `servers` (an operation taken out of the config). */
  removeOthers(servers: ReadonlySet<string>): Promise<SchedulerInfo[]>
  /** The schedulers of `server`. */
  describe(server: string): Promise<SchedulerInfo[]>
  /**
   * Starts the worker: `handle` runs each job and returns a short outcome (`ok` or an error code),
   * kept as the job's result. It must not throw.
   */
  startWorker(handle: (job: ScheduleJob) => Promise<string>): void
  /** Stops taking jobs; waits for those in flight unless `force`. */
  closeWorker(force?: boolean): Promise<void>
  /** Closes the queue and the worker (not the connection passed in). */
  close(): Promise<void>
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
}): Schedule {
  const queueName = options.queueName ?? SCHEDULE_QUEUE
  const queue = new Queue<JobData, string>(queueName, {
    connection: options.connection,
    prefix: SCHEDULE_PREFIX,
  })
  queue.on('error', options.onError)
  let worker: Worker<JobData, string> | undefined

  const info = (id: string, every?: number, next?: number): SchedulerInfo | null => {
    const job = parseId(id)
    return job ? { ...job, everyMs: every ?? null, nextAtMs: next ?? null } : null
  }

  return {
    ensure: async (specs) => {
      const created: SchedulerSpec[] = []
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
      worker = new Worker<JobData, string>(
        queueName,
        async (job) => {
          const server = job.data?.server
          if (typeof server !== 'string' || (job.name !== 'poll' && job.name !== 'sweep'))
            return 'ignored'
          return handle({ server, kind: job.name })
        },
        {
          connection: options.connection,
          prefix: SCHEDULE_PREFIX,
          concurrency: options.concurrency,
          autorun: true,
        },
      )
      worker.on('error', options.onError)
    },
    closeWorker: async (force = false) => {
      await worker?.close(force)
    },
    close: async () => {
      await worker?.close(true).catch(() => undefined)
      await queue.close().catch(() => undefined)
    },
  }
}
