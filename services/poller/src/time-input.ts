import { parseDuration } from '@wolkvox-chat-stream/config'
import { instantsOf, parseLocal } from './local-time.js'

/** The farthest from the epoch a `Date` reaches (100,000,000 days). */
const MAX_DATE_MS = 8.64e15

/**
 * Reads a time as operators write it: `YYYYmmddHHiiss`, `YYYY-MM-DD HH:MM:SS` or ISO 8601. Without
 * an offset it is a wall-clock time in `zone` (the first occurrence when it is ambiguous). A
 * duration such as `1d` means that long before `nowMs`. Returns epoch ms, or an error text.
 */
export function parseTimeInput(text: string, zone: string, nowMs: number): number | string {
  const trimmed = text.trim()
  if (/^\d+(ms|s|m|h|d)$/.test(trimmed)) {
    // A duration past Number.MAX_SAFE_INTEGER ms, or reaching before the first time a Date holds,
    // is refused here as text: parseDuration throws for the first, and the second is no instant.
    let ms = Number.NaN
    try {
      ms = nowMs - parseDuration(trimmed)
    } catch {
      // left NaN
    }
    return Math.abs(ms) <= MAX_DATE_MS ? ms : `"${text}" is too long ago to be a time`
  }
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed) && /^\d{4}-\d{2}-\d{2}T/.test(trimmed)) {
    const ms = Date.parse(trimmed)
    return Number.isNaN(ms) ? `"${text}" is not a valid ISO 8601 time` : ms
  }
  const parts = parseLocal(trimmed)
  if (!parts)
    return `"${text}" is not a time (use YYYYmmddHHiiss, YYYY-MM-DD HH:MM:SS, ISO 8601, or a duration ago such as 1d)`
  const instants = instantsOf(parts, zone)
  if (instants.length === 0)
    return `"${text}" does not exist in ${zone} (skipped by a daylight-saving change)`
  return instants[0]!
}
