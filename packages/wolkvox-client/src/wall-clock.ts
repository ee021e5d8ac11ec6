const WALL_CLOCK = /^(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})$/
const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      numberingSystem: 'latn',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

/** True when `timeZone` is an IANA zone name this runtime knows (`America/Bogota`, `UTC`). */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

interface Fields {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

function fieldsAt(epochMs: number, timeZone: string): Fields {
  const out: Record<string, number> = {}
  for (const part of formatterFor(timeZone).formatToParts(epochMs)) {
    if (part.type !== 'literal') out[part.type] = Number(part.value)
  }
  return {
    year: out.year ?? NaN,
    month: out.month ?? NaN,
    day: out.day ?? NaN,
    hour: out.hour ?? NaN,
    minute: out.minute ?? NaN,
    second: out.second ?? NaN,
  }
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0')

/**
 * The local wall-clock time of `instant` in `timeZone` as Wolkvox's 14 digits `YYYYmmddHHiiss`
 * (milliseconds are dropped). Returns a longer or shorter string for years outside 1000–9999, which
 * request validation then rejects.
 *
 * @throws RangeError when `timeZone` is unknown (validated once when the client is created).
 */
export function formatWallClock(instant: Date | number, timeZone: string): string {
  const f = fieldsAt(Math.floor(Number(instant) / 1000) * 1000, timeZone)
  return `${f.year}${pad(f.month)}${pad(f.day)}${pad(f.hour)}${pad(f.minute)}${pad(f.second)}`
}

/**
 * The UTC instant (epoch milliseconds) of a local wall-clock time in `timeZone`: Wolkvox's
 * `YYYYmmddHHiiss` or a message `date` (`YYYY-MM-DD HH:MM:SS`). Where the local time occurs twice
 * (a DST fall-back) the earlier instant is returned; where it does not exist (spring-forward) the
 * instant it would have had before the jump. Returns `undefined` for text in neither form or a
 * calendar-impossible date (`2025-02-30`).
 */
export function wallClockToEpochMs(text: string, timeZone: string): number | undefined {
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
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second)
  const check = new Date(asUtc)
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined
  }
  // The offset a day either side brackets any transition, so one of the two candidates is exact.
  const candidates = [
    asUtc - offsetMs(asUtc - 86_400_000, timeZone),
    asUtc - offsetMs(asUtc + 86_400_000, timeZone),
  ]
  const exact = candidates
    .filter((candidate) => localAsUtc(candidate, timeZone) === asUtc)
    .sort((a, b) => a - b)
  return exact[0] ?? candidates[0]
}

function localAsUtc(epochMs: number, timeZone: string): number {
  const f = fieldsAt(epochMs, timeZone)
  return Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second)
}

function offsetMs(epochMs: number, timeZone: string): number {
  const whole = Math.floor(epochMs / 1000) * 1000
  return localAsUtc(whole, timeZone) - whole
}
