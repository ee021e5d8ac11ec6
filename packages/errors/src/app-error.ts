import { errorCodes, type ErrorCode } from './codes.js'

/** Options for {@link AppError}. */
export interface AppErrorOptions {
  /** The underlying error. Never pass anything that holds a secret in its message. */
  cause?: unknown
  /** Overrides the registry's default for this code. */
  retriable?: boolean
  /** Structured, secret-free context (a field name, a topic, a port). */
  details?: Readonly<Record<string, unknown>>
}

/**
 * The one base error of the project: a fixed `code` from the registry, whether retrying may help,
 * and the `cause` that led to it. Callers branch on `code`, never on `message`.
 */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly retriable: boolean
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.retriable = options.retriable ?? errorCodes[code].retriable
    this.details = Object.freeze({ ...(options.details ?? {}) })
  }

  /** A JSON-safe view for structured logs: code, message, retriable, details, and the cause chain. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
      ...(this.cause === undefined ? {} : { cause: serializeError(this.cause) }),
    }
  }
}

/** True when `value` is an {@link AppError}, optionally with the given code. */
export function isAppError(value: unknown, code?: ErrorCode): value is AppError {
  return value instanceof AppError && (code === undefined || value.code === code)
}

/**
 * Whether an error may succeed on a retry: an AppError says so itself; anything else is treated
 * as not retriable, so unknown failures surface instead of looping.
 */
export function isRetriable(error: unknown): boolean {
  return error instanceof AppError ? error.retriable : false
}

/** Turns any thrown value into plain JSON (message, code when present, cause chain), depth-bounded. */
export function serializeError(error: unknown, depth = 0): unknown {
  if (depth > 5) return '[cause chain truncated]'
  if (error instanceof AppError) return error.toJSON()
  if (error instanceof Error) {
    const out: Record<string, unknown> = { name: error.name, message: error.message }
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' || typeof code === 'number') out.code = code
    if (error.cause !== undefined) out.cause = serializeError(error.cause, depth + 1)
    return out
  }
  return { message: safeString(error) }
}

/** `String(value)` that never throws (an object without a prototype has no `toString`). */
function safeString(value: unknown): string {
  try {
    return String(value)
  } catch {
    try {
      return JSON.stringify(value) ?? '[unprintable]'
    } catch {
      return '[unprintable]'
    }
  }
}
