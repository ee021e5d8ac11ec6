import { AppError } from '@wolkvox-chat-stream/errors'

const UPSTREAM_DATE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/
const DAY_MS = 86_400_000
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone)
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        era: 'short',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
    } catch (error) {
      throw new AppError('EVENT_TIME_ZONE_INVALID', `Unknown time zone "${zone}"`, {
        cause: error,
        details: { zone },
      })
    }
    formatters.set(zone, formatter)
  }
  return formatter
}

/**
 * Checks a time zone name once, at configuration time.
 * @throws AppError `EVENT_TIME_ZONE_INVALID` when this runtime does not know the zone.
 */
export function assertTimeZone(zone: string): void {
  formatterFor(zone)
}

/** The zone's wall-clock time at `epochMs`, read as if it were UTC, in milliseconds. */
function wallAsUtc(epochMs: number, zone: string): number {
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {}
  for (const part of formatterFor(zone).formatToParts(epochMs)) fields[part.type] = part.value
  const year = Number(fields.year)
  return Date.UTC(
    fields.era === 'BC' ? 1 - year : year,
    Number(fields.month) - 1,
    Number(fields.day),
    Number(fields.hour),
    Number(fields.minute),
    Number(fields.second),
  )
}

/** The zone's offset from UTC at `epochMs`, in milliseconds (Bogotá: -18,000,000). */
function offsetAt(epochMs: number, zone: string): number {
  const whole = Math.floor(epochMs / 1000) * 1000
  return wallAsUtc(whole, zone) - whole
}

const steadyDays = new Map<string, number | null>()

/**
 * The zone's offset when it is the same a day before, at the start, at the end and a day after the
 * UTC day of `wall`, else `undefined`. Cached per zone and day, so a window of messages costs a few
 * `Intl` calls per day instead of four per message. Assumes no zone changes its offset and back
 * within one day, which no rule in the time zone database does.
 */
function steadyOffset(wall: number, zone: string): number | undefined {
  const day = Math.floor(wall / DAY_MS)
  const key = `${zone}|${day}`
  let offset = steadyDays.get(key)
  if (offset === undefined) {
    const start = day * DAY_MS
    const samples = [start - DAY_MS, start, start + DAY_MS, start + 2 * DAY_MS].map((t) =>
      offsetAt(t, zone),
    )
    offset = samples.every((sample) => sample === samples[0]) ? (samples[0] ?? null) : null
    if (steadyDays.size >= 10_000) steadyDays.clear()
    steadyDays.set(key, offset)
  }
  return offset ?? undefined
}

/**
 * The UTC instant of a wall-clock time in `zone`, as epoch milliseconds. `wall` is given as the
 * epoch milliseconds of the same fields read as UTC (`Date.UTC(...)`).
 *
 * Deterministic at DST transitions, like `java.time.ZonedDateTime.of` and Temporal's
 * `disambiguation: 'compatible'`: a wall time that occurs twice (fall-back) is the earlier instant;
 * one that does not occur (spring-forward) is read with the offset in force before the jump, so it
 * lands after the jump by the same distance.
 *
 * @throws AppError `EVENT_TIME_ZONE_INVALID` for an unknown zone.
 */
export function wallTimeToEpochMs(wall: number, zone: string): number {
  const steady = steadyOffset(wall, zone)
  if (steady !== undefined) return wall - steady
  // The offsets a day either side bracket every transition that could touch this wall time.
  const before = offsetAt(wall - DAY_MS, zone)
  const after = offsetAt(wall + DAY_MS, zone)
  const candidates = [...new Set([wall - before, wall - after])]
    .filter((instant) => wallAsUtc(instant, zone) === wall)
    .sort((a, b) => a - b)
  const earliest = candidates[0]
  if (earliest !== undefined) return earliest
  // A gap: the offset before the jump.
  return wall - before
}

/**
 * Reads an upstream `date` (`YYYY-MM-DD HH:MM:SS`, the operation's wall-clock time) as a UTC
 * instant in epoch milliseconds, or `undefined` when the text is not in that exact form or names an
 * impossible date (`2025-02-30`, `24:00:00`). See {@link wallTimeToEpochMs} for DST transitions.
 *
 * @throws AppError `EVENT_TIME_ZONE_INVALID` for an unknown zone.
 */
export function upstreamDateToEpochMs(date: string, zone: string): number | undefined {
  const match = UPSTREAM_DATE.exec(date)
  if (!match) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const wall = Date.UTC(year, month - 1, day, hour, minute, second)
  const check = new Date(wall)
  if (
    year < 1 ||
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined
  }
  return wallTimeToEpochMs(wall, zone)
}
