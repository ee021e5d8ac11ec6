import { AppError } from '@wolkvox-chat-stream/errors'
import { parseDuration } from './duration.js'
import { Secret, readSecretFile } from './secret.js'

/** The environment to read: `process.env` in services, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>

/** One problem found while reading the configuration. */
export interface ConfigProblem {
  variable: string
  problem: string
}

/**
 * Reads typed values from an environment and collects every problem instead of stopping at the
 * first, so an operator fixes a configuration in one pass. Call {@link EnvReader.done} last.
 */
export class EnvReader {
  readonly problems: ConfigProblem[] = []

  constructor(private readonly env: Env) {}

  /** Records a problem found by the caller's own validation. */
  report(variable: string, problem: string): void {
    this.problems.push({ variable, problem })
  }

  private raw(name: string): string | undefined {
    const value = this.env[name]
    return value === undefined || value.trim() === '' ? undefined : value.trim()
  }

  string(name: string, fallback: string): string
  string(name: string): string | undefined
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback
  }

  /** A required string: records a problem when it is missing. */
  required(name: string, hint = 'is required'): string {
    const value = this.raw(name)
    if (value === undefined) this.report(name, hint)
    return value ?? ''
  }

  integer(name: string, fallback: number, { min = -Infinity, max = Infinity } = {}): number {
    const text = this.raw(name)
    if (text === undefined) return fallback
    const value = Number(text)
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
      this.report(name, `"${text}" is not a whole number`)
      return fallback
    }
    if (value < min || value > max) {
      this.report(name, `${value} is outside ${min}..${max}`)
      return fallback
    }
    return value
  }

  boolean(name: string, fallback: boolean): boolean {
    const text = this.raw(name)?.toLowerCase()
    if (text === undefined) return fallback
    if (['true', '1', 'yes', 'on'].includes(text)) return true
    if (['false', '0', 'no', 'off'].includes(text)) return false
    this.report(name, `"${text}" is not true or false`)
    return fallback
  }

  /** A duration (`500ms`, `30s`, `5m`, `1h`, `1d`) in milliseconds. */
  durationMs(name: string, fallback: string): number {
    const text = this.raw(name) ?? fallback
    try {
      return parseDuration(text)
    } catch {
      this.report(name, `"${text}" is not a duration (use 500ms, 30s, 5m, 1h or 1d)`)
      return parseDuration(fallback)
    }
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const text = this.raw(name)
    if (text === undefined) return fallback
    if ((allowed as readonly string[]).includes(text)) return text as T
    this.report(name, `"${text}" is not one of ${allowed.join(', ')}`)
    return fallback
  }

  /** A comma-separated list, trimmed, empty items dropped. */
  list(name: string, fallback: readonly string[]): string[] {
    const text = this.raw(name)
    if (text === undefined) return [...fallback]
    return text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '')
  }

  /** A secret; its value never appears in a problem message. */
  secret(name: string): Secret | undefined {
    const value = this.env[name]
    return value === undefined || value === '' ? undefined : new Secret(value)
  }

  /**
   * A secret kept in the file that variable `name` names (trimmed); undefined when the variable is
   * unset, or with a problem when the file cannot be read or is empty.
   */
  secretFile(name: string): Secret | undefined {
    const path = this.raw(name)
    if (path === undefined) return undefined
    const read = readSecretFile(path)
    if (typeof read === 'string') {
      this.report(name, read)
      return undefined
    }
    return read
  }

  /**
   * Ends reading.
   * @throws AppError `CONFIG_INVALID` listing every problem, one per line.
   */
  done(): void {
    if (this.problems.length === 0) return
    const lines = this.problems.map(({ variable, problem }) => `  - ${variable}: ${problem}`)
    throw new AppError(
      'CONFIG_INVALID',
      `Invalid configuration (${this.problems.length} problem${this.problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`,
      { details: { problems: this.problems.map((p) => ({ ...p })) } },
    )
  }
}

/**
 * Reads a configuration in one pass: `read` pulls every value through the reader, then all
 * problems are thrown together and the result is frozen.
 * @throws AppError `CONFIG_INVALID`
 */
export function readConfig<T extends object>(
  env: Env,
  read: (reader: EnvReader) => T,
): Readonly<T> {
  const reader = new EnvReader(env)
  const value = read(reader)
  reader.done()
  return deepFreeze(value)
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const child of Object.values(value)) deepFreeze(child)
  }
  return value
}
