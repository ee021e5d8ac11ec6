/*
 * Property tests of the HTTP input parsers every service shares (README: Security, Fuzzing): the
 * path splitter, the shared parameter parsers, cursors and paging, and the router itself on
 * arbitrary request targets. Refusals are InputError (400) or HttpError with a registered code;
 * nothing else may escape, and every answer is the JSON error shape or the route's own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { errorCodes, hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { cursorParser, encodeCursor, limitParser, pageOf } from './http-paging.js'
import { connIdParser, serverParser } from './http-params.js'
import { createRouter, InputError, pathSegments, route } from './http-router.js'

const RUNS = 2000
const text = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(...hostileStrings),
)
const segment = fc.oneof(
  fc.constantFrom('operations', 'agents', 'things', '0010', '..', '.', '%2e%2e', '%00', '%', '%zz'),
  fc.webSegment(),
  fc.string({ unit: 'grapheme', maxLength: 100 }).map(encodeURIComponent),
)
const target = fc.oneof(
  fc
    .tuple(fc.array(segment, { maxLength: 6 }), fc.webQueryParameters())
    .map(([parts, query]) => `/${parts.join('/')}${query === '' ? '' : `?${query}`}`),
  text.map((t) => `/${t}`),
)

/** Calls `parse`; passes when it returns or throws InputError, and answers whether it returned. */
function refusesCleanly(parse: (t: string) => unknown, input: string): boolean {
  try {
    withinMs(() => parse(input), 100, input)
    return true
  } catch (error) {
    if (error instanceof InputError) return false
    throw error
  }
}

describe('the shared HTTP parsers', () => {
  it('split any path into segments or refuse it with InputError', () => {
    fc.assert(
      fc.property(target, (t) => {
        if (refusesCleanly(pathSegments, t)) {
          const parts = pathSegments(t)
          expect(parts.every((p) => p !== '')).toBe(true)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('take a server code or a conn_id only as their definitions say', () => {
    fc.assert(
      fc.property(text, (t) => {
        if (refusesCleanly(serverParser, t)) expect(t).toMatch(/^[0-9]{1,6}$/)
        if (refusesCleanly(connIdParser, t)) {
          expect(t.length).toBeGreaterThan(0)
          expect(t.length).toBeLessThanOrEqual(128)
          expect(t.trim()).toBe(t)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('take a limit only as a whole number in range', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.integer().map(String)), (t) => {
        if (refusesCleanly(limitParser(1000), t)) {
          const n = limitParser(1000)(t)
          expect(Number.isInteger(n) && n >= 1 && n <= 1000).toBe(true)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('read back every cursor they write, and refuse any other text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (key) => {
        expect(cursorParser(encodeCursor(key))).toBe(key)
      }),
      { numRuns: RUNS },
    )
    fc.assert(
      fc.property(text, (t) => {
        if (refusesCleanly(cursorParser, t)) expect(encodeCursor(cursorParser(t))).toBe(t.trim())
      }),
      { numRuns: RUNS },
    )
  })

  it('page any sorted list so that the pages, in order, are the list', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 8 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 25 }),
        (raw, limit) => {
          const items = [...raw].sort()
          const seen: string[] = []
          let after: string | undefined
          for (;;) {
            const page = pageOf(items, (x) => x, { limit, after })
            expect(page.items.length).toBeLessThanOrEqual(limit)
            seen.push(...page.items)
            if (page.next_cursor === null) break
            after = cursorParser(page.next_cursor)
          }
          expect(seen).toEqual(items)
        },
      ),
      { numRuns: 500 },
    )
  })
})

describe('the router on arbitrary requests', () => {
  const router = createRouter<undefined>(
    [
      route<undefined, { server: string; connId: string }, { limit: number; cursor: string }>({
        method: 'GET',
        path: '/operations/:server/things/:connId',
        params: { server: serverParser, connId: connIdParser },
        query: { limit: limitParser(10), cursor: cursorParser },
        handle: ({ params }) => ({ status: 200, body: { ok: params.connId } }),
      }),
      route<undefined>({
        method: 'POST',
        path: '/reload',
        handle: () => ({ status: 200, body: { reloaded: true } }),
      }),
    ],
    { invalidCode: 'SENTIMENT_QUERY_INVALID' },
  )
  const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'X')
  const contentType = fc.option(fc.constantFrom('application/json', 'text/plain', ''))

  it('answers a known path with its route, 400, 403 or 405 in the error shape; other paths fall through', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          target,
          fc
            .tuple(segment, segment, fc.webQueryParameters())
            .map(([s, c, q]) => `/operations/${s}/things/${c}?${q}`),
          fc.constant('/reload'),
        ),
        method,
        contentType,
        async (url, verb, type) => {
          let status = 0
          let body = ''
          const res = {
            writeHead: (s: number) => {
              status = s
              return res
            },
            end: (b: string) => {
              body = b
            },
          } as unknown as ServerResponse
          const req = {
            url,
            method: verb,
            headers: type === null ? {} : { 'content-type': type, host: 'h' },
          } as unknown as IncomingMessage
          let answered: boolean
          try {
            answered = await router(req, res, undefined)
          } catch (error) {
            // Only the server's own refusal of a target that is not a path may escape.
            expect((error as { code?: string }).code).toBe('HTTP_REQUEST_INVALID')
            return
          }
          if (!answered) return
          expect([200, 400, 403, 405]).toContain(status)
          const parsed = JSON.parse(body) as { error?: { code: string; message: string } }
          if (status !== 200) {
            expect(Object.hasOwn(errorCodes, parsed.error!.code)).toBe(true)
            expect(typeof parsed.error!.message).toBe('string')
          }
        },
      ),
      { numRuns: RUNS },
    )
  })
})
