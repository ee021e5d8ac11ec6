/*
 * Mutation runs only (vitest.mutation.config.ts). The fuzz tests bound each call's time
 * (`withinMs`, 50-100 ms) to catch a parser that hangs on some input. Under Stryker the code is
 * instrumented (every mutant a branch, coverage counted per test) and the machine is shared, so
 * those bounds fail the initial run for no fault of the code. They are raised twentyfold here: a
 * hang (the defect they exist for) still fails, and a mutant that loops forever is Stryker's
 * timeout anyway.
 */
import type * as FastCheck from 'fast-check'
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

/*
 * The properties run a tenth of their runs (at least 20). A surviving mutant runs every test that
 * covered it, and a property of 1,000-3,000 runs of instrumented code is most of that time: the
 * trámite engine's run was estimated at three hours with them. The unit tests around each property pin
 * its known cases; the whole runs stay in `npm test`.
 */
const RUNS_DIVISOR = 10

vi.mock('fast-check', async (importOriginal) => {
  const actual = await importOriginal<typeof FastCheck & { default: typeof FastCheck }>()
  const assert = ((
    property: FastCheck.IRawProperty<unknown>,
    params?: FastCheck.Parameters<unknown>,
  ) =>
    actual.assert(property, {
      ...params,
      numRuns: Math.max(
        20,
        Math.ceil((params?.numRuns ?? actual.readConfigureGlobal().numRuns ?? 100) / RUNS_DIVISOR),
      ),
    })) as typeof actual.assert
  const fc = { ...actual.default, assert }
  return { ...actual, assert, default: fc }
})
