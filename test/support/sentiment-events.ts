/*
 * ChatMessage events for the sentiment aggregator's tests: simulator chats from hours spread over
 * several local days (one just before local midnight in Bogotá), the latest-starting chats of each
 * hour (so many run into the next hour or day), turned into events by the poller's builder. Some
 * chats come as two message-time responses (each with its own positions and length), as a
 * message-time poll returns a chat that spans two windows. With `lateShare`, a share of the chats
 * has its data late, as the simulator serves it (`feeling` empty, for some `customer_id` too, until
 * some time after the chat): {@link sentimentEventsWithLateData} gives their first revisions too.
 */
import { buildChatMessages, type ChatMessage } from '@wolkvox-chat-stream/events'
import { createDataset } from '@wolkvox-chat-stream/wolkvox-simulator'

const ZONE = 'America/Bogota'
const HOURS = [
  '2025-02-10T04:00:00Z',
  '2025-02-10T15:00:00Z',
  '2025-02-11T04:00:00Z',
  '2025-02-12T22:00:00Z',
]

/** Events of `chatsPerHour` chats in each hour; every `splitEvery`-th chat comes in two responses. */
export function sentimentEvents(
  server: string,
  options: { chatsPerHour?: number; splitEvery?: number; seed?: number } = {},
): ChatMessage[] {
  return sentimentEventsWithLateData(server, options).events
}

/** One hour after the first read: when the late values of a late chat are read. */
const LATE_READ_MS = 3_600_000

/**
 * {@link sentimentEvents} (the final data, the same whatever `lateShare`) where the messages of a
 * share of the chats were first read before Wolkvox filled their late values: `events` are the
 * final revisions (those of late chats polled an hour after the first read), `firstReads` the
 * first revision of every message of a late chat whose values were late (its own `revision`, an
 * earlier `polled_at`, `feeling` empty), as the poller publishes a message again when a re-read
 * finds it changed.
 */
export function sentimentEventsWithLateData(
  server: string,
  options: { chatsPerHour?: number; splitEvery?: number; seed?: number; lateShare?: number } = {},
): { events: ChatMessage[]; firstReads: ChatMessage[] } {
  const dataset = createDataset({
    seed: options.seed ?? 11,
    chatsPerHour: 60,
    timeZone: ZONE,
    historyStartMs: Date.parse(HOURS[0]!),
    ...(options.lateShare ? { lateDataMs: 60_000, lateShare: options.lateShare } : {}),
  })
  const events: ChatMessage[] = []
  const firstReads: ChatMessage[] = []
  let n = 0
  for (const iso of HOURS) {
    const hour = Date.parse(iso) / 3_600_000
    const chats = dataset
      .chatsInHour(hour)
      .sort((a, b) => b.header.startSec - a.header.startSec)
      .slice(0, options.chatsPerHour ?? 20)
    for (const chat of chats) {
      const conversation = chat.messages.map((m) => JSON.parse(m.text) as unknown)
      const pending = chat.messages.map((m) => JSON.parse(m.pendingText ?? m.text) as unknown)
      const window = { start: new Date(hour * 3_600_000), end: new Date((hour + 1) * 3_600_000) }
      const firstRead = { server, zone: ZONE, window, polledAt: window.end }
      const context = chat.late
        ? { ...firstRead, polledAt: new Date(window.end.getTime() + LATE_READ_MS) }
        : firstRead
      const split = ++n % (options.splitEvery ?? 5) === 0 && conversation.length >= 4
      const cut = conversation.length >> 1
      const parts = split
        ? [
            [0, cut],
            [cut, conversation.length],
          ]
        : [[0, conversation.length]]
      for (const [from, to] of parts) {
        const final = buildChatMessages(
          { ...chat.fields, conversation: conversation.slice(from, to) },
          context,
        ).events
        events.push(...final)
        if (!chat.late) continue
        const first = buildChatMessages(
          { ...chat.fields, conversation: pending.slice(from, to) },
          firstRead,
        ).events
        // Only messages that changed are published again: the others' first read is final.
        first.forEach((e, i) => {
          if (e.revision !== final[i]!.revision) firstReads.push(e)
        })
      }
    }
  }
  return { events, firstReads }
}
