import { instantsOfWall, wallFields, wallTimeToEpochMs } from '@wolkvox-chat-stream/zoned-time'

const HOUR_MS = 3_600_000

/** Aggregate window sizes of AgentSentiment v1. */
export type Granularity = 'hour' | 'day'

/** A window: `[startMs, endMs)`. */
export interface Window {
  readonly startMs: number
  readonly endMs: number
}

/** The hour containing `ms` (UTC hour boundaries, the same instants as whole-hour zones' hours). */
export function hourWindow(ms: number): Window {
  const startMs = Math.floor(ms / HOUR_MS) * HOUR_MS
  return { startMs, endMs: startMs + HOUR_MS }
}

/**
 * The first instant of the local day of `ms` in `zone`: local midnight, or, where midnight is
 * skipped by a DST jump, the instant of the jump.
 */
export function dayStart(ms: number, zone: string): number {
  const f = wallFields(ms, zone)
  const midnight = Date.UTC(f.year, f.month - 1, f.day)
  return instantsOfWall(midnight, zone)[0] ?? wallTimeToEpochMs(midnight, zone)
}

// zone -> UTC hour number -> the local day holding that hour.
const dayCache = new Map<string, Map<number, Window>>()

/** The local day of `ms` in `zone` (23, 24 or 25 hours long). Cached per zone and UTC hour. */
export function dayWindow(ms: number, zone: string): Window {
  let days = dayCache.get(zone)
  if (days === undefined) dayCache.set(zone, (days = new Map<number, Window>()))
  const hour = Math.floor(ms / HOUR_MS)
  let window = days.get(hour)
  if (window === undefined) {
    const startMs = dayStart(ms, zone)
    // 30 h after a day's start is always inside the next day (days are 23 to 25 h long).
    window = { startMs, endMs: dayStart(startMs + 30 * HOUR_MS, zone) }
    if (days.size >= 50_000) days.clear()
    days.set(hour, window)
  }
  return window
}

/** The window of `granularity` that starts at `startMs`. */
export function windowAt(granularity: Granularity, startMs: number, zone: string): Window {
  return granularity === 'hour' ? hourWindow(startMs) : dayWindow(startMs, zone)
}
