/*
 * Paging of list answers: `limit` (1 to a documented maximum) and an opaque `cursor` naming the
 * last item of the previous page (keyset paging: an item added or removed between two pages moves
 * nothing else). Answers carry `next_cursor`, null on the last page.
 */
import { InputError, type Parser } from './http-router.js'

/** A `limit` parameter: a whole number from 1 to `max`. */
export function limitParser(max: number): Parser<number> {
  return (text) => {
    if (!/^[0-9]{1,9}$/u.test(text.trim()) || Number(text) < 1 || Number(text) > max)
      throw new InputError(`limit must be a whole number from 1 to ${max}`)
    return Number(text)
  }
}

/**
 * The cursor that follows the item whose sort key is `key`: `c` and the key in base64url. The
 * letter keeps the cursor of an empty key from being empty (an empty parameter counts as absent,
 * which would restart the walk).
 */
export function encodeCursor(key: string): string {
  return `c${Buffer.from(key, 'utf8').toString('base64url')}`
}

/** A `cursor` parameter: what {@link encodeCursor} wrote, back to the sort key. */
export const cursorParser: Parser<string> = (text) => {
  const trimmed = text.trim()
  if (trimmed.length > 1024 || !/^c[A-Za-z0-9_-]*$/u.test(trimmed))
    throw new InputError('cursor is not one this service gave (use next_cursor as it was answered)')
  const key = Buffer.from(trimmed.slice(1), 'base64url').toString('utf8')
  if (encodeCursor(key) !== trimmed)
    throw new InputError('cursor is not one this service gave (use next_cursor as it was answered)')
  return key
}

/** One page of `items` (sorted by `keyOf`, ascending and unique) after the cursor's key. */
export function pageOf<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  options: { limit: number; after?: string | undefined },
): { items: T[]; next_cursor: string | null } {
  const { limit, after } = options
  let start = 0
  if (after !== undefined) {
    // Binary search: the first item whose key is above the cursor's.
    let high = items.length
    while (start < high) {
      const middle = (start + high) >>> 1
      if (keyOf(items[middle]!) <= after) start = middle + 1
      else high = middle
    }
  }
  const page = items.slice(start, start + limit)
  const more = start + limit < items.length
  return { items: page, next_cursor: more ? encodeCursor(keyOf(page[page.length - 1]!)) : null }
}
