/*
 * ChatMessage events for the sentiment aggregator's tests: simulator chats from hours spread over
 * several local days (one just before local midnight in Bogotá), the latest-starting chats of each
 * hour (so many run into the next hour or day), turned into events by the poller's builder. Some
 * chats come as two message-time responses (each with its own positions and length), as a
 * message-time poll returns a chat that spans two windows.
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
  const dataset = createDataset({
    seed: options.seed ?? 11,
    chatsPerHour: 60,
    timeZone: ZONE,
    historyStartMs: Date.parse(HOURS[0]!),
  })
  const events: ChatMessage[] = []
  let n = 0
  for (const iso of HOURS) {
    const hour = Date.parse(iso) / 3_600_000
    const chats = dataset
      .chatsInHour(hour)
      .sort((a, b) => b.header.startSec - a.header.startSec)
      .slice(0, options.chatsPerHour ?? 20)
    for (const chat of chats) {
      const conversation = chat.messages.map((m) => JSON.parse(m.text) as unknown)
      const window = { start: new Date(hour * 3_600_000), end: new Date((hour + 1) * 3_600_000) }
      const context = { server, zone: ZONE, window, polledAt: window.end }
      const split = ++n % (options.splitEvery ?? 5) === 0 && conversation.length >= 4
      const parts = split
        ? [
            conversation.slice(0, conversation.length >> 1),
            conversation.slice(conversation.length >> 1),
          ]
        : [conversation]
      for (const part of parts) {
        events.push(...buildChatMessages({ ...chat.fields, conversation: part }, context).events)
      }
    }
  }
  return events
}
