/**
 * Wall-clock time in an operation's zone, the way Wolkvox speaks it (`YYYYmmddHHiiss`, no offset),
 * converted to and from UTC instants with the platform's time-zone database (Intl).
 */

/** Wall-clock fields of an instant in a zone. */
export interface LocalParts {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    formatters.set(zone, f)
  }
  return f
}

/** Whether `zone` is an IANA zone this platform knows. */
export function isValidZone(zone: string): boolean {
  try {
    formatter(zone)
    return true
  } catch {
    return false
  }
}

/** The wall-clock fields of the instant `epochMs` in `zone`. */
export function localParts(epochMs: number, zone: string): LocalParts {
  const out: Record<string, number> = {}
  for (const part of formatter(zone).formatToParts(new Date(epochMs))) {
    if (part.type !== 'literal') out[part.type] = Number(part.value)
  }
  return {
    year: out.year!,
    month: out.month!,
    day: out.day!,
    hour: out.hour!,
    minute: out.minute!,
    second: out.second!,
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** `YYYYmmddHHiiss` of an instant in a zone (the format of `date_ini`/`date_end`). */
export function toWolkvoxStamp(epochMs: number, zone: string): string {
  const p = localParts(epochMs, zone)
  return `${pad(p.year, 4)}${pad(p.month)}${pad(p.day)}${pad(p.hour)}${pad(p.minute)}${pad(p.second)}`
}

/** Milliseconds since the epoch of the wall-clock fields read as if they were UTC. */
function asUtc(p: LocalParts): number {
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
}

/** The zone's offset from UTC (ms) at an instant. */
export function offsetAt(epochMs: number, zone: string): number {
  const whole = Math.floor(epochMs / 1000) * 1000
  return asUtc(localParts(whole, zone)) - whole
}

/**
 * Every instant whose wall clock in `zone` shows `parts`: one normally, two inside a DST
 * fall-back (earliest first), none inside a spring-forward gap.
 */
export function instantsOf(parts: LocalParts, zone: string): number[] {
  const wall = asUtc(parts)
  const candidates = new Set<number>()
  // Offsets in use within a day either side cover every transition of every real zone.
  for (const probe of [wall - 86_400_000, wall, wall + 86_400_000])
    candidates.add(wall - offsetAt(probe, zone))
  return [...candidates]
    .filter((instant) => asUtc(localParts(instant, zone)) === wall)
    .sort((a, b) => a - b)
}

/** Parses `YYYYmmddHHiiss` or `YYYY-MM-DD HH:MM:SS` into wall-clock fields, or null. */
export function parseLocal(text: string): LocalParts | null {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})[ T]?(\d{2}):?(\d{2}):?(\d{2})$/.exec(text)
  if (!m) return null
  const parts = {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: Number(m[6]),
  }
  const check = new Date(asUtc(parts))
  const valid =
    check.getUTCFullYear() === parts.year &&
    check.getUTCMonth() + 1 === parts.month &&
    check.getUTCDate() === parts.day &&
    parts.hour < 24 &&
    parts.minute < 60 &&
    parts.second < 60
  return valid ? parts : null
}
