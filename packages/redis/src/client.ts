import { Redis } from 'ioredis'
import type { RedisOptions } from 'ioredis'
import { AppError } from '@wolkvox-chat-stream/errors'
import { parseRedisUrl, redactRedisUrl } from './url.js'

export type { Redis, RedisOptions }

/**
 * What a connection is for:
 * - `default`: ordinary commands; queued while reconnecting, retried up to 3 times.
 * - `lock`: locks and fencing; fails fast instead of queueing, and never replays a command after a
 *   reconnect (a stale `SET NX` replayed later could take a lock someone else now holds).
 * - `blocking`: BullMQ's connection; blocking commands wait as long as they need.
 */
export type RedisRole = 'default' | 'lock' | 'blocking'

/** The subset of the observability Logger this package uses. */
export interface RedisLogger {
  info(msg: string, fields?: Readonly<Record<string, unknown>>): void
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void
}

/** Options for {@link createRedis}. */
export interface CreateRedisOptions {
  /** Shown by `CLIENT LIST` and in logs. Default `wcs-<role>`. */
  name?: string
  /** Default `default`. */
  role?: RedisRole
  logger?: RedisLogger
  /** Per-command timeout of the `lock` role. Default 2000. */
  lockCommandTimeoutMs?: number
}

/**
 * The ioredis options {@link createRedis} uses for `url` and `options.role`; exported so the
 * choices can be read and tested without a server.
 *
 * @throws AppError `REDIS_URL_INVALID` (see `parseRedisUrl`).
 */
export function redisOptions(url: string, options: CreateRedisOptions = {}): RedisOptions {
  const { tls, ...connection } = parseRedisUrl(url)
  const role = options.role ?? 'default'
  const common: RedisOptions = {
    ...connection,
    ...(tls ? { tls: {} } : {}),
    connectionName: (options.name ?? `wcs-${role}`).replace(/[^\w.:-]/g, '_'),
    lazyConnect: false,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
    // After a failover the old primary answers READONLY: reconnect (without resending) to find
    // the new one.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  }
  switch (role) {
    case 'default':
      return { ...common, maxRetriesPerRequest: 3 }
    case 'lock':
      return {
        ...common,
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        maxRetriesPerRequest: 0,
        commandTimeout: options.lockCommandTimeoutMs ?? 2_000,
      }
    case 'blocking':
      return { ...common, maxRetriesPerRequest: null }
  }
}

/**
 * Opens (immediately: not lazily) an ioredis connection configured for `role`. Connection errors
 * are logged once per outage (with the password redacted) instead of on every reconnect attempt;
 * commands then fail, and `toRedisError` maps their errors. With role `lock`, commands sent before
 * the connection is ready fail at once: await {@link waitUntilReady} first.
 *
 * @throws AppError `REDIS_URL_INVALID` when `url` is not a valid redis:// or rediss:// URL.
 */
export function createRedis(url: string, options: CreateRedisOptions = {}): Redis {
  const redisOpts = redisOptions(url, options)
  const redis = new Redis(redisOpts)
  const { logger } = options
  const fields = { redis: redisOpts.connectionName, url: redactRedisUrl(url) }
  let healthy = true
  redis.on('error', (error: unknown) => {
    if (!healthy) return
    healthy = false
    logger?.warn('redis connection error; reconnecting', { ...fields, err: error })
  })
  redis.on('ready', () => {
    if (!healthy) logger?.info('redis connection restored', fields)
    healthy = true
  })
  return redis
}

/**
 * Resolves once `redis` is ready for commands (at once if it already is).
 *
 * @throws AppError `REDIS_UNAVAILABLE` when it is not ready within `timeoutMs` (default 5000), or
 * the connection is ended for good.
 */
export function waitUntilReady(redis: Redis, options: { timeoutMs?: number } = {}): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  const timeoutMs = options.timeoutMs ?? 5_000
  return new Promise((resolve, reject) => {
    const done = (error?: AppError): void => {
      clearTimeout(timer)
      redis.off('ready', onReady)
      redis.off('end', onEnd)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onReady = (): void => done()
    const onEnd = (): void => done(new AppError('REDIS_UNAVAILABLE', 'Redis connection ended'))
    const timer = setTimeout(
      () => done(new AppError('REDIS_UNAVAILABLE', `Redis not ready within ${timeoutMs}ms`)),
      timeoutMs,
    )
    redis.once('ready', onReady)
    redis.once('end', onEnd)
  })
}

/**
 * Whether Redis at `url` answers PING with PONG within `timeoutMs` (default 1000), connection
 * included. Never throws (an invalid URL is false) and always disconnects; for health checks and
 * start-up probes.
 */
export async function pingRedis(
  url: string,
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 1_000
  let redis: Redis | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    const { tls, ...connection } = parseRedisUrl(url)
    const client = new Redis({
      ...connection,
      ...(tls ? { tls: {} } : {}),
      lazyConnect: true,
      enableReadyCheck: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: timeoutMs,
    })
    redis = client
    client.on('error', () => {})
    const attempt = client.connect().then(() => client.ping())
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs)
    })
    attempt.catch(() => {})
    return (await Promise.race([attempt, timeout])) === 'PONG'
  } catch {
    return false
  } finally {
    clearTimeout(timer)
    redis?.disconnect()
  }
}
