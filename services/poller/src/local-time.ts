import {
  formatWallClock,
  instantsOfWall,
  isTimeZone,
  parseWallClock,
  wallFields,
  wallOf,
  type WallFields,
} from '@wolkvox-chat-stream/zoned-time'

/** Wall-clock fields of an instant in a zone. */
export type LocalParts = WallFields

export { offsetAt } from '@wolkvox-chat-stream/zoned-time'

/** Whether `zone` is an IANA zone this platform knows. */
export const isValidZone = isTimeZone

/** The wall-clock fields of the instant `epochMs` in `zone`. */
export const localParts = wallFields

/** `YYYYmmddHHiiss` of an instant in a zone (the format of `date_ini`/`date_end`). */
export const toWolkvoxStamp = (epochMs: number, zone: string): string =>
  formatWallClock(epochMs, zone)

/** Every instant whose wall clock in `zone` shows `parts` (two in a fall-back, none in a gap). */
export const instantsOf = (parts: LocalParts, zone: string): number[] =>
  instantsOfWall(wallOf(parts), zone)

/** Parses `YYYYmmddHHiiss` or `YYYY-MM-DD HH:MM:SS` into wall-clock fields, or null. */
export const parseLocal = (text: string): LocalParts | null => parseWallClock(text) ?? null
