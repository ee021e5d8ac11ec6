import { instantsOf, localParts } from './local-time.js'

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** The local calendar day of an instant in `zone`, as `YYYYMMDD`. */
export function localDay(epochMs: number, zone: string): string {
  const p = localParts(epochMs, zone)
  return `${pad(p.year, 4)}${pad(p.month)}${pad(p.day)}`
}

/**
 * The first instant of the local day after the one holding `epochMs` in `zone`: when a daily
 * quota starts again. Where midnight is skipped by a daylight-saving change, the first hour that
 * exists that day.
 */
export function nextLocalMidnight(epochMs: number, zone: string): number {
  const p = localParts(epochMs, zone)
  const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1))
  for (let hour = 0; hour < 4; hour++) {
    const instants = instantsOf(
      {
        year: next.getUTCFullYear(),
        month: next.getUTCMonth() + 1,
        day: next.getUTCDate(),
        hour,
        minute: 0,
        second: 0,
      },
      zone,
    )
    if (instants[0] !== undefined) return instants[0]
  }
  return epochMs + 86_400_000
}
