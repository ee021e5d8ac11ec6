import { readFileSync } from 'node:fs'
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

/** True for an address only this machine reaches (`127.0.0.0/8`, `::1`, `localhost`). */
export function isLoopbackAddress(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/u.test(host)
}

/** The shortest bearer token accepted: 16 characters (about 96 bits when random base64). */
export const MIN_TOKEN_LENGTH = 16

/**
 * The tokens of a token file: one a line, surrounding whitespace trimmed, blank lines and lines
 * starting with `#` skipped. Returns the problem, in words that never quote a token, when the file
 * holds none or one is shorter than {@link MIN_TOKEN_LENGTH} or has inner whitespace.
 */
export function parseTokenFile(text: string): string[] | { problem: string } {
  const tokens: string[] = []
  const lines = text.split(/\r?\n/u)
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (line.length < MIN_TOKEN_LENGTH)
      return {
        problem: `line ${index + 1} holds a token shorter than ${MIN_TOKEN_LENGTH} characters`,
      }
    if (/\s/u.test(line))
      return { problem: `line ${index + 1} holds a token with whitespace in it` }
    tokens.push(line)
  }
  return tokens.length === 0 ? { problem: 'it holds no token' } : tokens
}

/** Reads and parses a token file; the problem names the file, never its content. */
export function readTokenFile(path: string): string[] | { problem: string } {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return { problem: `${path} cannot be read` }
  }
  const parsed = parseTokenFile(text)
  return Array.isArray(parsed) ? parsed : { problem: `${path}: ${parsed.problem}` }
}

/** Who may call a service's HTTP routes (README: Security). */
export interface HttpAuthSettings {
  /** `HTTP_AUTH_TOKEN_FILE`: the bearer tokens, one a line; re-read on change and on SIGHUP. */
  tokenFile: string
  /** `HTTP_METRICS_PUBLIC` (false): `/metrics` answers without a token. */
  metricsPublic: boolean
}

/** A service's HTTP security settings, read by {@link readHttpSecurity}. */
export interface HttpSecurity {
  /** Absent when `HTTP_AUTH_TOKEN_FILE` is unset: every route is open. */
  auth?: HttpAuthSettings
  /** `HTTP_RATE_LIMIT` (100): requests per second per client address; 0 turns the limit off. */
  ratePerSecond: number
}

/**
 * `HTTP_AUTH_TOKEN_FILE`, `HTTP_METRICS_PUBLIC` and `HTTP_RATE_LIMIT`. The token file is read once
 * here so a missing, empty or malformed file fails start with `CONFIG_INVALID`.
 */
export function readHttpSecurity(reader: EnvReader): HttpSecurity {
  const tokenFile = reader.string('HTTP_AUTH_TOKEN_FILE', '')
  const metricsPublic = reader.boolean('HTTP_METRICS_PUBLIC', false)
  const ratePerSecond = reader.integer('HTTP_RATE_LIMIT', 100, { min: 0, max: 1_000_000 })
  if (tokenFile === '') return { ratePerSecond }
  const read = readTokenFile(tokenFile)
  if (!Array.isArray(read)) reader.report('HTTP_AUTH_TOKEN_FILE', read.problem)
  return { auth: { tokenFile, metricsPublic }, ratePerSecond }
}
