/*
 * The windows of AgentSentiment: UTC hours and local days, from packages/zoned-time (the one
 * implementation every service shares).
 */
import { dayWindow, hourWindow, type Window } from '@wolkvox-chat-stream/zoned-time'

export { dayStart, dayWindow, hourWindow, type Window } from '@wolkvox-chat-stream/zoned-time'

/** Aggregate window sizes of AgentSentiment. */
export type Granularity = 'hour' | 'day'

/** The window of `granularity` that starts at `startMs`. */
export function windowAt(granularity: Granularity, startMs: number, zone: string): Window {
  return granularity === 'hour' ? hourWindow(startMs) : dayWindow(startMs, zone)
}
