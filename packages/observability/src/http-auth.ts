/*
 * Bearer tokens for every HTTP route but the probes (README: Security). The tokens come from
 * HTTP_AUTH_TOKEN_FILE, one a line, and are re-read when the file changes and on SIGHUP; a file
 * that becomes unusable keeps the tokens in force. Candidates are compared in constant time: each
 * is hashed (SHA-256) and compared with every token's hash by timingSafeEqual, with no early exit.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { statSync, type Stats } from 'node:fs'
import type { IncomingMessage } from 'node:http'
import { readTokenFile, type HttpAuthSettings } from '@wolkvox-chat-stream/config'
import type { Logger } from './logger.js'

/** What a request's credentials are worth. */
export type AuthVerdict = 'ok' | 'missing' | 'wrong'

/** Checks requests against the tokens in force. */
export interface TokenAuth {
  check(req: IncomingMessage): AuthVerdict
  /** Re-reads the token file now (also done on change and SIGHUP). True when it was taken. */
  reload(): boolean
  /** Stops watching the file and SIGHUP. */
  close(): void
}

/** Options for {@link createTokenAuth}. */
export interface TokenAuthOptions extends HttpAuthSettings {
  /** Also take `Authorization: Basic` with a token as the password (any user name). */
  basic?: boolean
  /** How often the file is checked for a change, in ms. Default 1000. */
  watchIntervalMs?: number
  logger?: Logger
  /** Called after each re-read of the file with whether it was taken. */
  onReload?: (outcome: 'loaded' | 'refused') => void
}

const digest = (value: string | Buffer): Buffer => createHash('sha256').update(value).digest()

/** The credential of an Authorization header, or undefined when it carries none we take. */
function credentialOf(header: string | undefined, basic: boolean): string | undefined {
  if (header === undefined) return undefined
  const match = /^([A-Za-z]+) +(\S+) *$/u.exec(header)
  if (match === null) return undefined
  const scheme = match[1]!.toLowerCase()
  if (scheme === 'bearer') return match[2]
  if (scheme === 'basic' && basic) {
    const decoded = Buffer.from(match[2]!, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    return colon === -1 ? undefined : decoded.slice(colon + 1)
  }
  return undefined
}

/**
 * Creates the token check of a service's HTTP server. The file was checked when the config was
 * read; if it has become unusable since, every request is refused until it is fixed.
 */
export function createTokenAuth(options: TokenAuthOptions): TokenAuth {
  const { tokenFile, logger } = options
  const basic = options.basic ?? false
  let digests: Buffer[] = []

  const reload = (): boolean => {
    const read = readTokenFile(tokenFile)
    if (!Array.isArray(read)) {
      logger?.warn('the token file cannot be used; the tokens in force stay', {
        code: 'CONFIG_INVALID',
        problem: read.problem,
      })
      return false
    }
    digests = read.map(digest)
    return true
  }
  // Taken before the read: a change after it is seen by the next look, whenever it comes.
  let seen = statOf(tokenFile)
  if (!reload()) digests = []

  // Called when the file's stat changed (or it appeared or went). A rewrite of the same size
  // within the file system's timestamp granularity is not seen: SIGHUP is the sure way.
  const reloadFor = (reason: 'changed' | 'SIGHUP') => (): void => {
    const taken = reload()
    options.onReload?.(taken ? 'loaded' : 'refused')
    if (taken) logger?.info('token file reloaded', { tokens: digests.length, reason })
  }
  const onChange = reloadFor('changed')
  const onHangUp = reloadFor('SIGHUP')
  // The file's stat is compared with the last one seen at every interval (Node's `watchFile`
  // takes its first stat some time after it is called, and misses a change made before that).
  const look = setInterval(() => {
    const now = statOf(tokenFile)
    if (now?.mtimeMs === seen?.mtimeMs && now?.size === seen?.size && now?.ino === seen?.ino) return
    seen = now
    onChange()
  }, options.watchIntervalMs ?? 1000)
  look.unref()
  process.on('SIGHUP', onHangUp)

  return {
    check(req) {
      const credential = credentialOf(req.headers.authorization, basic)
      if (credential === undefined) return 'missing'
      const candidate = digest(credential)
      let match = false
      for (const token of digests) match = timingSafeEqual(candidate, token) || match
      return match ? 'ok' : 'wrong'
    },
    reload,
    close() {
      clearInterval(look)
      process.off('SIGHUP', onHangUp)
    },
  }
}

/** The file's stat, or undefined when it cannot be read. */
function statOf(file: string): Stats | undefined {
  try {
    return statSync(file)
  } catch {
    return undefined
  }
}
