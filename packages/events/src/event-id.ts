import { hash } from 'node:crypto'

/** What identifies one upstream message; see {@link eventId}. */
export interface EventIdParts {
  server: string
  report: string
  conn_id: string
  date: string
  from: string
  from_name: string
  message: string
  /** 0-based count of earlier messages of the same chat with the same date, from, from_name, message. */
  occurrence: number
}

/**
 * The `event_id` of a message, frozen by ARCHITECTURE.md: the first 32 hex characters of the
 * SHA-256 of the UTF-8 bytes of
 * `JSON.stringify(["v1", server, report, conn_id, date, from, from_name, message, occurrence])`.
 *
 * To reproduce it elsewhere, serialise exactly like `JSON.stringify`: no whitespace, `occurrence`
 * as a JSON number, non-ASCII characters as themselves (not `\u` escapes), `"` `\` and control
 * characters below U+0020 escaped (`\b \f \n \r \t`, others as lower-case `\u00xx`), `/` not
 * escaped; in Python `json.dumps(parts, ensure_ascii=False, separators=(",", ":"))`.
 */
export function eventId(parts: EventIdParts): string {
  const text = JSON.stringify([
    'v1',
    parts.server,
    parts.report,
    parts.conn_id,
    parts.date,
    parts.from,
    parts.from_name,
    parts.message,
    parts.occurrence,
  ])
  // One-shot hashing: no Hash object per message (the poller hashes every message it reads).
  return hash('sha256', text, 'hex').slice(0, 32)
}
