/*
 * The ports a poll uses, in memory, for the unit tests of poll-operation.ts: an upstream with one
 * message a minute, an event per message, a topic, a checkpoint topic and a published set. Left
 * out of the build and of mutation testing (a test's fixture, not the product).
 */
import type { PollOperationDeps } from './poll-operation.js'
import type { Checkpoint, OutgoingEvent } from './ports.js'

const MIN = 60_000

/** What the memory ports hold; `ports` goes into a test's PollOperationDeps. */
export interface MemoryPorts {
  ports: Pick<PollOperationDeps, 'source' | 'toEvents' | 'sink' | 'published'>
  /** The event ids published, in order. */
  topic: string[]
  checkpoints: Checkpoint[]
  /** The event ids the published set holds. */
  published: Set<string>
  /** Each range the upstream was asked for, and the signal of that call. */
  fetched: { fromMs: number; toMs: number }[]
  signals: AbortSignal[]
}

/** Fresh memory ports; `onClear` hears the published set being cleared. */
export function memoryPorts(options: { onClear?: () => void } = {}): MemoryPorts {
  const topic: string[] = []
  const checkpoints: Checkpoint[] = []
  const published = new Set<string>()
  const fetched: { fromMs: number; toMs: number }[] = []
  const signals: AbortSignal[] = []
  const ports: MemoryPorts['ports'] = {
    source: {
      fetch: (range, { signal }) => {
        fetched.push(range)
        signals.push(signal)
        const chats: number[] = []
        for (let t = Math.ceil(range.fromMs / MIN) * MIN; t <= range.toMs; t += MIN) chats.push(t)
        return Promise.resolve({ chats, truncated: false, bytes: 1 })
      },
    },
    toEvents: (chats) => ({
      events: (chats as number[]).map((t): OutgoingEvent => ({
        eventId: `e${t}`,
        revision: 'r0',
        key: `k${t}`,
        value: Buffer.from(''),
      })),
      deadLetters: [],
      fetchedMessages: chats.length,
    }),
    sink: {
      publish: (events) => {
        topic.push(...events.map((e) => e.eventId))
        return Promise.resolve()
      },
      checkpoint: (c) => {
        checkpoints.push(c)
        return Promise.resolve()
      },
    },
    published: {
      unpublished: (events) =>
        Promise.resolve(
          new Map(
            events.filter((e) => !published.has(e.eventId)).map((e) => [e.eventId, 'new'] as const),
          ),
        ),
      add: (events) => {
        for (const e of events) published.add(e.eventId)
        return Promise.resolve()
      },
      clear: () => {
        options.onClear?.()
        published.clear()
        return Promise.resolve()
      },
    },
  }
  return { ports, topic, checkpoints, published, fetched, signals }
}
