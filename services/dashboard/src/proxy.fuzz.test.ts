import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { upstreamNames } from './config.js'
import { resolveProxyTarget } from './proxy.js'

// Bases as config.ts keeps them: origin and path, no trailing slash.
const upstreams = {
  poller: 'http://127.0.0.1:8081',
  sentiment: 'http://127.0.0.1:8082/sentiment',
  classifier: 'http://localhost:8083/a/b',
  quality: 'http://127.0.0.1:8084',
}

/** A path segment: hostile, encoded and raw dots, separators, control characters. */
const segment = fc.oneof(
  fc.constantFrom(...hostileStrings.filter((s) => s.length < 100)),
  fc.constantFrom('.', '..', '%2e', '%2E%2e', '.%2e', '%252e%252e', '%2f', '%5c', '\\', ';', '#'),
  fc.constantFrom('.\t.', '\t..', '..\t', '.\n.', '.\r.', '%09', '. .', '\u3002\u3002', '．．'),
  fc.constantFrom('operations', '0010', 'agents', 'status', 'counts'),
  fc.string({ unit: 'binary-ascii', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
)
const requestUrl = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc
    .tuple(
      fc.constantFrom(...upstreamNames, 'Poller', 'other', ''),
      fc.array(segment, { maxLength: 5 }),
      fc.oneof(
        fc.constant(''),
        fc.string({ maxLength: 20 }).map((q) => `?${q}`),
      ),
    )
    .map(([service, segments, query]) => `/api/${service}/${segments.join('/')}${query}`),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => `/api/${s}`),
)

describe('resolveProxyTarget on any request URL', () => {
  it('forwards only under the service base, with no dot segment once a URL parser reads it', () => {
    fc.assert(
      fc.property(requestUrl, (url) => {
        const target = withinMs(() => resolveProxyTarget(url, upstreams), undefined, url)
        if (target.kind === 'refused') {
          expect([400, 404]).toContain(target.status)
          return
        }
        const base = upstreams[target.service]
        expect(target.url.startsWith(`${base}/`)).toBe(true)
        // fetch reads the URL with the WHATWG parser, which drops tabs and newlines and resolves
        // dot segments: what it would request must still be under the base.
        let parsed: URL
        try {
          parsed = new URL(target.url)
        } catch {
          return // fetch refuses it before any request: the proxy answers 502
        }
        const basePath = new URL(base).pathname.replace(/\/$/, '')
        expect(parsed.origin).toBe(new URL(base).origin)
        expect(parsed.pathname.startsWith(`${basePath}/`)).toBe(true)
        expect(parsed.pathname.split('/')).not.toContain('..')
        // The WHATWG parser's dot segments: ".", "..", "%2e" and their mixes, any case.
        const dotSegments = ['.', '..', '%2e', '.%2e', '%2e.', '%2e%2e']
        const sent = target.url
          .slice(base.length)
          .replace(/[\t\n\r]/g, '')
          .split(/[?#]/)[0]!
        expect(sent.split('/').filter((s) => dotSegments.includes(s.toLowerCase()))).toEqual([])
      }),
      { numRuns: 3_000 },
    )
  })

  it('round-trip: a plain path under a service is forwarded as it is, query included', () => {
    const plain = fc.stringMatching(/^[A-Za-z0-9_~-]{1,10}$/)
    fc.assert(
      fc.property(
        fc.constantFrom(...upstreamNames),
        fc.array(plain, { maxLength: 4 }),
        fc.stringMatching(/^[a-z]{1,5}=[A-Za-z0-9%]{0,8}$/),
        (service, segments, query) => {
          const rest = `/${segments.join('/')}`
          expect(resolveProxyTarget(`/api/${service}${rest}?${query}`, upstreams)).toEqual({
            kind: 'forward',
            service,
            url: `${upstreams[service]}${rest}?${query}`,
          })
        },
      ),
      { numRuns: 1_000 },
    )
  })
})

describe('a defect the fuzzing found', () => {
  it('refuses a dot segment split by a raw TAB, which a URL parser reads as ".."', () => {
    // It was forwarded as http://127.0.0.1:8082/.\t./x, which fetch requests as /x.
    expect(resolveProxyTarget('/api/sentiment/.\t./x', upstreams).kind).toBe('refused')
    expect(resolveProxyTarget('/api/sentiment/a\nb', upstreams).kind).toBe('refused')
  })
})
