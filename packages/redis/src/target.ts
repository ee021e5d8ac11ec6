import { readPemFile, Secret, type EnvReader } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'
import { parseRedisUrl } from './url.js'

/**
 * Which Redis to use and how: one node (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`),
 * with the credentials and TLS that go with it. The password is a {@link Secret}: it renders as
 * `[redacted]` wherever the target is logged.
 */
export interface RedisTarget {
  /** The node, or the cluster's seed nodes (any of them; the rest are discovered). */
  readonly nodes: readonly { readonly host: string; readonly port: number }[]
  /** True for a Redis Cluster. */
  readonly cluster: boolean
  /** The database of a single node (a cluster has only 0). */
  readonly db: number
  /** The ACL user; the `default` user when unset. */
  readonly username?: string
  readonly password?: Secret
  /** TLS on the connections (`rediss://`, `REDIS_TLS=true`, or a CA file). */
  readonly tls: boolean
  /** `REDIS_TLS_CA_FILE`'s PEM text: the only CA trusted (else the system's). */
  readonly ca?: string
}

/** Where a Redis is named: a `redis://`/`rediss://` URL, or a resolved {@link RedisTarget}. */
export type RedisAddress = string | RedisTarget

const NODE = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/

/** The target a URL names (user and password included). @throws AppError `REDIS_URL_INVALID` */
export function targetOfUrl(url: string): RedisTarget {
  const { host, port, username, password, db, tls } = parseRedisUrl(url)
  return {
    nodes: [{ host, port }],
    cluster: false,
    db,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password: new Secret(password) }),
    tls,
  }
}

/** The target of an address (a URL is parsed). @throws AppError `REDIS_URL_INVALID` */
export function redisTarget(address: RedisAddress): RedisTarget {
  return typeof address === 'string' ? targetOfUrl(address) : address
}

/**
 * The target, safe to log: `redis://user@host:port/db` or `redis cluster host:port,… (user …)`,
 * with `s` after redis for TLS; never the password.
 */
export function describeRedis(address: RedisAddress): string {
  let target: RedisTarget
  try {
    target = redisTarget(address)
  } catch {
    return '[invalid REDIS_URL]'
  }
  const scheme = target.tls ? 'rediss' : 'redis'
  const hostPort = (n: { host: string; port: number }): string =>
    `${n.host.includes(':') ? `[${n.host}]` : n.host}:${n.port}`
  if (target.cluster) {
    const user = target.username === undefined ? '' : ` as ${target.username}`
    return `${scheme} cluster ${target.nodes.map(hostPort).join(',')}${user}`
  }
  const user = target.username === undefined ? '' : `${encodeURIComponent(target.username)}@`
  return `${scheme}://${user}${hostPort(target.nodes[0]!)}${target.db === 0 ? '' : `/${target.db}`}`
}

function parseNodes(reader: EnvReader, text: string): { host: string; port: number }[] {
  const nodes: { host: string; port: number }[] = []
  for (const item of text.split(',').map((s) => s.trim())) {
    if (item === '') continue
    const m = NODE.exec(item)
    const port = Number(m?.[3])
    if (m === null || port < 1 || port > 65_535) {
      reader.report('REDIS_CLUSTER_NODES', `"${item}" is not host:port`)
      continue
    }
    nodes.push({ host: m[1] ?? m[2]!, port })
  }
  if (nodes.length === 0) reader.report('REDIS_CLUSTER_NODES', 'lists no host:port')
  return nodes
}

/**
 * Reads the Redis target of a service (README: Production Redis):
 * - `REDIS_URL` (`redis://` or `rediss://`, user and password may be in it; default
 *   `redis://127.0.0.1:6379`) for one node, or `REDIS_CLUSTER_NODES=host:port,…` for a cluster
 *   (not both);
 * - `REDIS_USERNAME` and `REDIS_PASSWORD_FILE` (the password read from a file, trimmed), each
 *   instead of the same part of the URL, not beside it;
 * - `REDIS_TLS=true` for TLS to a cluster (a URL says it with `rediss://`), and
 *   `REDIS_TLS_CA_FILE` for a private CA (it implies TLS for a cluster; with a URL it needs
 *   `rediss://`).
 * Every problem is reported on the reader (`CONFIG_INVALID` once all are read).
 */
export function readRedisTarget(reader: EnvReader): RedisTarget {
  const url = reader.string('REDIS_URL')
  const clusterNodes = reader.string('REDIS_CLUSTER_NODES')
  const username = reader.string('REDIS_USERNAME')
  const password = reader.secretFile('REDIS_PASSWORD_FILE')
  const tlsFlag = reader.string('REDIS_TLS')
  const caFile = reader.string('REDIS_TLS_CA_FILE')
  const ca =
    caFile === undefined
      ? undefined
      : readPemFile(reader, 'REDIS_TLS_CA_FILE', caFile, 'certificate')
  const credentials = {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(ca === undefined ? {} : { ca }),
  }
  if (url !== undefined && clusterNodes !== undefined) {
    reader.report('REDIS_CLUSTER_NODES', 'set only one of REDIS_URL and REDIS_CLUSTER_NODES')
  }
  if (clusterNodes !== undefined) {
    const tls = reader.boolean('REDIS_TLS', caFile !== undefined)
    if (!tls && caFile !== undefined) {
      reader.report('REDIS_TLS_CA_FILE', 'is set while REDIS_TLS is false')
    }
    return { nodes: parseNodes(reader, clusterNodes), cluster: true, db: 0, tls, ...credentials }
  }
  if (tlsFlag !== undefined) {
    reader.report('REDIS_TLS', 'applies to REDIS_CLUSTER_NODES; a URL says TLS with rediss://')
  }
  let target: RedisTarget
  try {
    target = targetOfUrl(url ?? 'redis://127.0.0.1:6379')
  } catch (error) {
    reader.report('REDIS_URL', error instanceof AppError ? error.message : 'is not a URL')
    return { nodes: [], cluster: false, db: 0, tls: false }
  }
  if (username !== undefined && target.username !== undefined) {
    reader.report('REDIS_USERNAME', 'set the user in REDIS_URL or in REDIS_USERNAME, not both')
  }
  if (password !== undefined && target.password !== undefined) {
    reader.report(
      'REDIS_PASSWORD_FILE',
      'REDIS_URL holds a password too: keep it only in REDIS_PASSWORD_FILE',
    )
  }
  if (caFile !== undefined && !target.tls) {
    reader.report('REDIS_TLS_CA_FILE', 'is set but REDIS_URL is redis://, not rediss://')
  }
  return { ...target, ...credentials }
}
