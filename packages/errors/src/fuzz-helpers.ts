import { AppError } from './app-error.js'
import { errorCodes, type ErrorCode } from './codes.js'

/**
 * Helpers for property-based tests of parsers of outside input. They depend on no test library:
 * a violation is thrown as a plain `Error` naming the input, which the property runner reports.
 */

/**
 * Inputs that have broken parsers before, to mix into generated ones: empty and blank text, NUL
 * (raw and percent-encoded), dot segments, backslashes, prototype keys, numbers as text, digits of
 * other scripts, lone surrogates, direction overrides, a BOM, combining marks, 10,000-character
 * runs and deep JSON.
 */
export const hostileStrings: readonly string[] = [
  '',
  ' ',
  '\t\r\n',
  '\u0000',
  'a\u0000b',
  '%00',
  '%',
  '%zz',
  '%C0%AE',
  '.',
  '..',
  '../..',
  '/../',
  '%2e%2e',
  '%2E%2e%2F',
  '.%2e',
  '\\',
  '//',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x1F',
  '9007199254740993',
  '-9007199254740993',
  '00000000000000000000001',
  '١٢٣٤',
  '１２３４',
  '😀',
  '\ud800',
  '\udc00x',
  '\u202e',
  '\ufeff',
  '\u2028',
  'İ',
  'ß',
  'e\u0301',
  '\u00ad',
  'x'.repeat(10_000),
  '9'.repeat(10_000),
  ' '.repeat(10_000),
  '%00'.repeat(3_000),
  '../'.repeat(3_000),
  '['.repeat(10_000),
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
  `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
]

/**
 * A JSON value nested `depth` levels deep (arrays), as `JSON.parse` builds it from 2 × depth bytes.
 * It prints as `deeplyNested(depth)` in a property runner's report (fast-check's registered
 * `toStringMethod` symbol, which JSON and `Object.keys` do not see), since printing it whole
 * would overflow the stack.
 */
export function deeplyNested(depth: number): unknown {
  const value = JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown[]
  Object.defineProperty(value, Symbol.for('fast-check/toStringMethod'), {
    value: () => `deeplyNested(${depth})`,
  })
  return value
}

/** What a parser did with one input: returned a value, or refused it with an AppError. */
export type ParseOutcome<T> = { ok: true; value: T } | { ok: false; error: AppError }

/** A short, never-throwing rendering of a fuzz input for a violation message. */
export function describeInput(input: unknown): string {
  let text: string
  try {
    text =
      typeof input === 'string'
        ? JSON.stringify(input)
        : input instanceof Uint8Array
          ? `bytes ${Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('hex')}`
          : (JSON.stringify(input) ?? String(input))
  } catch {
    text = Object.prototype.toString.call(input)
  }
  return text.length > 400 ? `${text.slice(0, 400)}… (${text.length} characters)` : text
}

/**
 * Calls `fn` and passes when it returns, or throws an {@link AppError} whose code is in the
 * registry (and in `allowedCodes`, when given). Anything else (a TypeError, a RangeError, a
 * string, an AppError with an unregistered or unexpected code) is a violation.
 *
 * @param input - shown in the violation message (the property runner shows it too).
 * @throws Error describing the violation, with the thrown value as `cause`.
 */
export function expectOnlyAppErrors<T>(
  fn: () => T,
  allowedCodes?: readonly ErrorCode[],
  input?: unknown,
): ParseOutcome<T> {
  try {
    return { ok: true, value: fn() }
  } catch (thrown) {
    const shown = input === undefined ? '' : ` for input ${describeInput(input)}`
    if (!(thrown instanceof AppError)) {
      const what =
        thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : describeInput(thrown)
      throw new Error(`threw something that is not an AppError${shown}: ${what}`, {
        cause: thrown,
      })
    }
    if (!Object.hasOwn(errorCodes, thrown.code)) {
      throw new Error(`threw an AppError with the unregistered code ${thrown.code}${shown}`, {
        cause: thrown,
      })
    }
    if (allowedCodes !== undefined && !allowedCodes.includes(thrown.code)) {
      throw new Error(
        `threw ${thrown.code}, not one of ${allowedCodes.join(', ')}${shown}: ${thrown.message}`,
        { cause: thrown },
      )
    }
    return { ok: false, error: thrown }
  }
}

/** The bound of {@link withinMs} unless told otherwise: generous, but far below a hang. */
export const FUZZ_TIME_LIMIT_MS = 100

/**
 * Calls `fn` and fails when it takes `ms` milliseconds or more, measured synchronously (a hang
 * never returns, so the test's own timeout catches that). A slow call is timed once more before it
 * counts, so that one garbage collection or a busy CPU does not fail a test: a parser that is slow
 * on an input is slow on it twice. Whatever `fn` throws is passed on.
 *
 * @throws Error when both calls took too long.
 */
export function withinMs<T>(fn: () => T, ms: number = FUZZ_TIME_LIMIT_MS, input?: unknown): T {
  let elapsed = 0
  for (let attempt = 1; attempt <= 2; attempt++) {
    const started = performance.now()
    let outcome: { value: T } | { thrown: unknown }
    try {
      outcome = { value: fn() }
    } catch (thrown) {
      outcome = { thrown }
    }
    elapsed = performance.now() - started
    if (elapsed < ms) {
      if ('thrown' in outcome) throw outcome.thrown
      return outcome.value
    }
  }
  const shown = input === undefined ? '' : ` for input ${describeInput(input)}`
  throw new Error(`took ${elapsed.toFixed(1)} ms, over the ${ms} ms bound${shown}`)
}

/**
 * The AppError that `action` throws, for a test to assert its code, message and details. Throws a
 * plain `Error` when `action` returns, or throws something that is not an AppError.
 */
export function thrownAppError(action: () => unknown): AppError {
  try {
    action()
  } catch (error) {
    if (error instanceof AppError) return error
    throw new Error(`expected an AppError, got ${String(error)}`, { cause: error })
  }
  throw new Error('expected an AppError, but nothing was thrown')
}
