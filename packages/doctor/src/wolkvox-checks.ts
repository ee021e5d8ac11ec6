/*
 * Check 5: each Wolkvox operation's host resolves and answers TLS (or HTTP, for the simulator's
 * http:// loopback URL), without a report call; with `--call`, one real call of a one-minute
 * window through the client and the operation's token lock, counted against its daily quota.
 */
import { lookup } from 'node:dns/promises'
import { request as httpRequest } from 'node:http'
import { isIP } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import {
  createOperationHandle,
  type OperationConfig,
  type PollerConfig,
} from '@wolkvox-chat-stream/poller'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { createWolkvoxClient, reportsManagerUrl } from '@wolkvox-chat-stream/wolkvox-client'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { describeError, failed, passed, warned, type CheckResult } from './result.js'

/** A TLS handshake with `host` (certificate verified for `servername`): the protocol and issuer. */
function tlsHandshake(host: string, servername: string, port: number, timeoutMs: number) {
  return new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({
      host,
      port,
      // SNI carries host names only (RFC 6066; Node warns on stderr for an address); the
      // certificate is verified for the address all the same.
      ...(isIP(servername) === 0 ? { servername } : {}),
      ALPNProtocols: ['http/1.1'],
    })
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no TLS answer within ${timeoutMs} ms`)),
    )
    socket.once('secureConnect', () => {
      const protocol = socket.getProtocol() ?? 'TLS'
      socket.end()
      resolve(protocol)
    })
    socket.once('error', reject)
  })
}

/** A `HEAD /` to the origin (not the API path: no report call, no quota): the status. */
function httpHead(host: string, port: number, timeoutMs: number) {
  return new Promise<number>((resolve, reject) => {
    const req = httpRequest(
      { host, port, method: 'HEAD', path: '/', timeout: timeoutMs },
      (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      },
    )
    req.once('timeout', () => req.destroy(new Error(`no HTTP answer within ${timeoutMs} ms`)))
    req.once('error', reject)
    req.end()
  })
}

const errorCode = (error: unknown): string =>
  (error as { code?: string }).code ?? (error instanceof Error ? error.message : String(error))

/**
 * What a failed connection's error code means: `certificate` (the peer speaks TLS, its certificate
 * is not trusted or not for this name), `handshake` (no TLS handshake: the port speaks something
 * else, such as plain HTTP, or a middlebox cut it), or `network` (refused, reset, timed out, …).
 */
export function tlsFailureKind(code: string): 'certificate' | 'handshake' | 'network' {
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME|ALTNAME/iu.test(code))
    return 'certificate'
  if (/^(EPROTO|ERR_SSL_\w+|ERR_TLS_\w+)$/u.test(code)) return 'handshake'
  return 'network'
}

/** `wolkvox <server>`: DNS, then TLS (https) or an HTTP answer (http, loopback only). */
export async function checkWolkvoxHost(
  operation: OperationConfig,
  timeoutMs: number,
): Promise<CheckResult> {
  const name = `wolkvox ${operation.server}`
  let url: URL
  try {
    url = reportsManagerUrl(operation.server, operation.baseUrl)
  } catch (error) {
    return failed(
      name,
      describeError(error),
      'correct WOLKVOX_BASE_URL (https, or http to loopback)',
    )
  }
  const hostname = url.hostname.replace(/^\[(.*)\]$/u, '$1')
  const fixHost = operation.baseUrl
    ? `check WOLKVOX_BASE_URL (${url.origin}): is the service there running?`
    : `check WOLKVOX_SERVER (${operation.server}: the host is wv${operation.server}.wolkvox.com) and this machine's DNS and outbound HTTPS`
  let address: string
  try {
    address = (await lookup(hostname)).address
  } catch (error) {
    return failed(
      name,
      `${hostname} does not resolve (DNS lookup: ${errorCode(error)})`,
      operation.baseUrl
        ? `check the host name in WOLKVOX_BASE_URL (${url.origin}) and this machine's DNS`
        : fixHost,
    )
  }
  const secure = url.protocol === 'https:'
  const port = Number(url.port || (secure ? 443 : 80))
  try {
    if (secure) {
      const protocol = await tlsHandshake(address, hostname, port, timeoutMs)
      return passed(name, `${hostname} (${address}) answers ${protocol}, certificate valid`)
    }
    const status = await httpHead(address, port, timeoutMs)
    return passed(name, `${url.origin} answers HTTP ${status}`)
  } catch (error) {
    const code = errorCode(error)
    const kind = secure ? tlsFailureKind(code) : 'network'
    if (kind === 'handshake') {
      return failed(
        name,
        `${url.host} does not answer TLS: the TLS handshake failed (${code})`,
        operation.baseUrl
          ? `check WOLKVOX_BASE_URL (${url.origin}): an https:// URL must name a port that speaks TLS (this one does not; plain http is only for a loopback simulator)`
          : `something between this machine and ${hostname} does not let TLS through: check the outbound HTTPS proxy or firewall`,
      )
    }
    return failed(
      name,
      `${url.host} does not answer ${secure ? 'TLS' : 'HTTP'} (${code})`,
      kind === 'certificate'
        ? `the certificate of ${hostname} is not trusted by this machine: check the system's CAs (NODE_EXTRA_CA_CERTS) and the clock`
        : fixHost,
    )
  }
}

/**
 * `wolkvox <server> report call` (`--call`): one `chat_2` call for the last settled minute, under
 * the operation's token lock (as a poll takes it), counted against the daily quota.
 */
export async function checkWolkvoxCall(
  config: Readonly<PollerConfig>,
  operation: OperationConfig,
  timeoutMs: number,
): Promise<CheckResult> {
  const name = `wolkvox ${operation.server} report call`
  const lockRedis = createRedis(config.redis, { role: 'lock', name: 'doctor-lock' })
  const redis = createRedis(config.redis, { name: 'doctor' })
  const client = createWolkvoxClient({
    server: operation.server,
    token: operation.token,
    timeZone: operation.timeZone,
    ...(operation.baseUrl ? { baseUrl: operation.baseUrl } : {}),
    retry: { maxAttempts: 1 },
    connectTimeoutMs: timeoutMs,
    headersTimeoutMs: timeoutMs,
    bodyTimeoutMs: timeoutMs,
    attemptTimeoutMs: timeoutMs,
  })
  try {
    await Promise.all([waitUntilReady(lockRedis), waitUntilReady(redis)])
    const handle = createOperationHandle({ config, operation, lockRedis, redis })
    const toMs = Math.floor((Date.now() - config.settleLagMs) / 1000) * 1000 - 1000
    const waitMs = Math.min(config.lockWaitMs, timeoutMs)
    const outcome = await handle.lock.withLock({ waitMs }, async (signal, _fence, lease) => {
      await handle.store.countCall()
      return client.fetchReport({
        report: 'chat_2',
        from: new Date(toMs - 59_000),
        to: new Date(toMs),
        signal,
        deadline: () => lease.deadline(),
      })
    })
    if (outcome.status === 'busy') {
      return warned(
        name,
        outcome.reason === 'quarantine'
          ? `not made: the token lock is held back one POLL_LOCK_TTL (${config.lockTtlMs / 1000} s) after a new or emptied Redis`
          : `not made: the token is in use (a poll holds its lock) for more than ${waitMs / 1000} s`,
        'run npm run doctor -- --call again in a moment',
      )
    }
    const result = outcome.value
    return passed(
      name,
      `token accepted: HTTP ${result.status}, ${result.rowCount} chats in ${result.window.dateIni} – ${result.window.dateEnd}; 1 call counted against the daily quota`,
    )
  } catch (error) {
    const code = isAppError(error) ? error.code : ''
    const fix =
      code === 'WOLKVOX_TOKEN_INVALID' || code === 'WOLKVOX_TOKEN_MISSING'
        ? 'check WOLKVOX_TOKEN (or WOLKVOX_TOKEN_FILE, or the operations file) for this operation: Wolkvox refused it'
        : code.startsWith('REDIS_')
          ? 'fix Redis first (see redis connection): the call is made under the token lock'
          : 'see the error; the host check above says whether the host answers'
    return failed(name, describeError(error), fix)
  } finally {
    await client.close().catch(() => undefined)
    lockRedis.disconnect()
    redis.disconnect()
  }
}
