import { dayWindow, localDate } from '@wolkvox-chat-stream/zoned-time'

/** The local calendar day of an instant in `zone`, as `YYYYMMDD` (the daily quota's key). */
export const localDay = (epochMs: number, zone: string): string =>
  localDate(epochMs, zone).replaceAll('-', '')

/**
 * The first instant of the local day after the one holding `epochMs` in `zone`: when a daily
 * quota starts again. Where midnight is skipped by a daylight-saving change, the instant of the
 * jump (the first wall-clock time that exists that day).
 */
export const nextLocalMidnight = (epochMs: number, zone: string): number =>
  dayWindow(epochMs, zone).endMs
