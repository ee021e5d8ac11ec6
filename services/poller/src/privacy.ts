import { createHash, createHmac } from 'node:crypto'

/** The personal-data options (QUALITY.md promise 7), applied before anything is encoded. */
export interface PrivacyOptions {
  /** Key of the HMAC for `customer_id` and `customer_phone`; absent: they are kept as received. */
  hashKey?: string
  /** Replace inline base64 images by their hash and size. */
  redactImages: boolean
}

// A data URL as browsers and Wolkvox write them; base64 may be wrapped or URL-safe.
const INLINE_IMAGE = /data:image\/[a-z0-9.+-]+;base64,([a-z0-9+/_=\r\n-]+)/gi

/** `[image sha256=<hex> bytes=<n>]` for every inline image in `text`; other text unchanged. */
export function redactInlineImages(text: string): string {
  if (!text.includes('data:image/')) return text
  return text.replace(INLINE_IMAGE, (_match, data: string) => {
    const bytes = Buffer.from(data.replace(/[\r\n]/g, ''), 'base64')
    return `[image sha256=${createHash('sha256').update(bytes).digest('hex')} bytes=${bytes.length}]`
  })
}

/** HMAC-SHA256 of `value` under `key`, lower-case hex (64 characters). */
export function hmacHex(key: string, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('hex')
}

/** Whether these options change anything at all. */
export function privacyEnabled(options: PrivacyOptions): boolean {
  return options.hashKey !== undefined || options.redactImages
}

/** The fields of an event or a raw row that the options rewrite. */
interface Scrubbable {
  customer_id?: unknown
  customer_phone?: unknown
  message?: unknown
}

/**
 * Rewrites `customer_id`, `customer_phone` (hashed, when non-empty strings) and `message` (images
 * redacted) of one message, returning a copy. Other fields are kept.
 */
export function scrubMessage<T extends Scrubbable>(message: T, options: PrivacyOptions): T {
  const out = { ...message }
  if (options.hashKey !== undefined) {
    for (const field of ['customer_id', 'customer_phone'] as const) {
      const value = out[field]
      if (typeof value === 'string' && value !== '')
        (out as Scrubbable)[field] = hmacHex(options.hashKey, value)
    }
  }
  if (options.redactImages && typeof out.message === 'string')
    (out as Scrubbable).message = redactInlineImages(out.message)
  return out
}

/**
 * The same rewriting applied to a raw upstream value bound for the dead-letter topic: every object
 * at any depth has its `customer_id`/`customer_phone` hashed, and every string has its images
 * redacted, so a broken row does not carry what the events of good rows do not.
 */
export function scrubRaw(raw: unknown, options: PrivacyOptions, depth = 0): unknown {
  if (depth > 32) return raw
  if (typeof raw === 'string') return options.redactImages ? redactInlineImages(raw) : raw
  if (Array.isArray(raw)) return raw.map((item) => scrubRaw(item, options, depth + 1))
  if (typeof raw !== 'object' || raw === null) return raw
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    out[key] =
      options.hashKey !== undefined &&
      (key === 'customer_id' || key === 'customer_phone') &&
      typeof value === 'string' &&
      value !== ''
        ? hmacHex(options.hashKey, value)
        : scrubRaw(value, options, depth + 1)
  }
  return out
}
