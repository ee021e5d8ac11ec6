/**
 * Wall-clock time in an operation's zone, the way Wolkvox speaks it (`YYYYmmddHHiiss` and
 * `YYYY-MM-DD HH:MM:SS`, no offset), to and from UTC instants, with the platform's time-zone
 * database (Intl). The one implementation the client, the event builder and the poller share, and
 * the one reader of the times every command and HTTP query takes ({@link parseTimeBound}).
 *
 * A "wall" value is the epoch milliseconds of the wall-clock fields read as if they were UTC
 * (`Date.UTC(year, month - 1, day, hour, minute, second)`).
 */

const DAY_MS = 86_400_000
const WALL_CLOCK = /^(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})$/
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone)
  if (formatter === undefined) {
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
      numberingSystem: 'latn',
    })
    formatters.set(zone, formatter)
  }
  return formatter
}

/** True when `zone` is an IANA zone name this runtime knows (`America/Bogota`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  try {
    formatterFor(zone)
    return true
  } catch {
    return false
  }
}

/** Wall-clock fields. */
export interface WallFields {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

/**
 * The wall-clock fields of the instant `epochMs` in `zone`.
 * @throws RangeError for an unknown zone (check it once with {@link isTimeZone}).
 */
export function wallFields(epochMs: number, zone: string): WallFields {
  const fields: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {}
  for (const part of formatterFor(zone).formatToParts(epochMs)) fields[part.type] = part.value
  const year = Number(fields.year)
  return {
    year: fields.era === 'BC' ? 1 - year : year,
    month: Number(fields.month),
    day: Number(fields.day),
    hour: Number(fields.hour),
    minute: Number(fields.minute),
    second: Number(fields.second),
  }
}

/**
 * `Date.UTC` for every year: `Date.UTC` itself reads the years 0 to 99 as 1900 to 1999, which made
 * `0050-01-01 00:00:00` unreadable and its wall value that of 1950. Out-of-range fields roll over
 * as in `Date.UTC`.
 */
function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, 0)
  return date.getTime()
}

/** The wall value of fields: their epoch milliseconds read as UTC. */
export const wallOf = (f: WallFields): number =>
  utcMs(f.year, f.month, f.day, f.hour, f.minute, f.second)

/** The wall value of the instant `epochMs` in `zone`. */
export function wallAt(epochMs: number, zone: string): number {
  return wallOf(wallFields(epochMs, zone))
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0')

/**
 * Wolkvox's 14 digits `YYYYmmddHHiiss` for the instant in `zone` (milliseconds dropped). Years
 * outside 1000–9999 give a longer or shorter string, which request validation rejects.
 */
export function formatWallClock(instant: Date | number, zone: string): string {
  const f = wallFields(Math.floor(Number(instant) / 1000) * 1000, zone)
  return `${f.year}${pad(f.month)}${pad(f.day)}${pad(f.hour)}${pad(f.minute)}${pad(f.second)}`
}

/** The zone's offset from UTC at `epochMs`, in milliseconds (Bogotá: -18,000,000). */
export function offsetAt(epochMs: number, zone: string): number {
  const whole = Math.floor(epochMs / 1000) * 1000
  return wallAt(whole, zone) - whole
}

const steadyDays = new Map<string, number | null>()

/**
 * The zone's offset when it is the same a day before, at the start, at the end and a day after the
 * UTC day of `wall`, else `undefined`. Cached per zone and day, so a window of messages costs a few
 * `Intl` calls per day instead of several per message. Assumes no zone changes its offset and back
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
 * Every instant whose wall clock in `zone` is `wall`: one normally, two inside a DST fall-back
 * (earliest first), none inside a spring-forward gap.
 */
export function instantsOfWall(wall: number, zone: string): number[] {
  const steady = steadyOffset(wall, zone)
  if (steady !== undefined) return [wall - steady]
  const candidates = new Set([
    wall - offsetAt(wall - DAY_MS, zone),
    wall - offsetAt(wall + DAY_MS, zone),
  ])
  return [...candidates].filter((instant) => wallAt(instant, zone) === wall).sort((a, b) => a - b)
}

/**
 * The UTC instant (epoch ms) of the wall value `wall` in `zone`. Deterministic at DST changes,
 * like `java.time.ZonedDateTime.of` and Temporal's `disambiguation: 'compatible'`: a wall time that
 * occurs twice (fall-back) is the earlier instant; one that does not occur (spring-forward) is read
 * with the offset in force before the jump.
 */
export function wallTimeToEpochMs(wall: number, zone: string): number {
  const instants = instantsOfWall(wall, zone)
  return instants[0] ?? wall - offsetAt(wall - DAY_MS, zone)
}

/**
 * Reads `YYYYmmddHHiiss` or `YYYY-MM-DD HH:MM:SS` into wall-clock fields, or `undefined` for text
 * in neither form or a calendar-impossible time (`2025-02-30`, `24:00:00`).
 */
export function parseWallClock(text: string): WallFields | undefined {
  const match = WALL_CLOCK.exec(text)
  if (!match) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const check = new Date(utcMs(year, month, day, hour, minute, second))
  const valid =
    year >= 1 &&
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59
  return valid ? { year, month, day, hour, minute, second } : undefined
}

/**
 * The UTC instant of a local wall-clock text (`YYYYmmddHHiiss` or `YYYY-MM-DD HH:MM:SS`) in `zone`,
 * or `undefined` when the text is not a valid time. DST as in {@link wallTimeToEpochMs}.
 */
export function wallClockToEpochMs(text: string, zone: string): number | undefined {
  const fields = parseWallClock(text)
  return fields === undefined ? undefined : wallTimeToEpochMs(wallOf(fields), zone)
}

/** A span of instants: `[startMs, endMs)`. */
export interface Window {
  readonly startMs: number
  readonly endMs: number
}

const HOUR_MS = 3_600_000

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
  const midnight = utcMs(f.year, f.month, f.day)
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

/** The local calendar date of an instant in `zone`, as `YYYY-MM-DD`. */
export function localDate(ms: number, zone: string): string {
  const f = wallFields(ms, zone)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${String(f.year).padStart(4, '0')}-${pad(f.month)}-${pad(f.day)}`
}

/**
 * What a time stands for where it is read. They differ only for a bare local date, which means
 * the whole local day: `instant` and `from` give its first instant, `to` the first instant after
 * it (the next day's start: the end of a half-open range `[from, to)`, as the HTTP queries are),
 * `through` its last millisecond (the end of a closed range `[from, through]`, as the poller's
 * backfill and the classifier's reclassify are).
 */
export type TimeBound = 'instant' | 'from' | 'to' | 'through'

/** Options of {@link parseTimeBound}. */
export interface TimeBoundOptions {
  /** The instant a duration ago (`3h`) counts back from. */
  nowMs: number
  /** Default `instant`. */
  bound?: TimeBound
}

/** A time read by {@link parseTimeBound}: epoch milliseconds, or why the text is not a time. */
export type ParsedTime = { ok: true; ms: number } | { ok: false; error: string }

/** The forms {@link parseTimeBound} reads, as its errors list them. */
export const timeForms = (zone: string): string =>
  `use a day (YYYY-MM-DD or YYYYmmdd: the whole day in ${zone}), a time in ${zone} (YYYY-MM-DD HH:MM[:SS], YYYYmmddHHiiss or ISO 8601 without an offset), ISO 8601 with an offset (2026-12-04T10:00:00-05:00) or a duration ago (90s, 30m, 3h, 1d)`

const DURATION_AGO = /^(\d+)(ms|s|m|h|d)$/u
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: HOUR_MS, d: DAY_MS } as const
const DAY_TEXT = /^(\d{4})-(\d\d)-(\d\d)$|^(\d{4})(\d\d)(\d\d)$/u
// Groups: date and time fields (1-6), fraction (7), then `Z` (8) or an offset's sign, hours and
// minutes (9-11).
const TIME_TEXT =
  /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d\d)(?::?(\d\d))?)?$/iu
const COMPACT_TIME = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/u
const DATE_LIMIT_MS = 8.64e15

/** Calendar-valid fields of years 1 to 9999 from their digits, else `undefined`. */
const fieldsOf = (digits: readonly (string | undefined)[]): WallFields | undefined => {
  const [y, mo, d, h = '00', mi = '00', s = '00'] = digits
  return parseWallClock(`${y}-${mo}-${d} ${h}:${mi}:${s}`)
}

/** Whether `ms` is an instant whose local year in `zone` is 1 to 9999 (the years written here). */
function inYears(ms: number, zone: string): boolean {
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > DATE_LIMIT_MS) return false
  const { year } = wallFields(ms, zone)
  return year >= 1 && year <= 9999
}

/**
 * Reads a time as every command and HTTP query of the project takes it (README: Times and
 * ranges), in the operation's `zone`:
 * - ISO 8601 with an offset (`2026-12-04T10:00:00-05:00`, `…Z`): that instant;
 * - without an offset, a wall-clock time in `zone`: `YYYY-MM-DD HH:MM[:SS[.fff]]`, the same with
 *   `T`, or `YYYYmmddHHiiss`; one shown twice (a DST fall-back) is its first occurrence, one that
 *   does not occur (a DST gap) is refused;
 * - a bare date, `YYYY-MM-DD` or `YYYYmmdd`: the whole local day, as `options.bound` says
 *   ({@link TimeBound}), with the zone's real day start and length (23 or 25 hours at DST);
 * - a duration ago, `90s`, `30m`, `3h`, `1d` (or `500ms`): that long before `options.nowMs`.
 *
 * Surrounding space is ignored. Never throws for a known zone: anything else, a
 * calendar-impossible time, or a time outside the local years 1 to 9999 is `{ ok: false }` with a
 * message naming the text and, when its form is wrong, the forms above.
 * @throws RangeError for an unknown zone (check it once with {@link isTimeZone}).
 */
export function parseTimeBound(text: string, zone: string, options: TimeBoundOptions): ParsedTime {
  const trimmed = text.trim()
  const shown = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text)
  const refuse = (why: string): ParsedTime => ({ ok: false, error: `${shown} ${why}` })
  const notATime = (): ParsedTime => refuse(`is not a time: ${timeForms(zone)}`)

  const duration = DURATION_AGO.exec(trimmed)
  if (duration) {
    const ms = options.nowMs - Number(duration[1]) * UNIT_MS[duration[2] as keyof typeof UNIT_MS]
    return inYears(ms, zone) ? { ok: true, ms } : refuse('is too long ago to be a time')
  }

  const day = DAY_TEXT.exec(trimmed)
  if (day) {
    const fields = fieldsOf(day[1] === undefined ? day.slice(4, 7) : day.slice(1, 4))
    if (fields === undefined) return notATime()
    // Noon is inside its day even where a DST jump skips midnight; a day a zone skipped entirely
    // (Pacific/Apia, 2011-12-30) reads as the next one, and is refused.
    const noon = wallTimeToEpochMs(wallOf({ ...fields, hour: 12 }), zone)
    const date = `${pad(fields.year, 4)}-${pad(fields.month)}-${pad(fields.day)}`
    if (localDate(noon, zone) !== date)
      return refuse(`does not exist in ${zone} (skipped by a time-zone change)`)
    const window = dayWindow(noon, zone)
    const { bound } = options
    const ms =
      bound === 'to' ? window.endMs : bound === 'through' ? window.endMs - 1 : window.startMs
    return { ok: true, ms }
  }

  const time = TIME_TEXT.exec(trimmed) ?? COMPACT_TIME.exec(trimmed)
  if (!time) return notATime()
  const fields = fieldsOf(time.slice(1, 7))
  if (fields === undefined) return notATime()
  const fractionMs = Number((time[7] ?? '').padEnd(3, '0').slice(0, 3))
  const [zulu, sign, offsetHours, offsetMinutes] = time.slice(8, 12)
  if (zulu !== undefined || sign !== undefined) {
    // `Z` is the offset 0: no hours, no minutes.
    const hours = Number(offsetHours ?? 0)
    const minutes = Number(offsetMinutes ?? 0)
    if (hours > 23 || minutes > 59) return notATime()
    const offsetMs = (sign === '-' ? -1 : 1) * (hours * 60 + minutes) * 60_000
    const ms = wallOf(fields) + fractionMs - offsetMs
    return inYears(ms, zone) ? { ok: true, ms } : refuse('is outside the years 1 to 9999')
  }
  const first = instantsOfWall(wallOf(fields), zone)[0]
  if (first === undefined)
    return refuse(`does not exist in ${zone} (skipped by a daylight-saving change)`)
  return { ok: true, ms: first + fractionMs }
}
