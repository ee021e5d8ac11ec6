import { instantsOf, localParts } from './local-time.js'

/** The upstream's longest range per call (WOLKVOX_API.md, Limits). */
export const MAX_UPSTREAM_RANGE_MS = 31 * 86_400_000

/**
 * A range of UTC instants, both ends inclusive, at one-second resolution: `fromMs` and `toMs` are
 * whole seconds, and the next range starts at `toMs + 1000`.
 */
export interface Range {
  fromMs: number
  toMs: number
}

/** Window settings (ARCHITECTURE.md, Data flow 3). */
export interface WindowSettings {
  lookbackMs: number
  settleLagMs: number
  maxWindowMs: number
}

const floorSecond = (ms: number): number => Math.floor(ms / 1000) * 1000

/**
 * The range a poll should ask for: from just after the watermark (less the lookback) to now less
 * the settle lag; `null` when nothing is due yet. A new operation (no watermark) starts at `startMs`.
 */
export function dueRange(input: {
  watermarkMs: number | null
  startMs: number
  nowMs: number
  settings: WindowSettings
}): Range | null {
  const { watermarkMs, startMs, nowMs, settings } = input
  const fromMs = floorSecond(
    watermarkMs === null ? startMs : watermarkMs + 1000 - settings.lookbackMs,
  )
  const toMs = floorSecond(nowMs) - floorSecond(settings.settleLagMs)
  return toMs >= fromMs ? { fromMs, toMs } : null
}

/**
 * Cuts a range into consecutive pieces of at most `maxWindowMs` (and never over 31 days), except
 * that a tail shorter than a tenth of a piece joins the piece before it (when the two together
 * stay within 31 days): a call from a daily budget of about a thousand is not spent on a stub of a
 * few seconds (`--to 2026-12-02T00:00:00` after whole days was one call for one second).
 */
export function splitRange(range: Range, maxWindowMs: number): Range[] {
  const step = Math.max(1000, floorSecond(Math.min(maxWindowMs, MAX_UPSTREAM_RANGE_MS)))
  const pieces: Range[] = []
  for (let from = range.fromMs; from <= range.toMs; from += step) {
    pieces.push({ fromMs: from, toMs: Math.min(range.toMs, from + step - 1000) })
  }
  const last = pieces.at(-1)
  const before = pieces.at(-2)
  if (
    last !== undefined &&
    before !== undefined &&
    (last.toMs - last.fromMs + 1000) * 10 < step &&
    last.toMs - before.fromMs + 1000 <= MAX_UPSTREAM_RANGE_MS
  ) {
    pieces.pop()
    before.toMs = last.toMs
  }
  return pieces
}

/** Halves a range for a retry after a capped response; `null` for a single second. */
export function halve(range: Range): [Range, Range] | null {
  if (range.toMs <= range.fromMs) return null
  const seconds = (range.toMs - range.fromMs) / 1000 + 1
  const mid = range.fromMs + Math.floor(seconds / 2) * 1000
  return [
    { fromMs: range.fromMs, toMs: mid - 1000 },
    { fromMs: mid, toMs: range.toMs },
  ]
}

/**
 * The range to request for `range`. The upstream speaks wall-clock time, which cannot tell apart
 * the two occurrences of a repeated hour (DST fall-back): a bound that falls in one moves out by
 * twice the shift, so the request covers the whole ambiguous span whichever occurrence the
 * upstream means (a little more is harmless: messages are de-duplicated). A skipped hour
 * (spring-forward) needs nothing, as no message has a wall-clock time inside it.
 */
export function widenForAmbiguity(range: Range, zone: string): Range {
  const shiftAt = (instant: number): number => {
    const occurrences = instantsOf(localParts(instant, zone), zone)
    return occurrences.length < 2 ? 0 : occurrences[occurrences.length - 1]! - occurrences[0]!
  }
  return {
    fromMs: range.fromMs - 2 * shiftAt(range.fromMs),
    toMs: range.toMs + 2 * shiftAt(range.toMs),
  }
}
