/*
 * Parsers of the path and query parameters the services share, each built on the one definition
 * of what it names (packages/config identifiers), so the HTTP APIs and the poller's configuration
 * accept the same values.
 */
import {
  agentKeyOf,
  isConnId,
  MAX_AGENT_KEY_LENGTH,
  MAX_CONN_ID_LENGTH,
  serverCodePattern,
} from '@wolkvox-chat-stream/config'
import { parseTimeBound } from '@wolkvox-chat-stream/zoned-time'
import { InputError, type Parser } from './http-router.js'

const quote = (text: string): string => JSON.stringify(text.slice(0, 64))

/** A Wolkvox server code: 1 to 6 digits (`0010`), as in the operations file. */
export const serverParser: Parser<string> = (text) => {
  if (!serverCodePattern.test(text))
    throw new InputError(`server ${quote(text)} is not a server code: 1 to 6 digits, such as 0010`)
  return text
}

/** A conversation's `conn_id`. */
export const connIdParser: Parser<string> = (text) => {
  if (!isConnId(text))
    throw new InputError(
      `conn_id ${quote(text)} is not a conn_id: 1 to ${MAX_CONN_ID_LENGTH} characters, no control character or surrounding space`,
    )
  return text
}

/** One of a fixed list of words. */
export function oneOfParser<T extends string>(name: string, values: readonly T[]): Parser<T> {
  return (text) => {
    if (!(values as readonly string[]).includes(text))
      throw new InputError(`${name} must be ${values.join(' or ')}`)
    return text as T
  }
}

/** An agent key as the aggregates write it (`agentKeyOf`): a key they could never hold is refused. */
export const agentKeyParser: Parser<string> = (text) => {
  if (text === '' || text.length > MAX_AGENT_KEY_LENGTH || agentKeyOf(text) !== text)
    throw new InputError(
      `agent key ${quote(text)} is not an agent key: the agent's name trimmed, lower-cased, spaces collapsed (as agent_key is answered), at most ${MAX_AGENT_KEY_LENGTH} characters`,
    )
  return text
}

/**
 * A query time (README: Times and ranges; `parseTimeBound` in packages/zoned-time), read in `zone`:
 * ISO 8601, a wall-clock time, a bare date for its whole local day, or a duration ago from `now()`.
 * The queries' ranges are half-open, `[from, to)`: as `bound: 'from'` a bare date is its day's
 * start, as `bound: 'to'` the next day's start, so `from=D&to=D` is the day D. A time refused is an
 * InputError (HTTP 400) naming the text and the accepted forms.
 */
export function queryTimeParser(
  zone: string,
  options: { bound?: 'instant' | 'from' | 'to'; now?: () => number } = {},
): Parser<number> {
  const { bound = 'instant', now = Date.now } = options
  return (text) => {
    const parsed = parseTimeBound(text, zone, { nowMs: now(), bound })
    if (parsed.ok) return parsed.ms
    throw new InputError(parsed.error)
  }
}
