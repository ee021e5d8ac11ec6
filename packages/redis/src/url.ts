import { AppError } from '@wolkvox-chat-stream/errors'

/** Where and how to connect, as read from a `redis://` or `rediss://` URL. */
export interface RedisConnection {
  host: string
  port: number
  username?: string
  password?: string
  db: number
  /** True for `rediss://`. */
  tls: boolean
}

/**
 * Reads `redis[s]://[[user]:password@]host[:port][/db]`. Query parameters are refused rather than
 * ignored: ioredis would let them override options set in code (a `?enableOfflineQueue=` could undo
 * the lock role's guarantees). The URL itself never appears in the error, since it may hold a
 * password.
 *
 * @throws AppError `REDIS_URL_INVALID` when the URL is malformed, not redis:// or rediss://, has
 * no host, a db that is not a non-negative integer, or a query string or fragment.
 */
export function parseRedisUrl(url: string): RedisConnection {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // Not kept as the cause: Node's URL error carries the whole input, password included.
    throw invalid('REDIS_URL is not a URL', undefined)
  }
  const redacted = redactRedisUrl(url)
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw invalid(
      `REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//`,
      redacted,
    )
  }
  if (parsed.hostname === '') throw invalid('REDIS_URL has no host', redacted)
  if (parsed.search !== '' || parsed.hash !== '') {
    throw invalid('REDIS_URL may not have a query string or fragment', redacted)
  }
  const dbText = parsed.pathname.replace(/^\//, '')
  if (dbText !== '' && !/^\d+$/.test(dbText)) {
    throw invalid(`REDIS_URL database "${dbText}" is not a non-negative integer`, redacted)
  }
  let username: string
  let password: string
  try {
    username = decodeURIComponent(parsed.username)
    password = decodeURIComponent(parsed.password)
  } catch {
    throw invalid('REDIS_URL has a malformed user or password', redacted)
  }
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port === '' ? 6379 : Number(parsed.port),
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
    db: dbText === '' ? 0 : Number(dbText),
    tls: parsed.protocol === 'rediss:',
  }
}

/**
 * The URL with its password (and any password-like query parameter) replaced by `[redacted]`,
 * safe to log. Returns `[unparseable url]` for input that is not a URL, since then no part of it
 * can be known to be safe.
 */
export function redactRedisUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return '[unparseable url]'
  }
  const user = parsed.username
  const userinfo = parsed.password !== '' ? `${user}:[redacted]@` : user !== '' ? `${user}@` : ''
  const path = parsed.pathname === '/' ? '' : parsed.pathname
  const query = [...parsed.searchParams]
    .map(
      ([key, value]) => `${enc(key)}=${/pass|secret|token/i.test(key) ? '[redacted]' : enc(value)}`,
    )
    .join('&')
  return `${parsed.protocol}//${userinfo}${parsed.host}${path}${query === '' ? '' : `?${query}`}`
}

const enc = encodeURIComponent

function invalid(message: string, redacted: string | undefined): AppError {
  return new AppError(
    'REDIS_URL_INVALID',
    message,
    redacted === undefined ? {} : { details: { url: redacted } },
  )
}
