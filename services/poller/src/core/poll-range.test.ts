import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { Range } from '../window.js'
import type {
  Checkpoint,
  ChatSource,
  DeadLetter,
  DueReason,
  EventFactory,
  EventRevision,
  OutgoingEvent,
  PollLease,
} from './ports.js'
import { pollRange } from './poll-range.js'

const S = 1000
const HOUR = 3600 * S

/**
 * A fake upstream: one "chat" per message, one message per 10 s, truncating at `cap` rows. A
 * message's revision is `revisionOf(at)` (default `r0`): what Wolkvox may change after a first read.
 */
function fakeSource(
  options: {
    cap?: number
    failOn?: (range: Range) => boolean
    revisionOf?: (at: number) => string
  } = {},
): ChatSource & { calls: Range[] } {
  const calls: Range[] = []
  return {
    calls,
    fetch: (range) => {
      calls.push(range)
      if (options.failOn?.(range))
        return Promise.reject(new AppError('CONFIG_INVALID', 'upstream says no'))
      const chats: { at: number; broken?: boolean; revision: string }[] = []
      for (let t = Math.ceil(range.fromMs / (10 * S)) * 10 * S; t <= range.toMs; t += 10 * S)
        chats.push({
          at: t,
          broken: t % (600 * S) === 0,
          revision: options.revisionOf?.(t) ?? 'r0',
        })
      const cap = options.cap ?? Infinity
      return Promise.resolve({
        chats: chats.slice(0, cap),
        truncated: chats.length >= cap,
        bytes: chats.length * 100,
      })
    },
  }
}

/**
 * The same upstream read as it arrives: the chats of a range handed to the core's stream in
 * groups of `group`. `cutAfter` groups into the first call, the attempt fails (a truncated body);
 * with `retryInside`, the source retries it itself (onRetry, then every group again), otherwise
 * the call fails. `log` records the order of groups handed out and of the fetch's end.
 */
function streamingSource(options: {
  group: number
  cap?: number
  cutAfter?: number
  retryInside?: boolean
}): ChatSource & { log: string[] } {
  const inner = fakeSource(options.cap === undefined ? {} : { cap: options.cap })
  const log: string[] = []
  let calls = 0
  return {
    log,
    fetch: async (range, context) => {
      const { chats, truncated, bytes } = await inner.fetch(range, context)
      const stream = context.stream!
      const handOut = async (upTo: number): Promise<void> => {
        for (let i = 0; i < upTo; i += options.group) {
          log.push(`group ${i / options.group}`)
          await stream.onChats(chats.slice(i, Math.min(upTo, i + options.group)))
        }
      }
      if (calls++ === 0 && options.cutAfter !== undefined) {
        await handOut(options.cutAfter * options.group)
        if (!options.retryInside)
          throw new AppError('WOLKVOX_MALFORMED_RESPONSE', 'the body was cut off')
        log.push('retry')
        await stream.onRetry()
      }
      await handOut(chats.length)
      log.push('fetched')
      return { chats: [], truncated, bytes }
    },
  }
}

const toEvents: EventFactory = (chats) => {
  const events: OutgoingEvent[] = []
  const deadLetters: DeadLetter[] = []
  for (const chat of chats as { at: number; broken: boolean; revision: string }[]) {
    if (chat.broken)
      deadLetters.push({
        key: `k${chat.at}`,
        value: Buffer.from(JSON.stringify(chat)),
        reason: 'broken',
      })
    else
      events.push({
        eventId: `e${chat.at}`,
        revision: chat.revision,
        key: `k${chat.at}`,
        value: Buffer.from(`${chat.at}/${chat.revision}`),
      })
  }
  return { events, deadLetters, fetchedMessages: chats.length }
}

/** The published set in memory: event_id -> revision published last. */
function memoryPublishedSet(published = new Map<string, string>()) {
  return {
    unpublished: (events: readonly EventRevision[]) => {
      const due = new Map<string, DueReason>()
      for (const { eventId, revision } of events) {
        const remembered = published.get(eventId)
        if (remembered === undefined) due.set(eventId, 'new')
        else if (remembered !== revision) due.set(eventId, 'revised')
      }
      return Promise.resolve(due)
    },
    add: (events: readonly EventRevision[]) => {
      for (const { eventId, revision } of events) published.set(eventId, revision)
      return Promise.resolve()
    },
    clear: () => {
      published.clear()
      return Promise.resolve()
    },
  }
}

function world() {
  const topic: string[] = []
  /** What the topic holds, as `at/revision` (the fake event's value). */
  const values: string[] = []
  const dlq: string[] = []
  const checkpoints: Checkpoint[] = []
  const published = new Map<string, string>()
  let watermark: number | null = null
  const lease = (abortAfterPublishes = Infinity): PollLease => {
    const controller = new AbortController()
    let publishes = 0
    return {
      signal: controller.signal,
      fence: 1,
      deadline: () => Date.now() + 60_000,
      keepAfterAbortedCall: () => undefined,
      advanceWatermark: (toMs, expected) => {
        if (expected !== watermark) return Promise.resolve('conflict')
        watermark = toMs
        if (++publishes >= abortAfterPublishes)
          controller.abort(new AppError('LOCK_LEASE_LOST', 'lost'))
        return Promise.resolve('ok')
      },
    }
  }
  const deps = {
    toEvents,
    sink: {
      publish: (events: readonly OutgoingEvent[], dead: readonly DeadLetter[]) => {
        topic.push(...events.map((e) => e.eventId))
        values.push(...events.map((e) => e.value.toString()))
        dlq.push(...dead.map((d) => d.key))
        return Promise.resolve()
      },
      checkpoint: (c: Checkpoint) => {
        checkpoints.push(c)
        return Promise.resolve()
      },
    },
    published: memoryPublishedSet(published),
  }
  return { topic, values, dlq, checkpoints, published, lease, deps, watermark: () => watermark }
}

describe('pollRange', () => {
  const range = { fromMs: 0, toMs: 6 * HOUR - S }
  /** The totals of one poll of `range`: a chat every 10 s, every 60th a dead letter. */
  const wholeRange = { fetched: 2160, published: 2124, deadLettered: 36, duplicates: 0 }

  it('publishes every message once, dead-letters broken rows, and moves the watermark per window', async () => {
    const w = world()
    const result = await pollRange(
      { ...w.deps, source: fakeSource() },
      { range, maxWindowMs: 2 * HOUR, lease: w.lease(), watermarkMs: null },
    )
    expect(w.topic).toHaveLength(new Set(w.topic).size)
    expect(w.topic.length + w.dlq.length).toBe(6 * 360)
    expect(w.dlq).toHaveLength(36)
    expect(result).toMatchObject({ ...wholeRange, watermarkMs: range.toMs })
    expect(w.checkpoints.map((c) => c.watermarkMs)).toEqual([
      2 * HOUR - S,
      4 * HOUR - S,
      6 * HOUR - S,
    ])
  })

  it('publishes nothing twice when windows overlap or repeat', async () => {
    const w = world()
    const source = fakeSource()
    await pollRange(
      { ...w.deps, source },
      {
        range: { fromMs: 0, toMs: 3 * HOUR },
        maxWindowMs: HOUR,
        lease: w.lease(),
        watermarkMs: null,
      },
    )
    const again = await pollRange(
      { ...w.deps, source },
      { range, maxWindowMs: HOUR, lease: w.lease(), watermarkMs: w.watermark() },
    )
    // The first poll covered 0..3 h, both ends inclusive: 3 * 360 + 1 = 1,081 messages, of which
    // the 19 at whole ten minutes (0 and 3 h included) are dead letters, so 1,062 events. The
    // second re-reads them all as duplicates and publishes the other 2,124 - 1,062 = 1,062.
    expect(again).toMatchObject({ duplicates: 1062, published: 1062, deadLettered: 36 })
    expect(w.topic).toHaveLength(new Set(w.topic).size)
    expect(w.topic).toHaveLength(wholeRange.published)
  })

  it('publishes again, once, the events whose revision changed since they were published', async () => {
    const w = world()
    const first = await pollRange(
      { ...w.deps, source: fakeSource() },
      { range, maxWindowMs: 2 * HOUR, lease: w.lease(), watermarkMs: null },
    )
    expect(first).toMatchObject({ published: 2124, revised: 0, duplicates: 0 })
    // Wolkvox fills the feeling of the messages of the second hour after the first read.
    const inSecondHour = (at: number) => at >= HOUR && at < 2 * HOUR
    const changed = fakeSource({ revisionOf: (at) => (inSecondHour(at) ? 'r1' : 'r0') })
    w.topic.length = 0
    w.values.length = 0
    const again = await pollRange(
      { ...w.deps, source: changed },
      { range, maxWindowMs: 2 * HOUR, lease: w.lease(), watermarkMs: w.watermark() },
    )
    // 360 messages in the hour, 6 of them broken rows (dead letters, never events).
    expect(again).toMatchObject({ published: 354, revised: 354, duplicates: 2124 - 354 })
    expect(w.values).toHaveLength(354)
    expect(w.values.every((v) => v.endsWith('/r1') && inSecondHour(Number(v.split('/')[0])))).toBe(
      true,
    )
    // The same event ids, now remembered with their new revision.
    expect(new Set(w.topic)).toEqual(
      new Set([...w.published].filter(([, r]) => r === 'r1').map(([id]) => id)),
    )
    expect(w.published.size).toBe(2124)

    // An unchanged re-read publishes nothing, the revised events included.
    w.topic.length = 0
    const third = await pollRange(
      { ...w.deps, source: changed },
      { range, maxWindowMs: 2 * HOUR, lease: w.lease(), watermarkMs: w.watermark() },
    )
    expect(third).toMatchObject({ published: 0, revised: 0, duplicates: 2124 })
    expect(w.topic).toEqual([])
  })

  it('counts revised events apart from new ones in one response, and reports both', async () => {
    const w = world()
    const counts: { published: number; revised: number; duplicates: number }[] = []
    const observer = {
      onPublished: (c: { published: number; revised: number; duplicates: number }) =>
        void counts.push(c),
    }
    const early = { fromMs: 0, toMs: HOUR - S }
    await pollRange(
      { ...w.deps, source: fakeSource() },
      { range: early, maxWindowMs: HOUR, lease: w.lease(), watermarkMs: null },
    )
    counts.length = 0
    // The first hour is read again with every revision changed, the second hour for the first time.
    const result = await pollRange(
      { ...w.deps, source: fakeSource({ revisionOf: () => 'r2' }), observer },
      {
        range: { fromMs: 0, toMs: 2 * HOUR - S },
        maxWindowMs: 2 * HOUR,
        lease: w.lease(),
        watermarkMs: w.watermark(),
      },
    )
    expect(result).toMatchObject({ published: 708, revised: 354, duplicates: 0 })
    const sum = (key: 'published' | 'revised' | 'duplicates') =>
      counts.reduce((total, c) => total + c[key], 0)
    expect([sum('published'), sum('revised'), sum('duplicates')]).toEqual([708, 354, 0])
  })

  it('splits a truncated response in halves until nothing is cut off', async () => {
    const w = world()
    const source = fakeSource({ cap: 100 })
    const result = await pollRange(
      { ...w.deps, source },
      { range, maxWindowMs: 6 * HOUR, lease: w.lease(), watermarkMs: null },
    )
    // 6 h is halved to 3 h, 1.5 h, 45 min, 22.5 min and 11.25 min (675 s, at most 68 messages):
    // every range down to 22.5 min (135 messages) hits the cap of 100, so 1 + 2 + 4 + 8 + 16 = 31
    // ranges are split, and the 32 leaves plus the 31 capped reads make 63 requests.
    expect(result).toMatchObject({ splits: 31, requests: 63 })
    expect(new Set([...w.topic, ...w.dlq]).size).toBe(2160)
  })

  it('keeps the watermark at the last complete window when a later one fails', async () => {
    const w = world()
    const source = fakeSource({ failOn: (r) => r.fromMs >= 2 * HOUR })
    await expect(
      pollRange(
        { ...w.deps, source },
        { range, maxWindowMs: HOUR, lease: w.lease(), watermarkMs: null },
      ),
    ).rejects.toThrow('upstream says no')
    expect(w.watermark()).toBe(2 * HOUR - S)
  })

  it('sends the chunks of a response one at a time, in order, and moves no watermark when recording one fails', async () => {
    const w = world()
    const sent: string[][] = []
    let inFlight = 0
    let mostInFlight = 0
    let adds = 0
    const deps = {
      ...w.deps,
      source: fakeSource(),
      sink: {
        ...w.deps.sink,
        publish: async (events: readonly OutgoingEvent[]) => {
          mostInFlight = Math.max(mostInFlight, ++inFlight)
          await new Promise((resolve) => setTimeout(resolve, 2))
          sent.push(events.map((e) => e.eventId))
          inFlight--
        },
      },
      published: {
        ...w.deps.published,
        add: async (events: readonly EventRevision[]) => {
          if (++adds === 2) throw new AppError('REDIS_UNAVAILABLE', 'redis away')
          await w.deps.published.add(events)
        },
      },
    }
    // One piece of 7,200 messages: chunks of 1,000 then 5,000 messages.
    const long = { fromMs: 0, toMs: 20 * HOUR - S }
    await expect(
      pollRange(deps, { range: long, maxWindowMs: 24 * HOUR, lease: w.lease(), watermarkMs: null }),
    ).rejects.toThrow('redis away')
    expect(mostInFlight).toBe(1)
    expect(sent.length).toBeGreaterThanOrEqual(2)
    // The first chunk is small (1,000 messages, dead letters aside): Kafka starts sooner.
    expect(sent[0]!.length).toBeLessThanOrEqual(1_000)
    const order = sent.flat().map((id) => Number(id.slice(1)))
    expect(order).toEqual([...order].sort((a, b) => a - b))
    expect(w.watermark()).toBeNull()
    expect(w.checkpoints).toEqual([])
  })

  it('publishes a streamed response while it arrives, and moves the watermark once all is on the topic', async () => {
    const w = world()
    const source = streamingSource({ group: 100 })
    const watermarks: (number | null)[] = []
    const deps = {
      ...w.deps,
      source,
      sink: {
        ...w.deps.sink,
        publish: async (events: readonly OutgoingEvent[], dead: readonly DeadLetter[]) => {
          source.log.push('publish')
          watermarks.push(w.watermark())
          await w.deps.sink.publish(events, dead)
        },
      },
    }
    const result = await pollRange(deps, {
      range,
      maxWindowMs: 6 * HOUR,
      lease: w.lease(),
      watermarkMs: null,
    })
    // Kafka got the first chats before the response ended.
    expect(source.log.indexOf('publish')).toBeLessThan(source.log.indexOf('fetched'))
    expect(watermarks.every((m) => m === null)).toBe(true)
    expect(w.topic).toHaveLength(new Set(w.topic).size)
    expect(result).toMatchObject({ ...wholeRange, watermarkMs: range.toMs })
  })

  it('fails a window whose response breaks after some chats went out, and its next poll publishes them once', async () => {
    const w = world()
    const source = streamingSource({ group: 100, cutAfter: 3 })
    const input = { range, maxWindowMs: 6 * HOUR, lease: w.lease(), watermarkMs: null }
    await expect(pollRange({ ...w.deps, source }, input)).rejects.toThrow('cut off')
    expect(w.watermark()).toBeNull()
    expect(w.checkpoints).toEqual([])
    // The 300 chats handed out were published (5 of them dead letters: every 60th chat).
    expect(w.topic).toHaveLength(295)
    const again = await pollRange({ ...w.deps, source }, input)
    expect(again).toMatchObject({ published: 2124 - 295, duplicates: 295 })
    expect(w.topic).toHaveLength(2124)
    expect(new Set(w.topic).size).toBe(2124)
    expect(w.watermark()).toBe(range.toMs)
  })

  it('lets a retry inside the source hand the chats out again without publishing any twice', async () => {
    const w = world()
    const source = streamingSource({ group: 100, cutAfter: 5, retryInside: true })
    const result = await pollRange(
      { ...w.deps, source },
      { range, maxWindowMs: 6 * HOUR, lease: w.lease(), watermarkMs: null },
    )
    expect(source.log.slice(4, 7)).toEqual(['group 4', 'retry', 'group 0'])
    expect(w.topic).toHaveLength(2124)
    expect(new Set(w.topic).size).toBe(2124)
    // The 500 chats of the cut attempt held 9 dead letters: 491 events came twice.
    expect(result).toMatchObject({ published: 2124, duplicates: 491, fetched: 2160 + 500 })
  })

  it('splits a streamed response at the row cap: what went out before counts as duplicates', async () => {
    const w = world()
    const result = await pollRange(
      { ...w.deps, source: streamingSource({ group: 50, cap: 1_000 }) },
      { range, maxWindowMs: 6 * HOUR, lease: w.lease(), watermarkMs: null },
    )
    expect(result.splits).toBe(3)
    expect(w.topic).toHaveLength(2124)
    expect(new Set(w.topic).size).toBe(2124)
    expect(result.watermarkMs).toBe(range.toMs)
  })

  it('stops when the lease is lost, before the next request', async () => {
    const w = world()
    const source = fakeSource()
    await expect(
      pollRange(
        { ...w.deps, source },
        { range, maxWindowMs: HOUR, lease: w.lease(2), watermarkMs: null },
      ),
    ).rejects.toMatchObject({ code: 'LOCK_LEASE_LOST' })
    expect(source.calls).toHaveLength(2)
    expect(w.watermark()).toBe(2 * HOUR - S)
  })

  it('reports a call cut off by the end of its lease as LOCK_LEASE_LOST, and keeps the token busy', async () => {
    const w = world()
    const controller = new AbortController()
    let kept = 0
    const lease: PollLease = {
      ...w.lease(),
      signal: controller.signal,
      keepAfterAbortedCall: () => void kept++,
    }
    // The client's answer to an aborted signal: WOLKVOX_ABORTED, "aborted by the caller".
    const source: ChatSource = {
      fetch: (_range, { signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () =>
            reject(new AppError('WOLKVOX_ABORTED', 'call aborted by the caller')),
          ),
        ),
    }
    const polled = pollRange(
      { ...w.deps, source },
      { range, maxWindowMs: HOUR, lease, watermarkMs: null },
    )
    controller.abort(new AppError('LOCK_LEASE_LOST', 'The token lease was expired'))
    await expect(polled).rejects.toMatchObject({ code: 'LOCK_LEASE_LOST' })
    expect(kept).toBe(1)
    expect(w.watermark()).toBeNull()
  })

  it('finishes the piece in flight and starts no other once asked to stop, reporting each piece', async () => {
    const w = world()
    const source = fakeSource()
    const stop = new AbortController()
    const pieces: Range[] = []
    const result = await pollRange(
      {
        ...w.deps,
        source,
        observer: {
          onPiece: (piece) => {
            pieces.push(piece)
            if (pieces.length === 2) stop.abort()
          },
        },
      },
      { range, maxWindowMs: HOUR, lease: w.lease(), watermarkMs: null, stop: stop.signal },
    )
    expect(result.stopped).toBe(true)
    expect(source.calls).toHaveLength(2)
    expect(pieces).toEqual(source.calls)
    expect(w.watermark()).toBe(2 * HOUR - S)
  })
})
