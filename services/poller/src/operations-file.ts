import { readSecretFile, Secret, type Env } from '@wolkvox-chat-stream/config'
import { reportsManagerUrl } from '@wolkvox-chat-stream/wolkvox-client'
import { isValidZone } from './local-time.js'
import { parseTimeInput } from './time-input.js'

/** One Wolkvox operation the poller reads. */
export interface OperationConfig {
  /** The server code, also the operation's id (`0010`). */
  server: string
  token: Secret
  timeZone: string
  /** Where a new operation starts (epoch ms), when it has no watermark yet. */
  startMs: number
  /** Override of `https://wv{server}.wolkvox.com` (plain http only to loopback). */
  baseUrl?: string
  /** Calls per local day this poller may make for the operation (`POLL_DAILY_QUOTA` unless set). */
  dailyQuota: number
}

/** What an entry of the operations file falls back to. */
export interface OperationDefaults {
  timeZone: string
  /** `POLL_START` as written (a time, or a duration ago). */
  start: string
  baseUrl?: string
  dailyQuota: number
}

const SERVER = /^[0-9]{1,6}$/
const FIELDS = ['server', 'tokenEnv', 'tokenFile', 'timeZone', 'start', 'baseUrl', 'dailyQuota']

/** Reads a token file: its content, trimmed; an error text when it cannot be used. */
export const readTokenFile = readSecretFile

/** Checks a base URL the way the client will; an error text when it is refused. */
export function baseUrlProblem(server: string, baseUrl: string): string | undefined {
  try {
    reportsManagerUrl(SERVER.test(server) ? server : '0', baseUrl)
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/**
 * Parses the operations file (`WOLKVOX_OPERATIONS_FILE`): a JSON array of
 * `{ server, tokenEnv | tokenFile, timeZone?, start?, baseUrl?, dailyQuota? }`. Returns the
 * operations and every problem found, each naming the file, the entry's index and the field. A
 * token never appears in a problem; the same token in two operations is a problem, because the
 * token lock, the watermark and the quota are keyed by the server code.
 */
export function parseOperationsFile(
  path: string,
  text: string,
  env: Env,
  defaults: OperationDefaults,
  nowMs: number,
): { operations: OperationConfig[]; problems: string[] } {
  const problems: string[] = []
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    // JSON.parse quotes the text around the error, which may hold a token pasted by mistake.
    return { operations: [], problems: [`${path} is not valid JSON`] }
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    return {
      operations: [],
      problems: [`${path} must be a non-empty JSON array of operations`],
    }
  }
  const operations: OperationConfig[] = []
  const servers = new Map<string, number>()
  const tokens = new Map<string, number>()
  parsed.forEach((entry: unknown, index) => {
    const at = `${path}[${index}]`
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${at} must be an object`)
      return
    }
    const e = entry as Record<string, unknown>
    const before = problems.length
    for (const key of Object.keys(e)) {
      if (!FIELDS.includes(key))
        problems.push(`${at}.${key} is not a known field (${FIELDS.join(', ')})`)
    }
    const text = (field: string): string | undefined => {
      const value = e[field]
      if (value === undefined) return undefined
      if (typeof value === 'string' && value.trim() !== '') return value.trim()
      problems.push(`${at}.${field} must be a non-empty string`)
      return undefined
    }
    const server = text('server')
    if (server === undefined && e.server === undefined) problems.push(`${at}.server is required`)
    if (server !== undefined && !SERVER.test(server))
      problems.push(`${at}.server must be 1 to 6 digits, such as 0010`)
    if (server !== undefined) {
      const first = servers.get(server)
      if (first !== undefined)
        problems.push(`${at}.server ${server} is already the server of ${path}[${first}]`)
      else servers.set(server, index)
    }

    const tokenEnv = text('tokenEnv')
    const tokenFile = text('tokenFile')
    let token: Secret | undefined
    if (tokenEnv !== undefined && tokenFile !== undefined) {
      problems.push(`${at} has both tokenEnv and tokenFile; set only one`)
    } else if (tokenEnv !== undefined) {
      // A name such as "constructor" or "__proto__" reaches Object.prototype, not a variable.
      const value: unknown = env[tokenEnv]
      if (typeof value !== 'string' || value.trim() === '')
        problems.push(`${at}.tokenEnv names ${tokenEnv}, which is not set`)
      else token = new Secret(value.trim())
    } else if (tokenFile !== undefined) {
      const read = readTokenFile(tokenFile)
      if (typeof read === 'string') problems.push(`${at}.tokenFile: ${read}`)
      else token = read
    } else if (e.tokenEnv === undefined && e.tokenFile === undefined) {
      problems.push(`${at} needs tokenEnv (a variable holding the token) or tokenFile`)
    }
    if (token !== undefined) {
      const first = tokens.get(token.reveal())
      if (first !== undefined) {
        problems.push(
          `${at} uses the same token as ${path}[${first}]; a token belongs to one operation (its lock, watermark and quota are per server)`,
        )
      } else {
        tokens.set(token.reveal(), index)
      }
    }

    const timeZone = text('timeZone') ?? defaults.timeZone
    if (!isValidZone(timeZone))
      problems.push(`${at}.timeZone "${timeZone}" is not an IANA time zone such as America/Bogota`)
    const startText = text('start') ?? defaults.start
    const start = isValidZone(timeZone) ? parseTimeInput(startText, timeZone, nowMs) : nowMs
    if (typeof start === 'string') problems.push(`${at}.start: ${start}`)
    const baseUrl = text('baseUrl') ?? defaults.baseUrl
    if (baseUrl !== undefined && server !== undefined) {
      const problem = baseUrlProblem(server, baseUrl)
      if (problem !== undefined) problems.push(`${at}.baseUrl: ${problem}`)
    }
    let dailyQuota = defaults.dailyQuota
    if (e.dailyQuota !== undefined) {
      if (
        typeof e.dailyQuota === 'number' &&
        Number.isSafeInteger(e.dailyQuota) &&
        e.dailyQuota >= 1
      )
        dailyQuota = e.dailyQuota
      else problems.push(`${at}.dailyQuota must be a whole number ≥ 1 (licences x 1000)`)
    }
    if (problems.length > before || server === undefined || token === undefined) return
    operations.push({
      server,
      token,
      timeZone,
      startMs: typeof start === 'number' ? start : nowMs,
      dailyQuota,
      ...(baseUrl === undefined ? {} : { baseUrl }),
    })
  })
  return { operations, problems }
}
