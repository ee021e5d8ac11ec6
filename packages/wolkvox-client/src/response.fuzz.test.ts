import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { errorCodes, hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { judgeAnswer, statusOf, type UpstreamAnswer } from './response.js'

const text = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ unit: 'binary', maxLength: 60 }),
)
const upstreamWords = fc.constantFrom(
  'THE API YOU WANT TO CONSULT DOES NOT EXIST',
  'SOME PARAMETERS ARE REQUIRED',
  'PLEASE ENTER THE WOLKVOX-TOKEN',
  'please validate token',
  'TOKEN LIMIT EXCEEDED',
  'EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN',
  'No records',
)
const code = fc.oneof(
  fc.integer({ min: -1, max: 1000 }),
  fc.integer({ min: 100, max: 599 }).map((n) => ` ${n}\n`),
  fc.constantFrom('200', '404', '2e2', '0x1F4', '２００', '200.0', 200.5, null, true, [], {}),
  text,
)
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      code,
      msg: fc.oneof(upstreamWords, text, fc.jsonValue({ maxDepth: 1 })),
      error: fc.oneof(upstreamWords, text),
      message: text,
      data: fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }), fc.jsonValue()),
      ['__proto__']: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  ),
)
/** An answer as the client builds it: the text, and its JSON when the text is JSON. */
const answer: fc.Arbitrary<UpstreamAnswer> = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(200, 301, 302, 400, 401, 403, 404, 416, 429, 500, 503),
      fc.integer({ min: 100, max: 599 }),
    ),
    fc.oneof(
      body.map((json) => JSON.stringify(json) ?? ''),
      text,
      upstreamWords,
    ),
  )
  .map(([status, bodyText]) => {
    let json: unknown
    try {
      json = JSON.parse(bodyText)
    } catch {
      json = undefined
    }
    return { status, text: bodyText.slice(0, 2_000), json }
  })

describe('statusOf on any JSON value', () => {
  it('never throws and gives an HTTP status from 100 to 599 or undefined', () => {
    fc.assert(
      fc.property(fc.oneof(code, fc.jsonValue()), (value) => {
        const status = withinMs(() => statusOf(value), undefined, value)
        if (status !== undefined) {
          expect(Number.isInteger(status)).toBe(true)
          expect(status).toBeGreaterThanOrEqual(100)
          expect(status).toBeLessThanOrEqual(599)
        }
      }),
      { numRuns: 2_000 },
    )
  })

  it('round-trip: reads every status back, as a number and as text with spaces around', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), (status) => {
        expect(statusOf(status)).toBe(status)
        expect(statusOf(String(status))).toBe(status)
        expect(statusOf(` ${status}\t`)).toBe(status)
      }),
      { numRuns: 500 },
    )
  })
})

describe('judgeAnswer on any answer', () => {
  it('never throws and gives rows, empty, or an error of a registered WOLKVOX_ code, fast', () => {
    fc.assert(
      fc.property(answer, (a) => {
        const verdict = withinMs(() => judgeAnswer(a), undefined, a)
        switch (verdict.kind) {
          case 'rows':
            expect(Array.isArray(verdict.data)).toBe(true)
            expect(verdict.data).toBe((a.json as { data: unknown[] }).data)
            break
          case 'empty':
            expect(a.status === 404 || statusOf((a.json as { code?: unknown }).code) === 404).toBe(
              true,
            )
            break
          case 'error':
            expect(Object.hasOwn(errorCodes, verdict.code)).toBe(true)
            expect(verdict.code).toMatch(/^WOLKVOX_/)
            expect(typeof verdict.upstreamText).toBe('string')
            expect(verdict.status).toBeGreaterThanOrEqual(100)
            expect(verdict.status).toBeLessThanOrEqual(599)
            break
          default:
            throw new Error(`unknown verdict ${JSON.stringify(verdict)}`)
        }
      }),
      { numRuns: 3_000 },
    )
  })

  it('round-trip: a 200 whose body holds a data array gives exactly those rows', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }), (data) => {
        const bodyText = JSON.stringify({ code: 200, msg: 'ok', data })
        const verdict = judgeAnswer({ status: 200, text: bodyText, json: JSON.parse(bodyText) })
        expect(verdict).toEqual({ kind: 'rows', data: JSON.parse(JSON.stringify(data)) })
      }),
      { numRuns: 1_000 },
    )
  })
})
