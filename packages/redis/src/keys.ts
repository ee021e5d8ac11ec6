import { createHash } from 'node:crypto'
import { AppError } from '@wolkvox-chat-stream/errors'

const prefix = 'wcs'
// `{` `}` would break the hash tag, `:` would let two different part lists join to the same key.
const forbidden = /[{}:\s\p{Cc}]/u

function checkPart(part: string, what: string): string {
  if (part === '' || forbidden.test(part)) {
    throw new AppError(
      'REDIS_KEY_INVALID',
      `Redis key ${what} ${JSON.stringify(part)} is empty or holds {, }, :, whitespace or a control character`,
      { details: { part } },
    )
  }
  return part
}

/**
 * The project's Redis key scheme. Every key starts with `wcs:`. Keys of one Wolkvox server carry
 * the server in a hash tag, `wcs:{0010}:…`, so all of them live in one Redis Cluster slot and a
 * script may touch several at once. Keys shared by all servers are `wcs:global:…` and must only be
 * used one at a time in a script.
 *
 * Every part (and the server) must be non-empty and free of `{`, `}`, `:`, whitespace and control
 * characters; otherwise the builders throw AppError `REDIS_KEY_INVALID`. A token must never be a
 * part: use {@link tokenKeyPart}.
 */
export const redisKeys = {
  prefix,
  /** `key('0010', 'watermark', 'chat_2')` is `wcs:{0010}:watermark:chat_2`. */
  key(server: string, part: string, ...parts: string[]): string {
    const tail = [part, ...parts].map((p) => checkPart(p, 'part'))
    return [prefix, `{${checkPart(server, 'server')}}`, ...tail].join(':')
  },
  /** `globalKey('epoch')` is `wcs:global:epoch`. */
  globalKey(part: string, ...parts: string[]): string {
    return [prefix, 'global', ...[part, ...parts].map((p) => checkPart(p, 'part'))].join(':')
  },
} as const

/**
 * The only form in which an API token may appear in a Redis key: the first 32 hex characters
 * (128 bits) of its SHA-256. Keys show up in `MONITOR`, `SCAN`, slow logs and backups, so the
 * token itself must never be in one.
 *
 * @throws AppError `REDIS_KEY_INVALID` when `token` is empty.
 */
export function tokenKeyPart(token: string): string {
  if (token === '')
    throw new AppError('REDIS_KEY_INVALID', 'Cannot derive a key part from an empty token')
  return createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 32)
}
