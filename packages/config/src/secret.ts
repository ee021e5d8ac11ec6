import { readFileSync } from 'node:fs'

const REDACTED = '[redacted]'
const values = new WeakMap<Secret, string>()

/**
 * A value that must never be printed: a Wolkvox token, a SASL password. It renders as
 * `[redacted]` through `String()`, template literals, `JSON.stringify`, `util.inspect` and
 * `console.log`; only {@link Secret.reveal} gives the value, and only where it is sent.
 */
export class Secret {
  constructor(value: string) {
    // Kept outside the object so no enumeration, spread or structured clone can reach it.
    values.set(this, value)
    Object.freeze(this)
  }

  /** The secret value. Call it only at the point of use (an HTTP header, a SASL handshake). */
  reveal(): string {
    return values.get(this) ?? ''
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED
  }
}

/** True for a {@link Secret}. */
export function isSecret(value: unknown): value is Secret {
  return value instanceof Secret
}

/**
 * Reads a secret kept in a file (a token, a password, a private key): its content with surrounding
 * whitespace trimmed, or an error text naming the file, never its content, when it cannot be used.
 */
export function readSecretFile(path: string): Secret | string {
  try {
    const value = readFileSync(path, 'utf8').trim()
    return value === '' ? `${path} is empty` : new Secret(value)
  } catch {
    return `${path} cannot be read`
  }
}
