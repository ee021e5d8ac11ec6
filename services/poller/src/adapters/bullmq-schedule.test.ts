import { describe, expect, it } from 'vitest'
import { dueAt, WORKER_STALL_MS, workerStalled } from './bullmq-schedule.js'

const NOW = 1_800_000_000_000
const base = {
  nowMs: NOW,
  running: 0,
  concurrency: 2,
  freedAtMs: 0,
  stallMs: WORKER_STALL_MS,
}

describe('workerStalled', () => {
  it('is stalled when a job has been due for the stall time with a slot free all along', () => {
    expect(workerStalled({ ...base, dueAtMs: NOW - WORKER_STALL_MS })).toEqual({
      dueAtMs: NOW - WORKER_STALL_MS,
      waitedMs: WORKER_STALL_MS,
    })
    expect(workerStalled({ ...base, running: 1, dueAtMs: NOW - 5 * 60_000 })?.waitedMs).toBe(
      5 * 60_000,
    )
  })

  it('is not stalled with nothing due, or a job due for less than the stall time', () => {
    expect(workerStalled({ ...base, dueAtMs: null })).toBeNull()
    expect(workerStalled({ ...base, dueAtMs: NOW - WORKER_STALL_MS + 1 })).toBeNull()
  })

  it('is busy, not stalled, while every slot runs a job', () => {
    expect(workerStalled({ ...base, running: 2, dueAtMs: NOW - 10 * 60_000 })).toBeNull()
  })

  it('counts the wait from when a slot became free, for a job that came due while all were busy', () => {
    const dueAtMs = NOW - 10 * 60_000
    expect(workerStalled({ ...base, dueAtMs, freedAtMs: NOW - 1_000 })).toBeNull()
    expect(workerStalled({ ...base, dueAtMs, freedAtMs: NOW - WORKER_STALL_MS })).toEqual({
      dueAtMs,
      waitedMs: 10 * 60_000,
    })
  })
})

describe('dueAt', () => {
  it("reads a scheduler job's time from its id: BullMQ resets its delay to 0 when it promotes it", () => {
    // Made when the previous one ran (60 s before), due at its own time.
    const promoted = { id: `repeat:poll:0010:${NOW}`, timestamp: NOW - 60_000, delay: 0 }
    expect(dueAt(promoted)).toBe(NOW)
    expect(dueAt({ ...promoted, delay: 60_000 })).toBe(NOW)
  })

  it('takes any other job as due at its creation plus its delay', () => {
    expect(dueAt({ id: 'manual-1', timestamp: NOW, delay: 5_000 })).toBe(NOW + 5_000)
    expect(dueAt({ id: undefined, timestamp: NOW })).toBe(NOW)
  })
})
