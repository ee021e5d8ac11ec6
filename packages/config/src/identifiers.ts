/*
 * The one definition of each identifier that comes from outside: the operations file, the CLI,
 * HTTP paths and query parameters all check against these.
 */

/** What a Wolkvox server code must look like: digits only, as in `0010` or `3211`. */
export const serverCodePattern = /^[0-9]{1,6}$/

/** The longest `conn_id` accepted in a request (Wolkvox's are about 20 characters). */
export const MAX_CONN_ID_LENGTH = 128

/**
 * True for a `conn_id` as a request may name it: 1 to {@link MAX_CONN_ID_LENGTH} characters, no
 * control character and no surrounding whitespace.
 */
export function isConnId(text: string): boolean {
  return (
    text.length > 0 &&
    text.length <= MAX_CONN_ID_LENGTH &&
    text.trim() === text &&
    !hasControlCharacter(text)
  )
}

/** True when `text` holds a control character (C0, DEL or C1). */
export function hasControlCharacter(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f-\u009f]/u.test(text)
}

/**
 * An agent's identity in the aggregates (`AgentSentiment.agent_key`, `ChatQuality.agent_key`):
 * the display name in Unicode NFC, trimmed, inner whitespace collapsed to one space, lower-cased.
 */
export function agentKeyOf(agentName: string): string {
  return agentName.normalize('NFC').trim().replace(/\s+/gu, ' ').toLowerCase()
}

/** The longest agent key an HTTP request may name. */
export const MAX_AGENT_KEY_LENGTH = 256
