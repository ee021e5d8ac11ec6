/*
 * Mutation runs only (vitest.mutation.config.ts). The fuzz tests bound each call's time
 * (`withinMs`, 50-100 ms) to catch a parser that hangs on some input. Under Stryker the code is
 * instrumented (every mutant a branch, coverage counted per test) and the machine is shared, so
 * those bounds fail the initial run for no fault of the code. They are raised twentyfold here: a
 * hang (the defect they exist for) still fails, and a mutant that loops forever is Stryker's
 * timeout anyway.
 */
import { vi } from 'vitest'
import type * as Errors from '@wolkvox-chat-stream/errors'

const SLOWDOWN = 20

vi.mock('@wolkvox-chat-stream/errors', async (importOriginal) => {
  const actual = await importOriginal<typeof Errors>()
  return {
    ...actual,
    withinMs: <T>(fn: () => T, ms: number = actual.FUZZ_TIME_LIMIT_MS, input?: unknown): T =>
      actual.withinMs(fn, ms * SLOWDOWN, input),
  }
})
