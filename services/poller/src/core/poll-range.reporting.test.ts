import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { Range } from '../window.js'
import type {
  Checkpoint,
  ChatSource,
  EventFactory,
  EventRevision,
  OutgoingEvent,
  PollLease,
  PollObserver,
} from './ports.js'
import { emptyStats, pollRange } from './poll-range.js'

const S = 1000
const MIN = 60 * S

/**
 * An upstream with one chat per minute, each chat a conversation of `perChat` messages (the real
 * shape: one item per conversation). `truncateWhen` caps the ranges it says yes to.
 */
function upstream(
  options: {
    perChat?: number
    truncateWhen?: (range: Range) => boolean
    fail?: (range: Range) => Error | undefined
  } = {},
): ChatSource & { calls: Range[] } {
  const calls: Range[] = []
  return {
    calls,
    fetch: (range) => {
      calls.push(range)
      const failure = options.fail?.(range)
      if (failure !== undefined) return Promise.reject(failure)
      const chats: unknown[] = []
      for (let t = Math.ceil(range.fromMs / MIN) * MIN; t <= range.toMs; t += MIN)
        chats.push({
          at: t,
          conversation: Array.from({ length: options.perChat ?? 1 }, (_, i) => `${t}-${i}`),
        })
      return Promise.resolve({
        chats,
        truncated: options.truncateWhen?.(range) ?? false,
        bytes: 10 * chats.length,
      })
    },
  }
}

/** One event per message of a chat; `deadEvery` chats (by minute) are dead letters instead. */
const toEvents =
  (deadEvery = 0): EventFactory =>
  (chats) => {
    const events: OutgoingEvent[] = []
    const deadLetters: { key: string; value: Buffer; reason: string }[] = []
    let fetchedMessages = 0
    for (const chat of chats as { at: number; conversation: string[] }[]) {
      fetchedMessages += chat.conversation.length
      if (deadEvery > 0 && (chat.at / MIN) % deadEvery === 0) {
        deadLetters.push({ key: `k${chat.at}`, value: Buffer.from(''), reason: 'bad' })
        continue
      }
      for (const id of chat.conversation)
        events.push({ eventId: id, revision: 'r0', key: `k${chat.at}`, value: Buffer.from(id) })
    }
    return { events, deadLetters, fetchedMessages }
  }

function harness(input: { watermarkMs?: number | null; refuse?: 'conflict' | 'lease_lost' } = {}) {
  const published = new Set<string>()
  const batches: number[] = []
  const checkpoints: Checkpoint[] = []
  const requests: [string, number, number][] = []
  const splits: Range[] = []
  const watermarks: number[] = []
  const counts: Parameters<NonNullable<PollObserver['onPublished']>>[0][] = []
  let kept = 0
  let watermark = input.watermarkMs ?? null
  const controller = new AbortController()
  const lease: PollLease = {
    signal: controller.signal,
    fence: 42,
    deadline: () => Date.now() + MIN,
    keepAfterAbortedCall: () => void kept++,
    advanceWatermark: (toMs) => {
      if (input.refuse) return Promise.resolve(input.refuse)
      watermark = toMs
      return Promise.resolve('ok')
    },
  }
  const observer: PollObserver = {
    onRequest: (outcome, durationMs, bytes) => void requests.push([outcome, durationMs, bytes]),
    onSplit: (range) => void splits.push(range),
    onWatermark: (ms) => void watermarks.push(ms),
    onPublished: (c) => void counts.push(c),
  }
  // The clock moves 5 ms each time it is read: durations are differences of two reads.
  let now = 1_000_000
  const deps = {
    toEvents: toEvents(),
    clock: () => (now += 5),
    observer,
    sink: {
      publish: (events: readonly OutgoingEvent[]) => {
        batches.push(events.length)
        return Promise.resolve()
      },
      checkpoint: (c: Checkpoint) => {
        checkpoints.push(c)
        return Promise.resolve()
      },
    },
    published: {
      unpublished: (events: readonly EventRevision[]) =>
        Promise.resolve(
          new Map(
            events.filter((e) => !published.has(e.eventId)).map((e) => [e.eventId, 'new'] as const),
          ),
        ),
      add: (events: readonly EventRevision[]) => {
        for (const e of events) published.add(e.eventId)
        return Promise.resolve()
      },
      clear: () => Promise.resolve(),
    },
  }
  return {
    deps,
    lease,
    controller,
    published,
    batches,
    checkpoints,
    requests,
    splits,
    watermarks,
    counts,
    kept: () => kept,
    watermark: () => watermark,
  }
}

describe('what a poll of a range reports', () => {
  it('starts from zero', () => {
    expect(emptyStats()).toEqual({
      fetched: 0,
      published: 0,
      revised: 0,
      duplicates: 0,
      deadLettered: 0,
      splits: 0,
      requests: 0,
    })
  })

  it('checkpoints each window with its own counts, the fence and the time, then moves the watermark', async () => {
    const h = harness()
    // 00:00 … 00:19:59 in 10-minute windows: 10 chats of 3 messages each per window, every 5th
    // minute's chat a dead letter (2 per window).
    const result = await pollRange(
      { ...h.deps, source: upstream({ perChat: 3 }), toEvents: toEvents(5) },
      {
        range: { fromMs: 0, toMs: 20 * MIN - S },
        maxWindowMs: 10 * MIN,
        lease: h.lease,
        watermarkMs: null,
      },
    )
    const window = (fromMs: number): Omit<Checkpoint, 'atMs'> =>
      ({
        watermarkMs: fromMs + 10 * MIN - S,
        window: { fromMs, toMs: fromMs + 10 * MIN - S },
        fetched: 30,
        published: 24,
        revised: 0,
        duplicates: 0,
        deadLettered: 2,
        splits: 0,
        requests: 1,
        fence: 42,
      }) as Omit<Checkpoint, 'atMs'>
    expect(h.checkpoints).toMatchObject([window(0), window(10 * MIN)])
    // The time of a checkpoint is the clock's when it is written: later for the later window.
    expect(h.checkpoints[1]!.atMs).toBeGreaterThan(h.checkpoints[0]!.atMs)
    expect(h.watermarks).toEqual([10 * MIN - S, 20 * MIN - S])
    expect(result).toEqual({
      fetched: 60,
      published: 48,
      revised: 0,
      duplicates: 0,
      deadLettered: 4,
      splits: 0,
      requests: 2,
      watermarkMs: 20 * MIN - S,
      stopped: false,
    })
    expect(h.counts).toEqual([
      { published: 24, revised: 0, duplicates: 0, deadLettered: 2, fetched: 30 },
      { published: 24, revised: 0, duplicates: 0, deadLettered: 2, fetched: 30 },
    ])
  })

  it('reports each request with its outcome, its duration and its size', async () => {
    const h = harness()
    await pollRange(
      { ...h.deps, source: upstream() },
      {
        range: { fromMs: 0, toMs: 10 * MIN - S },
        maxWindowMs: 10 * MIN,
        lease: h.lease,
        watermarkMs: null,
      },
    )
    // Ten chats of ten bytes; the clock moved once in between (5 ms).
    expect(h.requests).toEqual([['ok', 5, 100]])
    const failing = harness()
    await expect(
      pollRange(
        {
          ...failing.deps,
          source: upstream({ fail: () => new AppError('WOLKVOX_SERVER_ERROR', 'upstream 500') }),
        },
        {
          range: { fromMs: 0, toMs: 10 * MIN - S },
          maxWindowMs: 10 * MIN,
          lease: failing.lease,
          watermarkMs: null,
        },
      ),
    ).rejects.toMatchObject({ code: 'WOLKVOX_SERVER_ERROR' })
    expect(failing.requests).toEqual([['WOLKVOX_SERVER_ERROR', 5, 0]])
    // A failure that is not an AppError is counted as UNKNOWN, and the token is not kept.
    const odd = harness()
    await expect(
      pollRange(
        { ...odd.deps, source: upstream({ fail: () => new Error('socket hang up') }) },
        {
          range: { fromMs: 0, toMs: 10 * MIN - S },
          maxWindowMs: 10 * MIN,
          lease: odd.lease,
          watermarkMs: null,
        },
      ),
    ).rejects.toThrow('socket hang up')
    expect(odd.requests).toEqual([['UNKNOWN', 5, 0]])
    expect(odd.kept()).toBe(0)
  })

  it('keeps the token busy after a timed-out or aborted call, not after another failure', async () => {
    for (const [code, kept] of [
      ['WOLKVOX_TIMEOUT', 1],
      ['WOLKVOX_ABORTED', 1],
      ['WOLKVOX_SERVER_ERROR', 0],
    ] as const) {
      const h = harness()
      await expect(
        pollRange(
          { ...h.deps, source: upstream({ fail: () => new AppError(code, 'x') }) },
          { range: { fromMs: 0, toMs: MIN }, maxWindowMs: MIN, lease: h.lease, watermarkMs: null },
        ),
      ).rejects.toMatchObject({ code })
      expect(h.kept(), code).toBe(kept)
    }
  })

  it('starts no request once the lease is lost', async () => {
    const h = harness()
    const source = upstream()
    h.controller.abort(new AppError('LOCK_LEASE_LOST', 'lost'))
    await expect(
      pollRange(
        { ...h.deps, source },
        { range: { fromMs: 0, toMs: MIN }, maxWindowMs: MIN, lease: h.lease, watermarkMs: null },
      ),
    ).rejects.toMatchObject({ code: 'LOCK_LEASE_LOST' })
    expect(source.calls).toEqual([])
  })

  it('reports each split range, and refuses a single second that is still capped', async () => {
    const h = harness()
    // Capped while longer than a minute: 0 … 3:59 splits into 0 … 1:59 and 2:00 … 3:59, each split
    // again into one-minute ranges.
    const result = await pollRange(
      { ...h.deps, source: upstream({ truncateWhen: (r) => r.toMs - r.fromMs >= MIN }) },
      {
        range: { fromMs: 0, toMs: 4 * MIN - S },
        maxWindowMs: 4 * MIN,
        lease: h.lease,
        watermarkMs: null,
      },
    )
    expect(h.splits).toEqual([
      { fromMs: 0, toMs: 4 * MIN - S },
      { fromMs: 0, toMs: 2 * MIN - S },
      { fromMs: 2 * MIN, toMs: 4 * MIN - S },
    ])
    expect(result).toMatchObject({ splits: 3, requests: 7, published: 4 })
    const capped = harness()
    const error = await pollRange(
      { ...capped.deps, source: upstream({ truncateWhen: () => true }) },
      { range: { fromMs: 0, toMs: S }, maxWindowMs: MIN, lease: capped.lease, watermarkMs: null },
    ).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'POLL_WINDOW_UNSPLITTABLE',
      retriable: false,
      message: 'A one-second window still hits the upstream cap; it cannot be split further',
      details: { fromMs: 0 },
    })
    expect(capped.watermark()).toBeNull()
  })

  it('says why the watermark did not move when the compare-and-set is refused', async () => {
    const h = harness({ refuse: 'conflict' })
    const error = await pollRange(
      { ...h.deps, source: upstream() },
      { range: { fromMs: 0, toMs: MIN }, maxWindowMs: MIN, lease: h.lease, watermarkMs: null },
    ).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'POLL_WATERMARK_REJECTED',
      retriable: true,
      message: 'The watermark write was refused (conflict); the window will be polled again',
      details: { outcome: 'conflict' },
    })
    expect(h.watermarks).toEqual([])
  })

  it('moves the watermark over windows that continue it, not over one behind it or past a gap', async () => {
    // The watermark at 0:59: a window ending at or before it leaves it alone, one starting at
    // 1:00 continues it. Each poll is of one window, from a harness of its own.
    const poll = async (range: Range, mayAdvance?: () => boolean) => {
      const h = harness({ watermarkMs: MIN - S })
      const result = await pollRange(
        { ...h.deps, source: upstream() },
        { range, maxWindowMs: MIN, lease: h.lease, watermarkMs: MIN - S, mayAdvance },
      )
      return { ...result, checkpoints: h.checkpoints }
    }
    const behind = await poll({ fromMs: 0, toMs: MIN - S })
    expect(behind.watermarkMs).toBe(MIN - S)
    expect(behind.checkpoints).toEqual([])
    expect((await poll({ fromMs: MIN, toMs: 2 * MIN - S })).watermarkMs).toBe(2 * MIN - S)
    // One second after the watermark's next one is a gap: polled, but the watermark stays.
    const gap = await poll({ fromMs: MIN + S, toMs: 2 * MIN - S })
    expect(gap.watermarkMs).toBe(MIN - S)
    expect(gap.checkpoints).toEqual([])
    expect(gap.published).toBe(0)
    // A caller may forbid a move even where it would continue the watermark…
    const held = await poll({ fromMs: MIN, toMs: 2 * MIN - S }, () => false)
    expect(held.watermarkMs).toBe(MIN - S)
    // …and cannot allow one over a gap.
    const forced = await poll({ fromMs: MIN + S, toMs: 2 * MIN - S }, () => true)
    expect(forced.watermarkMs).toBe(MIN - S)
  })

  it('stops before the first window when asked to before it starts', async () => {
    const h = harness()
    const source = upstream()
    const result = await pollRange(
      { ...h.deps, source },
      {
        range: { fromMs: 0, toMs: 2 * MIN },
        maxWindowMs: MIN,
        lease: h.lease,
        watermarkMs: null,
        stop: AbortSignal.abort(),
      },
    )
    expect(result).toEqual({ ...emptyStats(), watermarkMs: null, stopped: true })
    expect(source.calls).toEqual([])
  })
})

describe('publishing a long response chunk by chunk', () => {
  it('sends a first chunk of 1,000 messages, then chunks of 5,000, counting conversations by their messages', async () => {
    const h = harness()
    // 200 chats of 40 messages (8,000): chunks close at the chat that reaches the size, so the
    // first holds 25 chats (1,000 messages) and the next 125 chats (5,000), then the rest.
    const result = await pollRange(
      { ...h.deps, source: upstream({ perChat: 40 }) },
      {
        range: { fromMs: 0, toMs: 200 * MIN - S },
        maxWindowMs: 200 * MIN,
        lease: h.lease,
        watermarkMs: null,
      },
    )
    expect(h.batches).toEqual([1000, 5000, 2000])
    expect(result).toMatchObject({ fetched: 8000, published: 8000 })
  })

  it('counts a chat that is not a conversation as one message', async () => {
    const h = harness()
    const source: ChatSource = {
      fetch: () =>
        Promise.resolve({
          chats: Array.from({ length: 1500 }, (_, i) => ({ at: i })),
          truncated: false,
          bytes: 1,
        }),
    }
    const plain: EventFactory = (chats) => ({
      events: (chats as { at: number }[]).map((c) => ({
        eventId: `p${c.at}`,
        revision: 'r0',
        key: 'k',
        value: Buffer.from(''),
      })),
      deadLetters: [],
      fetchedMessages: chats.length,
    })
    await pollRange(
      { ...h.deps, source, toEvents: plain },
      { range: { fromMs: 0, toMs: MIN }, maxWindowMs: MIN, lease: h.lease, watermarkMs: null },
    )
    expect(h.batches).toEqual([1000, 500])
  })

  it('fails the window with the error a send rejected with, even when it is not an Error', async () => {
    const h = harness()
    const sink = {
      ...h.deps.sink,
      // A client may reject with a bare string: the window must still fail with an Error.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      publish: () => Promise.reject('broker gone'),
    }
    await expect(
      pollRange(
        { ...h.deps, sink, source: upstream({ perChat: 40 }) },
        {
          range: { fromMs: 0, toMs: 200 * MIN - S },
          maxWindowMs: 200 * MIN,
          lease: h.lease,
          watermarkMs: null,
        },
      ),
    ).rejects.toThrow(new Error('broker gone'))
    expect(h.checkpoints).toEqual([])
  })

  it('publishes nothing more once the lease is lost between two chunks', async () => {
    const h = harness()
    const sink = {
      ...h.deps.sink,
      publish: (events: readonly OutgoingEvent[]) => {
        h.batches.push(events.length)
        h.controller.abort(new AppError('LOCK_LEASE_LOST', 'lost'))
        return Promise.resolve()
      },
    }
    await expect(
      pollRange(
        { ...h.deps, sink, source: upstream({ perChat: 40 }) },
        {
          range: { fromMs: 0, toMs: 200 * MIN - S },
          maxWindowMs: 200 * MIN,
          lease: h.lease,
          watermarkMs: null,
        },
      ),
    ).rejects.toMatchObject({ code: 'LOCK_LEASE_LOST' })
    expect(h.batches).toEqual([1000])
  })
})

describe('what the core hands the upstream and the event factory', () => {
  it('gives the source the lease deadline, and the factory the window and the poll time', async () => {
    const h = harness()
    const deadlines: number[] = []
    const contexts: { window: Range; polledAtMs: number }[] = []
    const inner = upstream()
    const source: ChatSource = {
      fetch: (range, options) => {
        deadlines.push(options.deadline())
        return inner.fetch(range, options)
      },
    }
    const lease: PollLease = { ...h.lease, deadline: () => 4_242 }
    await pollRange(
      {
        ...h.deps,
        clock: () => 7_000,
        source,
        toEvents: (chats, context) => {
          contexts.push(context)
          return toEvents()(chats, context)
        },
      },
      { range: { fromMs: 0, toMs: 2 * MIN - S }, maxWindowMs: MIN, lease, watermarkMs: null },
    )
    expect(deadlines).toEqual([4_242, 4_242])
    // The poll time is the clock's when the chats arrived (a fixed clock here).
    expect(contexts).toEqual([
      { window: { fromMs: 0, toMs: MIN - S }, polledAtMs: 7_000 },
      { window: { fromMs: MIN, toMs: 2 * MIN - S }, polledAtMs: 7_000 },
    ])
  })

  it('needs no observer method: a split and a failure with an empty observer', async () => {
    const h = harness()
    const result = await pollRange(
      {
        ...h.deps,
        observer: {},
        source: upstream({ truncateWhen: (r) => r.toMs - r.fromMs >= MIN }),
      },
      {
        range: { fromMs: 0, toMs: 2 * MIN - S },
        maxWindowMs: 2 * MIN,
        lease: h.lease,
        watermarkMs: null,
      },
    )
    expect(result).toMatchObject({ splits: 1, published: 2, watermarkMs: 2 * MIN - S })
    await expect(
      pollRange(
        {
          ...h.deps,
          observer: {},
          source: upstream({ fail: () => new AppError('WOLKVOX_SERVER_ERROR', 'x') }),
        },
        { range: { fromMs: 0, toMs: MIN }, maxWindowMs: MIN, lease: h.lease, watermarkMs: null },
      ),
    ).rejects.toMatchObject({ code: 'WOLKVOX_SERVER_ERROR' })
  })

  it('passes a null row on to the event factory, counted as one message', async () => {
    const h = harness()
    const seen: unknown[][] = []
    const source: ChatSource = {
      fetch: () => Promise.resolve({ chats: [null, null], truncated: false, bytes: 1 }),
    }
    await pollRange(
      {
        ...h.deps,
        source,
        toEvents: (chats) => {
          seen.push([...chats])
          return { events: [], deadLetters: [], fetchedMessages: chats.length }
        },
      },
      { range: { fromMs: 0, toMs: MIN }, maxWindowMs: MIN, lease: h.lease, watermarkMs: null },
    )
    expect(seen).toEqual([[null, null]])
  })

  it('reports a call the lease cut off as LOCK_LEASE_LOST only when the client says it was aborted', async () => {
    const h = harness()
    const source: ChatSource = {
      fetch: () => {
        h.controller.abort(new AppError('LOCK_LEASE_LOST', 'lost'))
        return Promise.reject(new AppError('WOLKVOX_TIMEOUT', 'too slow'))
      },
    }
    await expect(
      pollRange(
        { ...h.deps, source },
        { range: { fromMs: 0, toMs: MIN }, maxWindowMs: MIN, lease: h.lease, watermarkMs: null },
      ),
    ).rejects.toMatchObject({ code: 'WOLKVOX_TIMEOUT' })
    expect(h.kept()).toBe(1)
  })

  it('sends no further chunk once a send failed', async () => {
    const h = harness()
    let sends = 0
    const sink = {
      ...h.deps.sink,
      publish: () => {
        sends++
        return Promise.reject(new Error('broker gone'))
      },
    }
    await expect(
      pollRange(
        { ...h.deps, sink, source: upstream({ perChat: 40 }) },
        {
          range: { fromMs: 0, toMs: 200 * MIN - S },
          maxWindowMs: 200 * MIN,
          lease: h.lease,
          watermarkMs: null,
        },
      ),
    ).rejects.toThrow('broker gone')
    // 8,000 messages are three chunks: the first send failed, so the second never went.
    expect(sends).toBe(1)
  })

  it('lets a retry inside the source wait until the chats already sent are recorded', async () => {
    const h = harness()
    // Recording in the published set takes a while (Redis far away).
    const slowAdd = (events: readonly EventRevision[]): Promise<void> =>
      new Promise((resolve) =>
        setTimeout(() => {
          for (const e of events) h.published.add(e.eventId)
          resolve()
        }, 20),
      )
    const sent: string[] = []
    let calls = 0
    const source: ChatSource = {
      fetch: async (range, { stream }) => {
        const { chats } = await upstream({ perChat: 1 }).fetch(range, {
          signal: h.lease.signal,
          deadline: () => 0,
        })
        if (calls++ === 0) {
          // The first attempt hands out every chat, then breaks; the retry hands them out again.
          await stream!.onChats(chats)
          await stream!.onRetry()
        }
        await stream!.onChats(chats)
        return { chats: [], truncated: false, bytes: 1 }
      },
    }
    await pollRange(
      {
        ...h.deps,
        source,
        published: { ...h.deps.published, add: slowAdd },
        sink: {
          ...h.deps.sink,
          publish: (events: readonly OutgoingEvent[]) => {
            sent.push(...events.map((e) => e.eventId))
            return Promise.resolve()
          },
        },
      },
      {
        range: { fromMs: 0, toMs: 10 * MIN - S },
        maxWindowMs: 10 * MIN,
        lease: h.lease,
        watermarkMs: null,
      },
    )
    expect(sent).toHaveLength(10)
    expect(new Set(sent).size).toBe(10)
  })
})
