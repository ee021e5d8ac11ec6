import { hash } from 'node:crypto'

/**
 * The upstream fields of a message that may be filled or corrected after it is first readable,
 * outside its `event_id`: what {@link chatMessageRevision} hashes. A `ChatMessage` is one.
 */
export interface RevisionFields {
  agent_name: string
  customer_name: string
  channel: string
  to_name: string
  customer_id: string
  /** `null` when the message had none; `""` is another value. */
  feeling: string | null
  /** `null` when the message had none; `""` is another value. */
  customer_phone: string | null
  /** Upstream fields the schema does not know (chat-level ones prefixed `chat.`). */
  extra: Readonly<Record<string, string>>
}

/** Orders strings by Unicode code point (as UTF-8 bytes, Python's `sorted`, Java's codePoints do). */
function byCodePoint(a: string, b: string): number {
  for (let i = 0, j = 0; i < a.length && j < b.length;) {
    const x = a.codePointAt(i) as number
    const y = b.codePointAt(j) as number
    if (x !== y) return x - y
    i += x > 0xffff ? 2 : 1
    j += y > 0xffff ? 2 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/**
 * The `revision` of a message, frozen like `event_id`: the first 16 hex characters of the SHA-256
 * of the UTF-8 bytes of
 * `JSON.stringify(["r1", agent_name, customer_name, channel, to_name, customer_id, feeling,
 * customer_phone, extra])`, where `feeling` and `customer_phone` are JSON `null` when absent and
 * `extra` is an array of `[key, value]` pairs sorted by key in Unicode code-point order.
 *
 * It hashes exactly the upstream values that can change on a re-read while the message keeps its
 * `event_id`, and nothing derived from the response (`position`, `conversation_length`,
 * `polled_at`, the window, `sent_at`, `sender`, `sentiment`, `channel_normalized`): a chat that
 * grows between polls leaves the revision of its earlier messages as it was, and a `feeling` that
 * Wolkvox fills in later gives the message another revision. A writer that rewrites one of these
 * fields before publishing (hashing customer ids) computes the revision over the values it
 * publishes, so the revision never hashes a value that is not on the event.
 *
 * Serialised like {@link eventId}'s array (in Python:
 * `json.dumps(parts, ensure_ascii=False, separators=(",", ":"))`, with `extra` as
 * `sorted(extra.items())` turned into lists). Never throws.
 */
export function chatMessageRevision(fields: RevisionFields): string {
  const extra = Object.keys(fields.extra)
  // Most messages have no extra field: skip the sort and the pairs.
  const pairs =
    extra.length === 0
      ? extra
      : extra.sort(byCodePoint).map((key) => [key, fields.extra[key] as string])
  const text = JSON.stringify([
    'r1',
    fields.agent_name,
    fields.customer_name,
    fields.channel,
    fields.to_name,
    fields.customer_id,
    fields.feeling,
    fields.customer_phone,
    pairs,
  ])
  return hash('sha256', text, 'hex').slice(0, 16)
}
