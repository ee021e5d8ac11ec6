import { AppError } from '@wolkvox-chat-stream/errors'
import { createRandom, hashSeed } from './random.js'

/**
 * A misbehaviour of the upstream. Faults that answer instead of the API (`server-error`,
 * `rate-limited`, `maintenance`, `no-answer`, `huge`, `redirect`, `response`) apply before the
 * token is checked; faults that spoil a real answer (`slow`, `truncated`, `wrong-types`,
 * `wrong-shape`, `disconnect`) apply to whatever the API would have sent.
 */
export type Fault =
  | { kind: 'server-error'; status?: number }
  | { kind: 'rate-limited'; retryAfterSeconds?: number }
  | { kind: 'maintenance' }
  | { kind: 'no-answer' }
  | { kind: 'huge'; bytes?: number }
  | { kind: 'redirect'; location?: string }
  | { kind: 'response'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'slow'; chunkBytes?: number; intervalMs?: number }
  | { kind: 'truncated' }
  | { kind: 'wrong-types' }
  | { kind: 'wrong-shape' }
  | { kind: 'disconnect' }

/** A fault and how many of the next calls it applies to (default 1). */
export type FaultSpec = Fault & { count?: number }

/** The fault kinds, for validation and help. */
export const faultKinds = [
  'server-error',
  'rate-limited',
  'maintenance',
  'no-answer',
  'huge',
  'redirect',
  'response',
  'slow',
  'truncated',
  'wrong-types',
  'wrong-shape',
  'disconnect',
] as const

/** Fault kinds that answer in place of the API. */
export const answeringFaults: ReadonlySet<Fault['kind']> = new Set([
  'server-error',
  'rate-limited',
  'maintenance',
  'no-answer',
  'huge',
  'redirect',
  'response',
])

const numberFields: Record<string, readonly [string, number, number][]> = {
  'server-error': [['status', 500, 599]],
  'rate-limited': [['retryAfterSeconds', 0, 86_400]],
  huge: [['bytes', 1, 2 ** 40]],
  slow: [
    ['chunkBytes', 1, 1_048_576],
    ['intervalMs', 0, 600_000],
  ],
  response: [['status', 100, 599]],
}

/**
 * Checks a fault received over HTTP or from the command line.
 * @throws AppError `CONFIG_INVALID` naming what is wrong.
 */
export function parseFaultSpec(value: unknown): FaultSpec {
  const bad = (problem: string): AppError =>
    new AppError(
      'CONFIG_INVALID',
      `Invalid fault ${JSON.stringify(value)?.slice(0, 200)}: ${problem}`,
    )
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('not an object')
  const spec = value as Record<string, unknown>
  if (!(faultKinds as readonly unknown[]).includes(spec.kind)) {
    throw bad(`kind must be one of ${faultKinds.join(', ')}`)
  }
  if (
    spec.count !== undefined &&
    !(Number.isSafeInteger(spec.count) && (spec.count as number) >= 1)
  ) {
    throw bad('count must be a whole number >= 1')
  }
  for (const [field, min, max] of numberFields[spec.kind as string] ?? []) {
    const v = spec[field]
    if (v === undefined && !(spec.kind === 'response' && field === 'status')) continue
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw bad(`${field} must be a whole number in ${min}..${max}`)
    }
  }
  if (spec.kind === 'response') {
    if (spec.body !== undefined && typeof spec.body !== 'string') throw bad('body must be a string')
    if (
      spec.headers !== undefined &&
      (typeof spec.headers !== 'object' ||
        spec.headers === null ||
        Object.values(spec.headers).some((h) => typeof h !== 'string'))
    ) {
      throw bad('headers must map names to strings')
    }
  }
  if (
    spec.kind === 'redirect' &&
    spec.location !== undefined &&
    typeof spec.location !== 'string'
  ) {
    throw bad('location must be a string')
  }
  return spec as FaultSpec
}

/** The faults still to apply, in order, and the fault of the whole run. */
export interface FaultPlan {
  /** Appends faults for the next calls. */
  push(...specs: FaultSpec[]): void
  /** The fault for the next call, if any (the queue first, then the run's fault at its rate). */
  next(): Fault | undefined
  clear(): void
  /** What is queued, and the run's fault. */
  describe(): { queue: FaultSpec[]; run: (Fault & { rate: number }) | null }
}

/**
 * Creates a {@link FaultPlan}. The run's fault applies to each call with probability `rate`,
 * decided by the seed and the call's number, so a run with faults is reproducible too.
 */
export function createFaultPlan(run: Fault | undefined, rate: number, seed: number): FaultPlan {
  let queue: { fault: Fault; remaining: number }[] = []
  let calls = 0
  return {
    push(...specs) {
      for (const spec of specs) {
        const { count, ...fault } = spec
        queue.push({ fault, remaining: count ?? 1 })
      }
    },
    next() {
      calls += 1
      const head = queue[0]
      if (head !== undefined) {
        head.remaining -= 1
        if (head.remaining <= 0) queue.shift()
        return head.fault
      }
      if (run === undefined) return undefined
      return createRandom(hashSeed(seed, calls, 0xfa17))() < rate ? run : undefined
    },
    clear() {
      queue = []
    },
    describe: () => ({
      queue: queue.map(({ fault, remaining }) => ({ ...fault, count: remaining })),
      run: run === undefined ? null : { ...run, rate },
    }),
  }
}
