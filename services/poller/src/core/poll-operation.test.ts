import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { Lease, TokenLock } from '@wolkvox-chat-stream/token-lock'
import {
  pollOperation,
  rebindOperation,
  type CheckpointBinding,
  type CheckpointMismatch,
  type PollOperationDeps,
} from './poll-operation.js'
import { memoryPorts } from './memory-ports.test-support.js'

const S = 1000
const HOUR = 3600 * S
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0)
const settings = { lookbackMs: 10 * S, settleLagMs: 120 * S, maxWindowMs: HOUR }

/** An operation in memory: its watermark, a topic, a published set and a binding that may refuse. */
function operation(input: { watermarkMs: number | null; refuse?: boolean }) {
  const state = new Map<string, string>()
  if (input.watermarkMs !== null) state.set('watermark.chat_2', String(input.watermarkMs))
  let refusal: CheckpointMismatch | null = input.refuse
    ? {
        watermarkMs: input.watermarkMs!,
        topicWatermarkMs: null,
        cluster: 'c2',
        reason: 'missing',
        sinceMs: NOW,
      }
    : null
  const verified: number[] = []
  const binding: CheckpointBinding = {
    verify: (watermarkMs) => {
      verified.push(watermarkMs)
      return Promise.resolve(refusal)
    },
    forget: () => Promise.resolve(),
    resolved: () => {
      refusal = null
      return Promise.resolve()
    },
  }
  const kept: number[] = []
  const lockOptions: unknown[] = []
  const lease: Lease = {
    fence: 7,
    signal: new AbortController().signal,
    deadline: () => NOW + 60 * S,
    keepAfterAbortedCall: () => void kept.push(1),
    fencedSet: (name, value, expected) => {
      if (expected !== undefined && state.get(name) !== expected)
        return Promise.resolve({ ok: false, reason: 'conflict' })
      state.set(name, value)
      return Promise.resolve({ ok: true })
    },
    readState: (name) => Promise.resolve(state.get(name) ?? null),
  }
  const lock = {
    withLock: async (options, work) => {
      lockOptions.push(options)
      return {
        status: 'done',
        value: await work(lease.signal, lease.fence, lease),
        fence: lease.fence,
        waitMs: 0,
        heldMs: 0,
      }
    },
    readState: (name: string) => Promise.resolve(state.get(name) ?? null),
  } as Pick<TokenLock, 'withLock' | 'readState'> as TokenLock
  const memory = memoryPorts()
  const deps: PollOperationDeps = {
    lock,
    binding,
    clock: () => NOW,
    ...memory.ports,
    recovery: { fromCheckpoints: () => Promise.resolve(null) },
  }
  const { topic, checkpoints, published, fetched } = memory
  return { deps, state, topic, checkpoints, published, fetched, verified, kept, lockOptions }
}

const base = { server: '0010', report: 'chat_2', settings, lockWaitMs: 1000 }

describe('pollOperation and the checkpoint topic', () => {
  it('polls on when the binding backs the watermark, after checking it', async () => {
    const op = operation({ watermarkMs: NOW - HOUR })
    const summary = await pollOperation(op.deps, { ...base, startMs: NOW - 2 * HOUR })
    expect(op.verified).toEqual([NOW - HOUR])
    expect(summary.repolled).toBe(false)
    expect(summary.watermark).toBe(new Date(NOW - 120 * S).toISOString())
  })

  it('refuses with POLL_CHECKPOINT_MISSING by default: nothing fetched, the watermark kept', async () => {
    const op = operation({ watermarkMs: NOW - HOUR, refuse: true })
    const error = await pollOperation(op.deps, { ...base, startMs: NOW - 2 * HOUR }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ code: 'POLL_CHECKPOINT_MISSING', retriable: false })
    expect((error as Error).message).toContain('npm run poller -- rebind --server 0010 --from ')
    expect((error as Error).message).toContain('`npm run poller -- rebind --server 0010`')
    expect(op.fetched).toEqual([])
    expect(op.state.get('watermark.chat_2')).toBe(String(NOW - HOUR))
  })

  it('with repoll, starts again at POLL_START as a new operation, publishing what the published set held', async () => {
    const op = operation({ watermarkMs: NOW - HOUR, refuse: true })
    op.published.add(`e${NOW - 90 * 60 * S}`)
    const startMs = NOW - 2 * HOUR
    const summary = await pollOperation(op.deps, {
      ...base,
      startMs,
      onCheckpointMissing: 'repoll',
    })
    expect(summary.repolled).toBe(true)
    expect(summary.window).toEqual({
      from: new Date(startMs).toISOString(),
      to: new Date(NOW - 120 * S).toISOString(),
    })
    // The first checkpoint binds the new log at the second before POLL_START.
    expect(op.checkpoints[0]).toMatchObject({ watermarkMs: startMs - S, fence: 7 })
    expect(op.topic).toContain(`e${NOW - 90 * 60 * S}`)
    expect(op.topic).toHaveLength(119)
  })

  it('never lets an explicit range claim seconds the upstream cannot answer yet', async () => {
    const op = operation({ watermarkMs: NOW - HOUR })
    await expect(
      pollOperation(op.deps, {
        ...base,
        startMs: NOW - 2 * HOUR,
        range: { fromMs: NOW - 5 * HOUR, toMs: NOW + 9 * 60 * S },
      }),
    ).rejects.toMatchObject({ code: 'POLL_RANGE_NOT_SETTLED' })
    expect(op.fetched).toEqual([])
    expect(op.state.get('watermark.chat_2')).toBe(String(NOW - HOUR))
  })

  it('rebind --from moves the watermark back, forgets the published set and ends the refusal', async () => {
    const op = operation({ watermarkMs: NOW - HOUR, refuse: true })
    op.published.add('e1')
    const summary = await rebindOperation(op.deps, { ...base, fromMs: NOW - 3 * HOUR })
    expect(summary).toMatchObject({
      previous: new Date(NOW - HOUR).toISOString(),
      watermark: new Date(NOW - 3 * HOUR - S).toISOString(),
    })
    expect(op.published.size).toBe(0)
    expect(op.checkpoints.map((c) => c.watermarkMs)).toEqual([NOW - 3 * HOUR - S])
    // Bound again: the next poll re-polls from there (less the lookback).
    const next = await pollOperation(op.deps, { ...base, startMs: NOW - 5 * HOUR })
    expect(next.window?.from).toBe(new Date(NOW - 3 * HOUR - 10 * S).toISOString())
  })

  it('rebind without --from accepts the log at the current watermark', async () => {
    const op = operation({ watermarkMs: NOW - HOUR, refuse: true })
    const summary = await rebindOperation(op.deps, base)
    expect(summary.watermark).toBe(new Date(NOW - HOUR).toISOString())
    await expect(
      pollOperation(op.deps, { ...base, startMs: NOW - 5 * HOUR }),
    ).resolves.toMatchObject({ repolled: false })
  })
})

describe('what pollOperation takes from Redis and the topic, hands on and reports', () => {
  it('keeps the watermark Redis holds over an older checkpoint on the topic', async () => {
    const op = operation({ watermarkMs: NOW - HOUR })
    op.deps.recovery = { fromCheckpoints: () => Promise.resolve(NOW - 5 * HOUR) }
    const summary = await pollOperation(op.deps, { ...base, startMs: NOW - 6 * HOUR })
    expect(summary.recovered).toBe(false)
    // The second after the watermark, less the 10 s lookback.
    expect(op.fetched[0]!.fromMs).toBe(NOW - HOUR + S - 10 * S)
    expect(op.verified).toEqual([NOW - HOUR])
  })

  it('counts duplicates, revisions and dead letters in its summary, as the checkpoint does', async () => {
    const op = operation({ watermarkMs: NOW - HOUR })
    // The window's chats: one a minute from NOW - 1 h to NOW - 2 min (59).
    for (const minute of [0, 1, 2]) op.published.add(`e${NOW - HOUR + minute * 60 * S}`)
    const revisedId = `e${NOW - HOUR + 10 * 60 * S}`
    const inMemory = op.deps.published
    op.deps.published = {
      ...inMemory,
      unpublished: async (events) => {
        const due = await inMemory.unpublished(events)
        if (due.has(revisedId)) due.set(revisedId, 'revised')
        return due
      },
    }
    const toEvents = op.deps.toEvents
    op.deps.toEvents = (chats, context) => {
      const made = toEvents(chats, context)
      const bad = (chats as number[]).includes(NOW - HOUR + 20 * 60 * S)
      return {
        ...made,
        deadLetters: bad ? [{ key: 'k-bad', value: Buffer.from(''), reason: 'test' }] : [],
      }
    }
    const summary = await pollOperation(op.deps, { ...base, startMs: NOW - 2 * HOUR })
    expect(summary).toMatchObject({
      fetched: 59,
      published: 56,
      revised: 1,
      duplicates: 3,
      deadLettered: 1,
      splits: 0,
    })
    expect(op.checkpoints.at(-1)).toMatchObject({ duplicates: 3, deadLettered: 1 })
  })

  it("hands the lease's deadline to the upstream call, and keeps the lease after a call that timed out", async () => {
    const op = operation({ watermarkMs: NOW - HOUR })
    const deadlines: (number | undefined)[] = []
    op.deps.source = {
      fetch: (_range, options) => {
        deadlines.push(options.deadline?.())
        return Promise.reject(new AppError('WOLKVOX_TIMEOUT', 'the upstream did not answer'))
      },
    }
    await expect(
      pollOperation(op.deps, { ...base, startMs: NOW - 2 * HOUR }),
    ).rejects.toMatchObject({ code: 'WOLKVOX_TIMEOUT' })
    expect(deadlines).toEqual([NOW + 60 * S])
    expect(op.kept).toEqual([1])
    expect(op.lockOptions).toEqual([{ waitMs: 1000 }])
  })

  it('stops between windows once its stop signal is aborted, the window in flight finished', async () => {
    const op = operation({ watermarkMs: NOW - 3 * HOUR })
    const stop = new AbortController()
    const upstream = op.deps.source
    op.deps.source = {
      fetch: (range, options) => {
        stop.abort()
        return upstream.fetch(range, options)
      },
    }
    const summary = await pollOperation(op.deps, {
      ...base,
      startMs: NOW - 4 * HOUR,
      stop: stop.signal,
    })
    expect(summary.stopped).toBe(true)
    expect(op.fetched).toHaveLength(1)
    expect(op.lockOptions).toEqual([{ waitMs: 1000, signal: stop.signal }])
  })

  it('polls and rebinds without a checkpoint binding', async () => {
    const op = operation({ watermarkMs: NOW - HOUR })
    delete op.deps.binding
    const summary = await pollOperation(op.deps, { ...base, startMs: NOW - 2 * HOUR })
    expect(summary.watermark).toBe(new Date(NOW - 120 * S).toISOString())
    const rebound = await rebindOperation(op.deps, { ...base, fromMs: NOW - 3 * HOUR })
    expect(rebound.watermark).toBe(new Date(NOW - 3 * HOUR - S).toISOString())
    expect(op.verified).toEqual([])
  })

  it('rebinds with the lock wait asked, stamping its checkpoint with its own clock', async () => {
    const op = operation({ watermarkMs: NOW - HOUR, refuse: true })
    await rebindOperation(op.deps, base)
    expect(op.lockOptions).toEqual([{ waitMs: 1000 }])
    expect(op.checkpoints.map((c) => c.atMs)).toEqual([NOW])
  })
})
