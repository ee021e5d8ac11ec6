/** How {@link createWolkvoxClient} retries retriable failures. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 4. */
  maxAttempts: number
  /** The first backoff; doubles per attempt. Default 1000. */
  baseDelayMs: number
  /** The largest backoff (before a longer Retry-After or maintenance delay). Default 30000. */
  maxDelayMs: number
  /** No retry starts later than this after the first attempt began. Default 180000. */
  maxElapsedMs: number
  /** The least wait after a maintenance answer (403 with an unknown body). Default 60000. */
  maintenanceDelayMs: number
}

/** The defaults of {@link RetryOptions}. */
export const defaultRetryOptions: Readonly<RetryOptions> = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxElapsedMs: 180_000,
  maintenanceDelayMs: 60_000,
})

/**
 * The backoff before attempt `failedAttempt + 1`: exponential, capped at `maxDelayMs`, with
 * "equal jitter" (half fixed, half random) so that pollers that failed together do not retry
 * together, yet never retry at once.
 */
export function backoffDelayMs(
  failedAttempt: number,
  options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs'>,
  random: () => number,
): number {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (failedAttempt - 1))
  return Math.round(exponential / 2 + (exponential / 2) * random())
}

/**
 * A `Retry-After` header in milliseconds from `nowMs`: delta seconds or an HTTP date. Returns
 * `undefined` when absent or unreadable; a date in the past gives 0.
 */
export function parseRetryAfterMs(
  value: string | string[] | undefined,
  nowMs: number,
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  if (text === undefined || text === '') return undefined
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}
