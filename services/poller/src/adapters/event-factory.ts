import { createHash } from 'node:crypto'
import {
  buildChatMessages,
  chatMessageRevision,
  encodeChatMessage,
  MAX_RECORD_BYTES,
} from '@wolkvox-chat-stream/events'
import type { DeadLetter, EventFactory, OutgoingEvent } from '../core/ports.js'
import { privacyEnabled, scrubMessage, scrubRaw, type PrivacyOptions } from '../privacy.js'

/** A row's raw JSON when it fits a record; otherwise a summary that names it and says why. */
function deadLetterValue(
  raw: unknown,
  connId: string | null,
  position: number | null,
  reason: string,
): Buffer {
  const json = Buffer.from(JSON.stringify(raw) ?? 'null')
  if (json.length <= MAX_RECORD_BYTES - 4096) return json
  return Buffer.from(
    JSON.stringify({
      dead_letter: 'row over the 16 MB record limit; its raw JSON is summarised',
      reason,
      conn_id: connId,
      position,
      bytes: json.length,
      sha256: createHash('sha256').update(json).digest('hex'),
      prefix: json.subarray(0, 64 * 1024).toString('utf8'),
    }),
  )
}

/**
 * Builds `ChatMessage` events (packages/events) from the chats of one response. Rows that cannot
 * become an event, and events over the 16 MB record limit, become dead letters with their raw JSON.
 *
 * With `privacy`, `customer_id`/`customer_phone` are replaced by their keyed HMAC and inline images
 * by their hash and size, in events and dead letters alike. `event_id` is computed from the message
 * as received, before any of this, so it is the same whichever options are on (and a change of
 * options never makes a message look new). `revision` hashes the values published: with hashed
 * customer ids it is computed again over the hashes, so it never hashes a value that is not on the
 * event (a change of `POLL_HASH_KEY` gives every message re-read within the sweep a new revision).
 */
export function createEventFactory(options: {
  server: string
  report: string
  zone: string
  privacy?: PrivacyOptions
  /** The ChatMessage version written; v1 leaves `revision` off the wire. Default 2. */
  chatMessageVersion?: 1 | 2
  /** Registry mode: the schema id of that version (the Confluent wire format is written). */
  registryId?: number
}): EventFactory {
  const encoding = {
    version: options.chatMessageVersion ?? 2,
    ...(options.registryId === undefined ? {} : { registryId: options.registryId }),
  }
  const privacy = options.privacy && privacyEnabled(options.privacy) ? options.privacy : undefined
  return (chats, { window, polledAtMs }) => {
    const events: OutgoingEvent[] = []
    const deadLetters: DeadLetter[] = []
    let fetchedMessages = 0
    const context = {
      server: options.server,
      report: options.report,
      zone: options.zone,
      window: { start: new Date(window.fromMs), end: new Date(window.toMs) },
      polledAt: new Date(polledAtMs),
    }
    for (const chat of chats) {
      const built = buildChatMessages(chat, context)
      const conversation = (chat as { conversation?: unknown } | null)?.conversation
      fetchedMessages += Array.isArray(conversation) ? conversation.length : 1
      for (const original of built.events) {
        const event = privacy ? scrubMessage(original, privacy) : original
        if (privacy?.hashKey !== undefined) event.revision = chatMessageRevision(event)
        const value = encodeChatMessage(event, encoding)
        if (value.length > MAX_RECORD_BYTES) {
          deadLetters.push({
            key: `${options.server}|${event.conn_id}`,
            value: deadLetterValue(
              event.message,
              event.conn_id,
              event.position,
              'event over 16 MB',
            ),
            reason: 'EVENT_TOO_LARGE',
          })
          continue
        }
        events.push({
          eventId: event.event_id,
          revision: event.revision,
          key: event.conn_id,
          value,
        })
      }
      for (const rejected of built.rejected) {
        deadLetters.push({
          key: `${options.server}|${rejected.conn_id ?? ''}`,
          value: deadLetterValue(
            privacy ? scrubRaw(rejected.raw, privacy) : rejected.raw,
            rejected.conn_id,
            rejected.position,
            rejected.error.message,
          ),
          reason: rejected.error.code,
        })
      }
    }
    return { events, deadLetters, fetchedMessages }
  }
}
