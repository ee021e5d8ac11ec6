const REDACTED = '[redacted]'

/** Replaces every occurrence of a secret (as is, or URL-encoded) in a text. */
export type Redactor = (text: string) => string

/** A {@link Redactor} for `secrets`; empty secrets are ignored. */
export function createRedactor(secrets: readonly string[]): Redactor {
  const forms = new Set<string>()
  for (const secret of secrets) {
    if (secret === '') continue
    forms.add(secret)
    forms.add(encodeURIComponent(secret))
  }
  const ordered = [...forms].sort((a, b) => b.length - a.length)
  return (text) => {
    let out = text
    for (const form of ordered) out = out.split(form).join(REDACTED)
    return out
  }
}

/**
 * A copy of an error chain that is safe to attach as a `cause`: name, message, stack, `code` and
 * `syscall` only, each passed through `redact`. Third-party errors can quote a request's headers
 * (undici's MockAgent does), so none is attached as it came.
 */
export function sanitizeCause(error: unknown, redact: Redactor, depth = 0): Error {
  if (!(error instanceof Error)) return new Error(redact(String(error)).slice(0, 500))
  const copy = new Error(redact(error.message))
  copy.name = error.name
  copy.stack = error.stack === undefined ? undefined : redact(error.stack)
  const { code, syscall } = error as { code?: unknown; syscall?: unknown }
  if (typeof code === 'string' || typeof code === 'number') {
    Object.assign(copy, { code: typeof code === 'string' ? redact(code) : code })
  }
  if (typeof syscall === 'string') Object.assign(copy, { syscall })
  if (error.cause !== undefined && depth < 4)
    copy.cause = sanitizeCause(error.cause, redact, depth + 1)
  return copy
}
