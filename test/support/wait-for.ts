import { isDeepStrictEqual } from 'node:util'
import { expect } from 'vitest'

/**
 * Polls `predicate` until it returns a truthy value (which is returned) or the time runs out.
 * Tests wait on observable state with this, never on fixed sleeps.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await predicate()
      if (value) return value
    } catch (error) {
      last = error
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last })
}

/**
 * Waits until `read()` deep-equals `want`; on a timeout, fails with the difference of the last
 * read (an `expect(...).toEqual` diff) rather than only the time it took.
 */
export async function waitForEqual<T>(
  read: () => Promise<T>,
  want: T,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  try {
    await waitFor(async () => isDeepStrictEqual(await read(), want), options)
  } catch (error) {
    expect(await read(), options.what).toEqual(want)
    throw error
  }
}

/** How long a test's HTTP request to a service may take before it counts as failed. */
export const REQUEST_TIMEOUT_MS = 15_000

/**
 * A test's time budget shared by its waits: `within(ms)` is `ms`, or what is left of the budget
 * when less. Waits given their time this way fail with their own message (and the test's `catch`
 * can print what it knows) before the test's timeout ends it silently.
 */
export function timeBudget(totalMs: number): { within(ms: number): number; leftMs(): number } {
  const end = Date.now() + totalMs
  const leftMs = () => Math.max(0, end - Date.now())
  return { within: (ms) => Math.max(1, Math.min(ms, leftMs())), leftMs }
}

/** A name unique to this test run, for topics, groups and keys. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`
}
