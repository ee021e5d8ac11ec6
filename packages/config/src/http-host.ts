import { isIP } from 'node:net'
import type { EnvReader } from './env.js'

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/**
 * `HTTP_HOST`: the address a service's HTTP server binds, default `127.0.0.1` (only this machine
 * reaches it). `0.0.0.0` (or `::`) opens it to every interface, as in docker-compose's network.
 * An IP literal or a host name; anything else is a problem reported on the reader.
 */
export function readHttpHost(reader: EnvReader): string {
  const host = reader.string('HTTP_HOST', '127.0.0.1')
  if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    reader.report('HTTP_HOST', `"${host}" is neither an IP address nor a host name`)
    return '127.0.0.1'
  }
  return host
}
