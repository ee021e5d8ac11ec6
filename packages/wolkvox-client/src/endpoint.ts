import { serverCodePattern } from '@wolkvox-chat-stream/config'
import { AppError } from '@wolkvox-chat-stream/errors'

export { serverCodePattern }

/** The path of the Reports Manager API under the server's origin. */
export const reportsManagerPath = '/api/v2/reports_manager.php'

const describe = (value: unknown): string => JSON.stringify(String(value)).slice(0, 80)

/**
 * Returns `server` when it is 1 to 6 ASCII digits. The host is built from it, so anything else
 * (`1.evil.com#`, `1@evil.com`, `../x`) is refused before any request can be made.
 *
 * @throws AppError `WOLKVOX_SERVER_INVALID`
 */
export function validateServer(server: unknown): string {
  if (typeof server !== 'string' || !serverCodePattern.test(server)) {
    throw new AppError(
      'WOLKVOX_SERVER_INVALID',
      `Wolkvox server code ${describe(server)} is not 1 to 6 digits (for example 0010)`,
    )
  }
  return server
}

/**
 * True for a loopback host as the WHATWG URL parser normalises it: `localhost`, `[::1]`, or an
 * IPv4 address in 127.0.0.0/8 (the parser has already turned `127.1` or `0x7f.1` into dotted form).
 */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname)
  return octets !== null && octets[1] === '127' && octets.slice(2).every((o) => Number(o) <= 255)
}

/**
 * The URL of the Reports Manager API for `server`: exactly
 * `https://wv{server}.wolkvox.com/api/v2/reports_manager.php`, or under `baseUrl` when given.
 * A base URL must be https, or plain http to a loopback host (the simulator), and carry no
 * credentials, query or fragment.
 *
 * @throws AppError `WOLKVOX_SERVER_INVALID`, `WOLKVOX_BASE_URL_INVALID`
 */
export function reportsManagerUrl(server: string, baseUrl?: string): URL {
  validateServer(server)
  if (baseUrl === undefined) return new URL(`https://wv${server}.wolkvox.com${reportsManagerPath}`)
  let url: URL
  try {
    url = new URL(baseUrl)
  } catch (error) {
    throw new AppError(
      'WOLKVOX_BASE_URL_INVALID',
      `Wolkvox base URL ${describe(baseUrl)} is not a URL`,
      {
        cause: error,
      },
    )
  }
  const problem =
    url.protocol !== 'https:' && url.protocol !== 'http:'
      ? 'must be https'
      : url.protocol === 'http:' && !isLoopbackHost(url.hostname)
        ? 'may use plain http only to a loopback host (127.0.0.0/8, ::1, localhost)'
        : url.username !== '' || url.password !== ''
          ? 'must not hold credentials'
          : url.search !== '' || url.hash !== '' || baseUrl.includes('#') || baseUrl.includes('?')
            ? 'must not hold a query or fragment'
            : undefined
  if (problem !== undefined) {
    // Credentials in a rejected URL must not reach the message either.
    const shown =
      url.username !== '' || url.password !== '' ? `${url.protocol}//…@${url.host}` : baseUrl
    throw new AppError('WOLKVOX_BASE_URL_INVALID', `Wolkvox base URL ${describe(shown)} ${problem}`)
  }
  return new URL(`${url.origin}${url.pathname.replace(/\/+$/, '')}${reportsManagerPath}`)
}
