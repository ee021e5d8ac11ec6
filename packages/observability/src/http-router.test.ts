/*
 * The router every service's API is declared with: parameters checked before a handler runs,
 * 405 with allow, unknown and repeated parameters refused, POST guarded against other sites, and
 * keyset paging.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpServer, type HttpServer } from './http-server.js'
import { createMetricsRegistry } from './metrics.js'
import { cursorParser, encodeCursor, limitParser, pageOf } from './http-paging.js'
import { serverParser } from './http-params.js'
import { createRouter, InputError, route } from './http-router.js'

const servers: HttpServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

const router = createRouter<{ tag: string }>(
  [
    route<{ tag: string }, { server: string }, { limit: number }>({
      method: 'GET',
      path: '/operations/:server/things',
      params: { server: serverParser },
      query: { limit: limitParser(10) },
      handle: ({ params, query }, context) => ({
        status: 200,
        body: { server: params.server, limit: query.limit ?? null, tag: context.tag },
      }),
    }),
    route<{ tag: string }>({
      method: 'POST',
      path: '/reload',
      handle: () => ({ status: 200, body: { reloaded: true } }),
    }),
  ],
  { invalidCode: 'SENTIMENT_QUERY_INVALID' },
)

async function start() {
  const server = createHttpServer({
    port: 0,
    registry: createMetricsRegistry({ collectDefaultMetrics: false }),
    routes: (req, res) => router(req, res, { tag: 'ctx' }),
  })
  servers.push(server)
  const { port } = await server.listen()
  return (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init)
}

describe('createRouter', () => {
  it('checks path and query parameters before the handler runs', async () => {
    const call = await start()
    const ok = await call('/operations/0010/things?limit=3')
    expect(await ok.json()).toEqual({ server: '0010', limit: 3, tag: 'ctx' })
    expect(await (await call('//operations//0010/things/?limit=')).json()).toMatchObject({
      limit: null,
    })
    const traversal = await call('/operations/..%2F..%2Fetc/things')
    expect(traversal.status).toBe(400)
    expect(await traversal.json()).toMatchObject({
      error: {
        code: 'SENTIMENT_QUERY_INVALID',
        message: expect.stringMatching(/not a server code/),
      },
    })
    const unknown = await call('/operations/0010/things?limt=3')
    expect(unknown.status).toBe(400)
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toBe(
      'Unknown parameter "limt": this route takes limit',
    )
    expect((await call('/operations/0010/things?limit=1&limit=2')).status).toBe(400)
    expect((await call('/operations/0010/things?limit=11')).status).toBe(400)
    expect((await call('/operations/%E0%A4%A/things')).status).toBe(400)
    expect((await call('/operations/0010/other')).status).toBe(404)
  })

  it('answers 405 with allow for another method, HEAD as GET', async () => {
    const call = await start()
    const refused = await call('/operations/0010/things', { method: 'DELETE' })
    expect(refused.status).toBe(405)
    expect(refused.headers.get('allow')).toBe('GET, HEAD')
    expect(await refused.json()).toMatchObject({ error: { code: 'HTTP_METHOD_NOT_ALLOWED' } })
    expect((await call('/operations/0010/things', { method: 'HEAD' })).status).toBe(200)
    expect((await call('/reload')).headers.get('allow')).toBe('POST')
  })

  it('refuses a POST a web page on another site could send', async () => {
    const call = await start()
    const json = { 'content-type': 'application/json' }
    expect((await call('/reload', { method: 'POST', headers: json })).status).toBe(200)
    const form = await call('/reload', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(form.status).toBe(403)
    expect(await form.json()).toMatchObject({ error: { code: 'HTTP_CROSS_SITE_REFUSED' } })
    const other = await call('/reload', {
      method: 'POST',
      headers: { ...json, origin: 'https://evil.example' },
    })
    expect(other.status).toBe(403)
  })
})

describe('paging', () => {
  const items = ['a', 'b', 'c', 'd', 'e']

  it('walks every item once, in order, page by page', () => {
    const seen: string[] = []
    let after: string | undefined
    for (let i = 0; i < 10; i += 1) {
      const page = pageOf(items, (x) => x, { limit: 2, after })
      seen.push(...page.items)
      if (page.next_cursor === null) break
      after = cursorParser(page.next_cursor)
    }
    expect(seen).toEqual(items)
  })

  it('continues after the cursor even when that item is gone', () => {
    expect(pageOf(['a', 'c', 'd'], (x) => x, { limit: 5, after: 'b' }).items).toEqual(['c', 'd'])
    expect(pageOf(items, (x) => x, { limit: 5 }).next_cursor).toBeNull()
  })

  it('refuses a cursor it did not write and a limit out of range', () => {
    expect(cursorParser(encodeCursor('day\u0000chan'))).toBe('day\u0000chan')
    expect(() => cursorParser('not a cursor!')).toThrow(InputError)
    expect(() => limitParser(10)('0')).toThrow(/1 to 10/)
    expect(() => limitParser(10)('2.5')).toThrow(InputError)
  })
})
