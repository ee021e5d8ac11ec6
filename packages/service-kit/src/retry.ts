import { AppError } from '@wolkvox-chat-stream/errors'

/** Thrown by {@link retrying} when its signal aborts: the caller is stopping, not failing. */
export class Stopped extends Error {
  constructor() {
    super('stopped')
    this.name = 'Stopped'
  }
}

/** Options for {@link retrying}. */
export interface RetryingOptions {
  signal: AbortSignal
  /** First pause. Default 200 ms. */
  initialBackoffMs?: number
  /** Longest pause. */
  maxBackoffMs: number
  /** Told before each pause. */
  onRetry?: (error: AppError, attempt: number, delayMs: number) => void
  /**
   * Called at least once a second while pausing (Kafka group heartbeats). Whatever it throws ends
   * the retrying at once: a rebalance must reach the consumer loop.
   */
  tick?: () => Promise<void>
  /** Default 0.5..1 of the computed pause; injectable for tests. */
  random?: () => number
}

/** The jittered exponential pause before retry number `attempt` (1-based). */
export function backoffMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30))
  return Math.round(base / 2 + (base / 2) * random())
}

/**
 * Runs `fn` until it succeeds, pausing with jittered exponential backoff after each retriable
 * failure (an AppError with `retriable: true`). Anything else is thrown at once, as is.
 *
 * @throws {@link Stopped} when `signal` aborts, the first non-retriable error, or what `tick` throws.
 */
export async function retrying<T>(fn: () => Promise<T>, options: RetryingOptions): Promise<T> {
  const initial = options.initialBackoffMs ?? 200
  for (let attempt = 1; ; attempt++) {
    if (options.signal.aborted) throw new Stopped()
    try {
      return await fn()
    } catch (error) {
      if (!(error instanceof AppError) || !error.retriable || options.signal.aborted) {
        if (options.signal.aborted && !(error instanceof Stopped)) throw new Stopped()
        throw error
      }
      const delay = backoffMs(attempt, initial, options.maxBackoffMs, options.random)
      options.onRetry?.(error, attempt, delay)
      await pause(delay, options.signal, options.tick)
    }
  }
}

/** Sleeps `ms`, calling `tick` every second; resolves early (then {@link retrying} stops) on abort. */
async function pause(
  ms: number,
  signal: AbortSignal,
  tick: (() => Promise<void>) | undefined,
): Promise<void> {
  const until = Date.now() + ms
  while (!signal.aborted && Date.now() < until) {
    await sleep(Math.min(1_000, until - Date.now()), signal)
    if (tick && !signal.aborted) await tick()
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
