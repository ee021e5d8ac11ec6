import { AppError } from '@wolkvox-chat-stream/errors'
import { isTimeZone, wallClockToEpochMs, wallTimeToEpochMs } from '@wolkvox-chat-stream/zoned-time'

export { wallTimeToEpochMs }

const UPSTREAM_DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/

/**
 * Checks a time zone name once, at configuration time.
 * @throws AppError `EVENT_TIME_ZONE_INVALID` when this runtime does not know the zone.
 */
export function assertTimeZone(zone: string): void {
  if (!isTimeZone(zone)) {
    throw new AppError('EVENT_TIME_ZONE_INVALID', `Unknown time zone "${zone}"`, {
      details: { zone },
    })
  }
}

/**
 * Reads an upstream `date` (exactly `YYYY-MM-DD HH:MM:SS`, the operation's wall-clock time) as a
 * UTC instant in epoch milliseconds, or `undefined` when the text is not in that form or names an
 * impossible date (`2025-02-30`, `24:00:00`). DST: see `wallTimeToEpochMs` in packages/zoned-time.
 *
 * @throws AppError `EVENT_TIME_ZONE_INVALID` for an unknown zone.
 */
export function upstreamDateToEpochMs(date: string, zone: string): number | undefined {
  assertTimeZone(zone)
  return UPSTREAM_DATE.test(date) ? wallClockToEpochMs(date, zone) : undefined
}
