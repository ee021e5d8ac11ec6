/*
 * Local wall-clock arithmetic for the simulator, kept apart from packages/zoned-time (which the
 * client, the event builder and the poller share) on purpose: a fake
 * that shared the client's date code would share its bugs and hide them.
 *
 * "Local seconds" are the local wall-clock fields read as if they were UTC (Date.UTC of them, in
 * seconds). Wolkvox compares zone-less local times, so the simulator compares local seconds too.
 */

const formatters = new Map<string, Intl.DateTimeFormat>()
const offsets = new Map<string, Map<number, number>>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

/** True when the runtime knows `timeZone`. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone)
    return true
  } catch {
    return false
  }
}

/**
 * The zone's offset from UTC in seconds during the UTC hour that holds `utcSec`. Zones change
 * offset on whole hours (or half hours, well inside an hour bucket's cache), so one Intl call per
 * hour serves every message in it.
 */
export function offsetSec(utcSec: number, timeZone: string): number {
  const hour = Math.floor(utcSec / 3600)
  let zone = offsets.get(timeZone)
  if (zone === undefined) {
    zone = new Map()
    offsets.set(timeZone, zone)
  }
  let offset = zone.get(hour)
  if (offset === undefined) {
    const at = hour * 3600
    const parts: Record<string, number> = {}
    for (const part of formatterFor(timeZone).formatToParts(at * 1000)) {
      if (part.type !== 'literal') parts[part.type] = Number(part.value)
    }
    const local = Date.UTC(
      parts.year ?? 1970,
      (parts.month ?? 1) - 1,
      parts.day ?? 1,
      parts.hour ?? 0,
      parts.minute ?? 0,
      parts.second ?? 0,
    )
    offset = local / 1000 - at
    if (zone.size > 100_000) zone.clear()
    zone.set(hour, offset)
  }
  return offset
}

/** Local seconds of a UTC instant in seconds. */
export const toLocalSec = (utcSec: number, timeZone: string): number =>
  utcSec + offsetSec(utcSec, timeZone)

/** The UTC instant of local seconds (the earlier one where the local time repeats). */
export function toUtcSec(localSec: number, timeZone: string): number {
  const candidates = [
    localSec - offsetSec(localSec - 86_400, timeZone),
    localSec - offsetSec(localSec + 86_400, timeZone),
  ]
  const exact = candidates
    .filter((utc) => toLocalSec(utc, timeZone) === localSec)
    .sort((a, b) => a - b)
  return exact[0] ?? (candidates[0] as number)
}

const pad2 = (value: number): string => (value < 10 ? `0${value}` : String(value))
const dayPrefixes = new Map<number, string>()

/** `YYYY-MM-DD HH:MM:SS` of local seconds: the format of a message `date`. */
export function formatDate(localSec: number): string {
  const day = Math.floor(localSec / 86_400)
  let prefix = dayPrefixes.get(day)
  if (prefix === undefined) {
    const d = new Date(day * 86_400_000)
    prefix = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} `
    if (dayPrefixes.size > 100_000) dayPrefixes.clear()
    dayPrefixes.set(day, prefix)
  }
  const second = localSec - day * 86_400
  const hh = Math.floor(second / 3_600)
  const mm = Math.floor((second % 3_600) / 60)
  return `${prefix}${pad2(hh)}:${pad2(mm)}:${pad2(second % 60)}`
}

/** `YYYYmmddHHiiss` of local seconds: the format of `date_ini` and `date_end`. */
export function formatCompact(localSec: number): string {
  return formatDate(localSec).replace(/[- :]/g, '')
}

/** Local seconds of `YYYYmmddHHiiss`, or undefined when it is not exactly 14 digits of a real time. */
export function parseCompact(text: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text)
  if (!match) return undefined
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined
  const ms = Date.UTC(year, month - 1, day, hour, minute, second)
  if (new Date(ms).getUTCDate() !== day) return undefined
  return ms / 1000
}
