/*
 * Parsers of the path and query parameters the services share, each built on the one definition
 * of what it names (packages/config identifiers), so the HTTP APIs and the poller's configuration
 * accept the same values.
 */
import { isConnId, MAX_CONN_ID_LENGTH, serverCodePattern } from '@wolkvox-chat-stream/config'
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
