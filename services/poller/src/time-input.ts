import { parseTimeBound, type TimeBound } from '@wolkvox-chat-stream/zoned-time'

/**
 * Reads a time as every command takes it (README: Times and ranges; `parseTimeBound` in
 * packages/zoned-time): ISO 8601, a wall-clock time in `zone`, a bare date for its whole local day
 * as `bound` says (`from` its start, `through` its last millisecond), or a duration ago such as
 * `1d` from `nowMs`. `POLL_START` and `rebind --from` are an `instant` (a bare date: its start).
 * Returns epoch ms, or an error text naming the text and the accepted forms.
 */
export function parseTimeInput(
  text: string,
  zone: string,
  nowMs: number,
  bound: TimeBound = 'instant',
): number | string {
  const parsed = parseTimeBound(text, zone, { nowMs, bound })
  return parsed.ok ? parsed.ms : parsed.error
}
