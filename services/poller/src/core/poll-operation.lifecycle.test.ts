import { describe, expect, it } from 'vitest'
import type { FencedSetResult, Lease, TokenLock } from '@wolkvox-chat-stream/token-lock'
import {
  checkpointMissingCommands,
  latestSettledMs,
  pollOperation,
  rebindOperation,
  type CheckpointMismatch,
  type PollOperationDeps,
} from './poll-operation.js'
import { memoryPorts } from './memory-ports.test-support.js'

const S = 1000
const MIN = 60 * S
const HOUR = 60 * MIN
// 2025-06-01 12:00:00Z: every expected instant below is written out from it by hand.
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0)
const iso = (ms: number): string => new Date(ms).toISOString()
const settings = { lookbackMs: 10 * S, settleLagMs: 2 * MIN, maxWindowMs: HOUR }
const base = { server: '0010', report: 'chat_2', settings, lockWaitMs: 1000 }

/**
 * One operation in memory, as the token lock, Redis and Kafka would hold it: `state` is Redis (the
 * watermark), `checkpoints` the checkpoint topic, `topic` the event ids published. The upstream
 * has one message a minute. `refuseWrites` makes every fenced write fail with that reason.
 */
function world(
  input: {
    watermarkMs?: number | null
    fromCheckpoints?: number | null
    refuseWrites?: 'lease_lost' | 'stale_fence' | 'conflict'
    busy?: { waitMs: number; reason: 'busy' | 'quarantine' }
    mismatch?: CheckpointMismatch
  } = {},
) {
  const state = new Map<string, string>()
  if (input.watermarkMs != null) state.set('watermark.chat_2', String(input.watermarkMs))
  const log: string[] = []
  let mismatch = input.mismatch ?? null
  const controller = new AbortController()
  const lease: Lease = {
    fence: 7,
    signal: controller.signal,
    deadline: () => NOW + MIN,
    keepAfterAbortedCall: () => void log.push('kept'),
    fencedSet: (name, value, expected): Promise<FencedSetResult> => {
      log.push(`set ${name}=${value}${expected === undefined ? '' : ` if ${expected}`}`)
      if (input.refuseWrites) return Promise.resolve({ ok: false, reason: input.refuseWrites })
      if (expected !== undefined && state.get(name) !== expected)
        return Promise.resolve({ ok: false, reason: 'conflict' })
      state.set(name, value)
      return Promise.resolve({ ok: true })
    },
    readState: (name) => Promise.resolve(state.get(name) ?? null),
  }
  const waits: { waitMs: number; signal?: AbortSignal }[] = []
  const lock = {
    withLock: async (
      options: { waitMs: number; signal?: AbortSignal },
      work: (signal: AbortSignal, fence: number, lease: Lease) => Promise<unknown>,
    ) => {
      waits.push(options)
      if (input.busy) return { status: 'busy', ...input.busy }
      return {
        status: 'done',
        value: await work(lease.signal, lease.fence, lease),
        fence: 7,
        waitMs: 0,
        heldMs: 0,
      }
    },
  } as unknown as TokenLock
  const memory = memoryPorts({ onClear: () => void log.push('published cleared') })
  const { checkpoints, topic, published, fetched, signals } = memory
  const deps: PollOperationDeps = {
    lock,
    clock: () => NOW,
    ...memory.ports,
    recovery: { fromCheckpoints: () => Promise.resolve(input.fromCheckpoints ?? null) },
    binding: {
      verify: () => Promise.resolve(mismatch),
      forget: () => {
        log.push('forgot')
        return Promise.resolve()
      },
      resolved: () => {
        log.push('resolved')
        mismatch = null
        return Promise.resolve()
      },
    },
  }
  return { deps, state, checkpoints, topic, published, fetched, signals, log, waits, controller }
}

const failure = async (promise: Promise<unknown>): Promise<Error & Record<string, unknown>> => {
  try {
    await promise
  } catch (error) {
    return error as Error & Record<string, unknown>
  }
  throw new Error('expected the poll to fail')
}

describe('one poll of an operation, as `once` reports it', () => {
  it('prints every figure of a poll: the window, the counts, the new watermark, the fence', async () => {
    const w = world({ watermarkMs: NOW - HOUR })
    const summary = await pollOperation(w.deps, { ...base, startMs: NOW - 5 * HOUR })
    // From the watermark (11:00:00) + 1 s - 10 s lookback = 10:59:51 to now - 2 min = 11:58:00:
    // one request (under an hour), the 59 minutes 11:00 … 11:58 each a message.
    expect(summary).toEqual({
      server: '0010',
      window: { from: '2025-06-01T10:59:51.000Z', to: '2025-06-01T11:58:00.000Z' },
      fetched: 59,
      published: 59,
      revised: 0,
      duplicates: 0,
      deadLettered: 0,
      splits: 0,
      requests: 1,
      watermark: '2025-06-01T11:58:00.000Z',
      recovered: false,
      repolled: false,
      fence: 7,
      durationMs: 0,
      stopped: false,
    })
    expect(w.state.get('watermark.chat_2')).toBe(String(NOW - 2 * MIN))
    // A compare-and-set against the watermark read at the start.
    expect(w.log).toEqual([`set watermark.chat_2=${NOW - 2 * MIN} if ${NOW - HOUR}`])
    expect(w.waits).toEqual([{ waitMs: 1000 }])
  })

  it('reports nothing due, and keeps the watermark, inside the settle lag', async () => {
    const w = world({ watermarkMs: NOW - 2 * MIN })
    // 11:58:00 + 1 s - 10 s = 11:57:51 … 11:58:00 is due with the lookback: with none, nothing.
    const summary = await pollOperation(w.deps, {
      ...base,
      settings: { ...settings, lookbackMs: 0 },
      startMs: 0,
    })
    expect(summary).toMatchObject({
      window: null,
      fetched: 0,
      published: 0,
      requests: 0,
      watermark: '2025-06-01T11:58:00.000Z',
      recovered: false,
      repolled: false,
      fence: 7,
      stopped: false,
    })
    expect(w.fetched).toEqual([])
  })

  it('starts a new operation at POLL_START and moves its watermark to the end', async () => {
    const w = world()
    const summary = await pollOperation(w.deps, { ...base, startMs: NOW - 30 * MIN })
    expect(summary.window).toEqual({
      from: '2025-06-01T11:30:00.000Z',
      to: '2025-06-01T11:58:00.000Z',
    })
    expect(summary).toMatchObject({
      published: 29,
      recovered: false,
      watermark: iso(NOW - 2 * MIN),
    })
    // A new operation has no watermark to compare with.
    expect(w.log).toEqual([`set watermark.chat_2=${NOW - 2 * MIN}`])
  })

  it('recovers a watermark Redis lost from the checkpoint topic, and polls on from it', async () => {
    const w = world({ fromCheckpoints: NOW - 20 * MIN })
    const summary = await pollOperation(w.deps, { ...base, startMs: NOW - 5 * HOUR })
    expect(summary).toMatchObject({
      recovered: true,
      // 11:40:00 + 1 s - 10 s.
      window: { from: '2025-06-01T11:39:51.000Z', to: '2025-06-01T11:58:00.000Z' },
      watermark: iso(NOW - 2 * MIN),
    })
    expect(w.log[0]).toBe(`set watermark.chat_2=${NOW - 20 * MIN}`)
    expect(w.fetched).toEqual([{ fromMs: NOW - 20 * MIN - 9 * S, toMs: NOW - 2 * MIN }])
  })

  it('refuses to poll when restoring the recovered watermark is refused', async () => {
    const w = world({ fromCheckpoints: NOW - 20 * MIN, refuseWrites: 'stale_fence' })
    const error = await failure(pollOperation(w.deps, { ...base, startMs: NOW - 5 * HOUR }))
    expect(error).toMatchObject({
      code: 'POLL_WATERMARK_REJECTED',
      message: 'Restoring the watermark was refused (stale_fence)',
    })
    expect(w.fetched).toEqual([])
  })

  it('fails the poll, the watermark unmoved, when the watermark write is refused', async () => {
    const w = world({ watermarkMs: NOW - HOUR, refuseWrites: 'lease_lost' })
    const error = await failure(pollOperation(w.deps, { ...base, startMs: 0 }))
    expect(error).toMatchObject({ code: 'POLL_WATERMARK_REJECTED', retriable: true })
    expect(w.state.get('watermark.chat_2')).toBe(String(NOW - HOUR))
  })

  it('says how long the token stayed busy, and why', async () => {
    const w = world({ watermarkMs: NOW - HOUR, busy: { waitMs: 1500, reason: 'quarantine' } })
    const error = await failure(pollOperation(w.deps, { ...base, startMs: 0 }))
    expect(error).toMatchObject({
      code: 'POLL_LOCK_BUSY',
      message: 'The token of operation 0010 stayed busy for 1500 ms (quarantine)',
      details: { server: '0010', reason: 'quarantine' },
    })
    const rebind = await failure(rebindOperation(w.deps, base))
    expect(rebind).toMatchObject({
      code: 'POLL_LOCK_BUSY',
      message: 'The token of operation 0010 stayed busy for 1500 ms (quarantine)',
      details: { server: '0010', reason: 'quarantine' },
    })
  })

  it('starts no window once the poller is stopping or abandons the poll', async () => {
    for (const which of ['stop', 'abandon'] as const) {
      const w = world({ watermarkMs: NOW - HOUR })
      const signal = AbortSignal.abort()
      const error = await failure(pollOperation(w.deps, { ...base, startMs: 0, [which]: signal }))
      expect(error, which).toMatchObject({
        code: 'POLL_STOPPED',
        retriable: true,
        message: 'The poller is stopping; the window was not started',
        details: { server: '0010' },
      })
      expect(w.fetched).toEqual([])
    }
  })

  it('waits for the lock no longer than a graceful stop allows', async () => {
    const w = world({ watermarkMs: NOW - HOUR })
    const stop = new AbortController()
    await pollOperation(w.deps, { ...base, startMs: 0, stop: stop.signal })
    expect(w.waits).toEqual([{ waitMs: 1000, signal: stop.signal }])
  })

  it('aborts the call in flight when the poll is abandoned, and only then', async () => {
    const w = world({ watermarkMs: NOW - HOUR })
    const abandon = new AbortController()
    await pollOperation(w.deps, { ...base, startMs: 0, abandon: abandon.signal })
    const [signal] = w.signals
    expect(signal!.aborted).toBe(false)
    abandon.abort()
    expect(signal!.aborted).toBe(true)
    // Without `abandon`, the call runs under the lease's own signal.
    const plain = world({ watermarkMs: NOW - HOUR })
    await pollOperation(plain.deps, { ...base, startMs: 0 })
    expect(plain.signals[0]!.aborted).toBe(false)
    plain.controller.abort()
    expect(plain.signals[0]!.aborted).toBe(true)
  })
})

describe('explicit ranges (`once --from --to`)', () => {
  it('accepts a range ending exactly at now less the settle lag', async () => {
    const w = world({ watermarkMs: NOW - HOUR })
    const summary = await pollOperation(w.deps, {
      ...base,
      startMs: 0,
      range: { fromMs: NOW - 30 * MIN, toMs: NOW - 2 * MIN },
    })
    expect(summary.window).toEqual({
      from: '2025-06-01T11:30:00.000Z',
      to: '2025-06-01T11:58:00.000Z',
    })
  })

  it('refuses a range one second later, saying until when it may end', async () => {
    const w = world({ watermarkMs: NOW - HOUR })
    const error = await failure(
      pollOperation(w.deps, {
        ...base,
        startMs: 0,
        range: { fromMs: NOW - 30 * MIN, toMs: NOW - 2 * MIN + S },
      }),
    )
    expect(error).toMatchObject({
      code: 'POLL_RANGE_NOT_SETTLED',
      message:
        'The range ends at 2025-06-01T11:58:01.000Z, after now less POLL_SETTLE_LAG (2025-06-01T11:58:00.000Z): the upstream cannot answer it yet; end it by 2025-06-01T11:58:00.000Z (the live schedule polls the rest)',
      details: { server: '0010', toMs: NOW - 2 * MIN + S, latestMs: NOW - 2 * MIN },
    })
  })

  it('never starts a new operation watermark from an explicit range', async () => {
    const w = world()
    const summary = await pollOperation(w.deps, {
      ...base,
      startMs: 0,
      range: { fromMs: NOW - 30 * MIN, toMs: NOW - 20 * MIN },
    })
    expect(summary).toMatchObject({ published: 11, watermark: null })
    expect(w.state.has('watermark.chat_2')).toBe(false)
  })

  it('moves an existing watermark over an explicit range that continues it', async () => {
    const w = world({ watermarkMs: NOW - 30 * MIN - S })
    const summary = await pollOperation(w.deps, {
      ...base,
      startMs: 0,
      range: { fromMs: NOW - 30 * MIN, toMs: NOW - 20 * MIN },
    })
    expect(summary.watermark).toBe('2025-06-01T11:40:00.000Z')
  })

  it('gives the last second an explicit range may end at, in whole seconds', () => {
    // 10.5 s less a 2.7 s lag: 10 s less 2 s.
    expect(latestSettledMs(10_500, 2_700)).toBe(8_000)
    expect(latestSettledMs(NOW + 999, 120_000)).toBe(NOW - 2 * MIN)
  })
})

describe('a watermark the checkpoint topic does not back', () => {
  const refusal = (over: Partial<CheckpointMismatch>): CheckpointMismatch => ({
    watermarkMs: NOW - HOUR,
    topicWatermarkMs: null,
    cluster: null,
    reason: 'missing',
    sinceMs: NOW,
    ...over,
  })

  it.each([
    [
      refusal({ topicWatermarkMs: NOW - 2 * HOUR, cluster: 'c9', reason: 'older' }),
      ' of cluster c9 (only checkpoints up to 2025-06-01T10:00:00.000Z)',
    ],
    [refusal({}), ' (no checkpoint of the operation)'],
    [
      refusal({ reason: 'log-replaced', cluster: 'c2' }),
      ' of cluster c2 (a checkpoint just written landed in another log than the previous one (the topic or the cluster was replaced))',
    ],
  ])('explains what the topic holds and how to resolve it (%#)', async (mismatch, found) => {
    const w = world({ watermarkMs: NOW - HOUR, mismatch })
    const error = await failure(pollOperation(w.deps, { ...base, startMs: NOW - 5 * HOUR }))
    expect(error).toMatchObject({
      code: 'POLL_CHECKPOINT_MISSING',
      message: `Operation 0010: the watermark 2025-06-01T11:00:00.000Z is not backed by the checkpoint topic wolkvox.poller.checkpoint.v1${found}, so messages up to it may be missing from this Kafka log; polling is stopped. Re-poll from a time (any time; POLL_START shown) with \`npm run poller -- rebind --server 0010 --from 2025-06-01T07:00:00.000Z\`, or accept this log as starting at the watermark with \`npm run poller -- rebind --server 0010\`. Or set POLL_ON_CHECKPOINT_MISSING=repoll.`,
      details: {
        server: '0010',
        reason: mismatch.reason,
        watermarkMs: NOW - HOUR,
        topicWatermarkMs: mismatch.topicWatermarkMs,
        cluster: mismatch.cluster,
      },
    })
  })

  it('lists the two commands that resolve it', () => {
    expect(checkpointMissingCommands('0042', NOW)).toEqual([
      'npm run poller -- rebind --server 0042 --from 2025-06-01T12:00:00.000Z',
      'npm run poller -- rebind --server 0042',
    ])
  })

  it('with repoll, binds the new log at the second before POLL_START, in order, then polls from it', async () => {
    const w = world({ watermarkMs: NOW - HOUR, mismatch: refusal({}) })
    const startMs = NOW - 30 * MIN
    const summary = await pollOperation(w.deps, {
      ...base,
      startMs,
      onCheckpointMissing: 'repoll',
    })
    expect(summary).toMatchObject({ repolled: true, recovered: false, published: 29 })
    expect(w.checkpoints[0]).toEqual({
      watermarkMs: startMs - S,
      window: { fromMs: startMs - S, toMs: startMs - S },
      fetched: 0,
      published: 0,
      duplicates: 0,
      deadLettered: 0,
      splits: 0,
      fence: 7,
      atMs: NOW,
    })
    expect(w.log.slice(0, 4)).toEqual([
      'published cleared',
      'forgot',
      `set watermark.chat_2=${startMs - S}`,
      'resolved',
    ])
  })

  it('does not check a watermark it just recovered from the topic', async () => {
    const w = world({ fromCheckpoints: NOW - 20 * MIN, mismatch: refusal({}) })
    await expect(
      pollOperation(w.deps, { ...base, startMs: NOW - 5 * HOUR }),
    ).resolves.toMatchObject({ recovered: true, repolled: false })
  })
})

describe('rebind', () => {
  it('moves the watermark to the second before a --from given within a second', async () => {
    const w = world({ watermarkMs: NOW - HOUR })
    const summary = await rebindOperation(w.deps, { ...base, fromMs: NOW - 3 * HOUR + 999 })
    expect(summary).toEqual({
      server: '0010',
      previous: '2025-06-01T11:00:00.000Z',
      watermark: '2025-06-01T08:59:59.000Z',
      fence: 7,
    })
    expect(w.state.get('watermark.chat_2')).toBe(String(NOW - 3 * HOUR - S))
  })

  it('refuses to accept a log for an operation without a watermark', async () => {
    const w = world()
    const error = await failure(rebindOperation(w.deps, base))
    expect(error).toMatchObject({
      code: 'CONFIG_INVALID',
      message:
        'Operation 0010 has no watermark: there is nothing to accept (its first poll starts at POLL_START); give --from T to start it at T',
    })
    expect(w.checkpoints).toEqual([])
  })

  it('fails, retriable, when the new watermark cannot be written', async () => {
    const w = world({ watermarkMs: NOW - HOUR, refuseWrites: 'lease_lost' })
    const error = await failure(rebindOperation(w.deps, base))
    expect(error).toMatchObject({
      code: 'POLL_WATERMARK_REJECTED',
      retriable: true,
      message: 'Setting the watermark was refused (lease_lost)',
      details: { reason: 'lease_lost' },
    })
    // The refusal is not ended by a bind that did not happen.
    expect(w.log).not.toContain('resolved')
  })
})
