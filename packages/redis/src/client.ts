import { Cluster, Redis as SingleRedis } from 'ioredis'
import type { ClusterOptions, RedisOptions } from 'ioredis'
import { AppError } from '@wolkvox-chat-stream/errors'
import { describeRedis, redisTarget, type RedisAddress } from './target.js'
import { ListenedTlsConnector } from './tls-connector.js'

/** A connection to one node or to a cluster. */
export type Redis = SingleRedis | Cluster
export type { ClusterOptions, RedisOptions }

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
 * The ioredis options of one node's connection for `address` and `options.role`; exported so the
 * choices can be read and tested without a server. On a cluster these are the options of each
 * node's connection (see {@link clusterOptions}).
 *
 * @throws AppError `REDIS_URL_INVALID` (see `parseRedisUrl`).
 */
export function redisOptions(
  address: RedisAddress,
  options: CreateRedisOptions = {},
): RedisOptions {
  const target = redisTarget(address)
  const role = options.role ?? 'default'
  const node = target.nodes[0]
  const common: RedisOptions = {
    ...(target.cluster || node === undefined ? {} : { host: node.host, port: node.port }),
    ...(target.cluster ? {} : { db: target.db }),
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password.reveal() }),
    ...(target.tls
      ? {
          tls: target.ca === undefined ? {} : { ca: target.ca },
          Connector: ListenedTlsConnector as unknown as RedisOptions['Connector'],
        }
      : {}),
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
 * The ioredis `Cluster` options for `address` and `options.role`: each node's connection as in
 * {@link redisOptions}; reads and writes on masters only (a replica may lag); slots refreshed after
 * a failover; the node addresses kept as given (no DNS rewrite), so TLS verifies the name the
 * cluster announces. The lock role neither queues nor retries a command, on a cluster too.
 */
export function clusterOptions(
  address: RedisAddress,
  options: CreateRedisOptions = {},
): ClusterOptions {
  const role = options.role ?? 'default'
  const {
    retryStrategy: _single,
    reconnectOnError: _readonly,
    ...node
  } = redisOptions(address, options)
  return {
    redisOptions: node,
    scaleReads: 'master',
    enableReadyCheck: true,
    enableOfflineQueue: role !== 'lock',
    // A failover takes a few seconds; commands wait for it in between (except the lock's).
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
    maxRedirections: 16,
    slotsRefreshTimeout: 2_000,
    clusterRetryStrategy: (times) => Math.min(times * 200, 5_000),
    dnsLookup: (hostname, callback) => callback(null, hostname),
  }
}

/**
 * Opens (immediately: not lazily) a connection to the node or cluster `address` names, configured
 * for `role`. Connection errors are logged once per outage (never with the password) instead of
 * on every reconnect attempt; commands then fail, and `toRedisError` maps their errors. With role
 * `lock`, commands sent before the connection is ready fail at once: await
 * {@link waitUntilReady} first.
 *
 * @throws AppError `REDIS_URL_INVALID` when `address` is not a valid redis:// or rediss:// URL.
 */
export function createRedis(address: RedisAddress, options: CreateRedisOptions = {}): Redis {
  const target = redisTarget(address)
  const redis: Redis = target.cluster
    ? new Cluster(
        target.nodes.map((n) => ({ host: n.host, port: n.port })),
        clusterOptions(target, options),
      )
    : new SingleRedis(redisOptions(target, options))
  const { logger } = options
  const fields = {
    redis: (options.name ?? `wcs-${options.role ?? 'default'}`).replace(/[^\w.:-]/g, '_'),
    url: describeRedis(target),
  }
  let healthy = true
  redis.on('error', (error: unknown) => {
    if (!healthy) return
    healthy = false
    logger?.warn('redis connection error; reconnecting', { ...fields, err: connectionError(error) })
  })
  // A cluster's own error says only that no node answered; each node's says why.
  redis.on('node error', (error: unknown, node: unknown) => {
    if (!healthy) return
    healthy = false
    logger?.warn('redis connection error; reconnecting', {
      ...fields,
      node,
      err: connectionError(error),
    })
  })
  redis.on('ready', () => {
    if (!healthy) logger?.info('redis connection restored', fields)
    healthy = true
  })
  return redis
}

/**
 * What a connection error means for an operator: `REDIS_AUTH_FAILED` for refused credentials,
 * `REDIS_TLS_FAILED` for a failed TLS handshake, else undefined (a network error: retried). A
 * cluster's "Failed to refresh slots cache" carries the last node's error, which is looked at.
 */
export function connectionProblem(error: unknown): AppError | undefined {
  const seen = new Set<unknown>()
  let current: unknown = error
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current)
    const message = current.message
    if (
      /^(WRONGPASS|NOAUTH)\b/.test(message) ||
      /invalid username-password|AUTH failed/i.test(message)
    ) {
      return new AppError(
        'REDIS_AUTH_FAILED',
        `Redis refused the credentials (${message.split(' ', 1)[0]}): check REDIS_USERNAME, REDIS_PASSWORD_FILE or the user and password in REDIS_URL`,
      )
    }
    const code = (current as { code?: unknown }).code
    if (
      (typeof code === 'string' && TLS_CODES.test(code)) ||
      /certificate|SSL routines|wrong version number|ssl3_get_record/i.test(message)
    ) {
      return new AppError(
        'REDIS_TLS_FAILED',
        `The TLS handshake with Redis failed (${typeof code === 'string' ? code : message}): check REDIS_TLS_CA_FILE (the CA that signed the servers' certificates) and that the server speaks TLS on that port`,
      )
    }
    current =
      (current as { lastNodeError?: unknown; cause?: unknown }).lastNodeError ?? current.cause
  }
  return undefined
}

const TLS_CODES =
  /^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_\w+|ERR_TLS_\w+|ERR_SSL_\w+|EPROTO)$/

/** A connection error as logged: the mapped AppError when there is one, else the error itself. */
function connectionError(error: unknown): unknown {
  return connectionProblem(error) ?? error
}

/**
 * Resolves once `redis` is ready for commands (at once if it already is).
 *
 * @throws AppError `REDIS_AUTH_FAILED` (credentials refused) or `REDIS_TLS_FAILED` (handshake
 * failed) as soon as the connection reports it; `REDIS_UNAVAILABLE` when it is not ready within
 * `timeoutMs` (default 5000), or the connection is ended for good.
 */
export function waitUntilReady(redis: Redis, options: { timeoutMs?: number } = {}): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve()
  const timeoutMs = options.timeoutMs ?? 5_000
  return new Promise((resolve, reject) => {
    let last: unknown
    const done = (error?: AppError): void => {
      clearTimeout(timer)
      redis.off('ready', onReady)
      redis.off('end', onEnd)
      redis.off('error', onError)
      redis.off('node error', onError)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onReady = (): void => done()
    const onEnd = (): void =>
      done(connectionProblem(last) ?? new AppError('REDIS_UNAVAILABLE', 'Redis connection ended'))
    const onError = (error: unknown): void => {
      last = error
      const problem = connectionProblem(error)
      if (problem !== undefined) done(problem)
    }
    const timer = setTimeout(
      () =>
        done(
          connectionProblem(last) ??
            new AppError('REDIS_UNAVAILABLE', `Redis not ready within ${timeoutMs}ms`, {
              ...(last instanceof Error ? { cause: last } : {}),
            }),
        ),
      timeoutMs,
    )
    redis.once('ready', onReady)
    redis.once('end', onEnd)
    redis.on('error', onError)
    redis.on('node error', onError)
  })
}

/**
 * Whether Redis at `url` answers PING with PONG within `timeoutMs` (default 1000), connection
 * included. Never throws (an invalid URL is false) and always disconnects; for health checks and
 * start-up probes.
 */
export async function pingRedis(
  url: RedisAddress,
  options: { timeoutMs?: number } = {},
): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 1_000
  let redis: SingleRedis | undefined
  let timer: NodeJS.Timeout | undefined
  try {
    // A cluster's first seed node answers PING too.
    const target = redisTarget(url)
    const node = target.nodes[0]
    const { host: _host, port: _port, ...auth } = redisOptions({ ...target, cluster: false })
    const client = new SingleRedis({
      host: node?.host,
      port: node?.port,
      username: auth.username,
      password: auth.password,
      db: auth.db,
      ...(auth.tls === undefined ? {} : { tls: auth.tls }),
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
