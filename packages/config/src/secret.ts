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
