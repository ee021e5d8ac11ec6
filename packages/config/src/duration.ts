import { AppError } from '@wolkvox-chat-stream/errors'

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const DURATION = /^(\d+)(ms|s|m|h|d)$/

/**
 * Parses a duration such as `500ms`, `30s`, `5m`, `1h` or `1d` into milliseconds.
 * @throws AppError `CONFIG_DURATION_INVALID` for anything else (no spaces, no decimals, no mixing).
 */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim())
  if (!match) {
    throw new AppError(
      'CONFIG_DURATION_INVALID',
      `"${text}" is not a duration; use a whole number with ms, s, m, h or d (for example 30s or 5m)`,
    )
  }
  const value = Number(match[1])
  const unit = match[2] as keyof typeof UNIT_MS
  const ms = value * UNIT_MS[unit]
  if (!Number.isSafeInteger(ms)) {
    throw new AppError('CONFIG_DURATION_INVALID', `"${text}" is too large`)
  }
  return ms
}

/** Formats milliseconds in the largest unit that divides it exactly: 300000 -> `5m`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms !== 0 && ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`
  }
  return `${ms}ms`
}
