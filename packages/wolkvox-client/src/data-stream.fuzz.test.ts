import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { deeplyNested, hostileStrings } from '@wolkvox-chat-stream/errors'
import { createDataStreamParser, DataStreamError, type DataStreamEnd } from './data-stream.js'

/** JSON whitespace, mostly none. */
const space = fc.constantFrom('', '', '', '', ' ', '\n', '\t', '\r\n', ' \n  ')
const text = fc.oneof(
  fc.constantFrom(...hostileStrings.filter((s) => s.length < 1_000)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('Hola, ¿cómo está? 😊', 'quote " backslash \\ end\\', '\\"', 'data', '[{,:}]'),
)
/** Any JSON value, with unicode, escapes and (rarely) deep nesting. */
const value = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3, stringUnit: 'grapheme' }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }) },
  { weight: 3, arbitrary: fc.dictionary(text, fc.oneof(text, fc.jsonValue({ maxDepth: 1 }))) },
  { weight: 2, arbitrary: text },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }).map(deeplyNested) },
)
/** Envelope keys: never `data` itself (the body's own data member is placed separately). */
const key = fc
  .oneof(text, fc.constantFrom('code', 'msg', '__proto__', 'Data', 'data ', 'datos'))
  .filter((k) => k !== 'data')
/** The top-level data key as it may be written: plain or with \u escapes. */
const dataKey = fc.constantFrom('"data"', '"data"', '"data"', '"d\\u0061ta"', '"\\u0064ata"')
/** JSON.stringify's indentation of a value: none, spaces, a tab or CRLF. */
const gap = fc.constantFrom(undefined, undefined, 2, '\t', '\r\n')

/** A body: a top-level object whose `data` (array or not) sits among other members. */
const body = fc
  .record({
    bom: fc.boolean(),
    before: fc.array(fc.tuple(key, value), { maxLength: 3 }),
    after: fc.array(fc.tuple(key, value), { maxLength: 3 }),
    dataKey,
    data: fc.oneof(
      { weight: 6, arbitrary: fc.array(value, { maxLength: 12 }) },
      { weight: 1, arbitrary: value },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    gap,
    spaces: fc.array(space, { minLength: 16, maxLength: 16 }),
  })
  .map(({ bom, before, after, dataKey, data, gap, spaces }) => {
    let n = 0
    const ws = () => spaces[n++ % spaces.length]!
    const json = (v: unknown) => JSON.stringify(v, null, gap) ?? 'null'
    const members = [...before, ...after].map(
      ([k, v]) => `${ws()}${json(k)}${ws()}:${ws()}${json(v)}`,
    )
    if (data !== undefined) {
      const dataText = Array.isArray(data)
        ? `[${data.map((v) => `${ws()}${json(v)}${ws()}`).join(',')}${data.length === 0 ? ws() : ''}]`
        : json(data)
      members.splice(before.length, 0, `${ws()}${dataKey}${ws()}:${ws()}${dataText}`)
    }
    const object = `{${members.map((m) => `${m}${ws()}`).join(',')}${members.length === 0 ? ws() : ''}}`
    return Buffer.from(`${bom ? '\ufeff' : ''}${ws()}${object}${ws()}`)
  })

/** Where to cut a body into chunks: a few random places, or after every byte. */
const cuts = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant('every byte' as const) },
)

function chunksOf(bytes: Uint8Array, at: number[] | 'every byte'): Uint8Array[] {
  const points =
    at === 'every byte'
      ? Array.from({ length: bytes.length }, (_, i) => i + 1)
      : [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let from = 0
  for (const p of [...points, bytes.length]) {
    if (p < from) continue
    chunks.push(bytes.subarray(from, p))
    from = p
  }
  return chunks
}

type Outcome =
  | { ok: true; rows: unknown[]; end: DataStreamEnd }
  | { ok: false; rows: unknown[]; error: DataStreamError }

function run(chunks: Uint8Array[]): Outcome {
  const parser = createDataStreamParser()
  const rows: unknown[] = []
  try {
    for (const chunk of chunks) rows.push(...parser.push(chunk))
    return { ok: true, rows, end: parser.end() }
  } catch (error) {
    if (error instanceof DataStreamError) return { ok: false, rows, error }
    throw error
  }
}

/** What the client does today: the whole text, without its byte order mark, to JSON.parse. */
function reference(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    const text = Buffer.from(bytes)
      .toString('utf8')
      .replace(/^\uFEFF/, '')
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** The envelope and rows JSON.parse's value means: data, when an array, handed out as rows. */
function expected(value: unknown): { rows: unknown[]; envelope: unknown; dataCount?: number } {
  if (!isRecord(value) || !Array.isArray(value.data)) return { rows: [], envelope: value }
  const rows = value.data
  value.data = []
  return { rows, envelope: value, dataCount: rows.length }
}

/**
 * Equal as JSON, key order included. (`toStrictEqual` would tell apart two equal objects that have
 * an own `constructor` key, which JSON.parse makes.)
 */
function expectSameJson(actual: unknown, wanted: unknown): void {
  expect(actual).toEqual(wanted)
  expect(JSON.stringify(actual)).toBe(JSON.stringify(wanted))
}

function expectSameAsJsonParse(bytes: Uint8Array, outcome: Outcome): void {
  const ref = reference(bytes)
  if (!ref.ok) {
    expect(outcome.ok).toBe(false)
    if (!outcome.ok) {
      expect(outcome.error.position).toBeGreaterThanOrEqual(0)
      expect(outcome.error.position).toBeLessThanOrEqual(bytes.length)
      expect(outcome.error.message.endsWith(`(at byte ${outcome.error.position})`)).toBe(true)
    }
    return
  }
  if (!outcome.ok) {
    // The one documented difference: a second data key once rows were handed out.
    expect(outcome.error.message).toMatch(/second top-level data key/)
    return
  }
  const want = expected(ref.value)
  expectSameJson(outcome.rows, want.rows)
  expectSameJson(outcome.end.envelope, want.envelope)
  expect(outcome.end.dataCount).toBe(want.dataCount)
  expect(outcome.end.bytes).toBe(bytes.length)
}

describe('the data stream parser on generated bodies', () => {
  it('gives the rows and envelope JSON.parse gives, wherever the chunks are cut', () => {
    fc.assert(
      fc.property(body, cuts, (bytes, at) => {
        const outcome = run(chunksOf(bytes, at))
        expect(outcome.ok).toBe(true)
        expectSameAsJsonParse(bytes, outcome)
      }),
      { numRuns: 300 },
    )
  })

  it('fails at end() on every proper prefix, having handed out only correct rows', () => {
    fc.assert(
      fc.property(body, fc.nat(), cuts, (bytes, cut, at) => {
        const whole = run([bytes])
        // Whitespace may follow the closing brace: a prefix must stop before that brace.
        const prefix = bytes.subarray(0, cut % (bytes.lastIndexOf(0x7d) + 1))
        const outcome = run(chunksOf(prefix, at))
        expect(outcome.ok).toBe(false)
        if (outcome.ok) return
        expect(outcome.error.position).toBe(prefix.length)
        expectSameJson(outcome.rows, whole.rows.slice(0, outcome.rows.length))
      }),
      { numRuns: 300 },
    )
  })

  it('accepts a damaged body exactly when JSON.parse does, with the same result', () => {
    const damage = fc.array(
      fc.record({
        at: fc.nat(),
        kind: fc.constantFrom('replace', 'insert', 'delete'),
        byte: fc.oneof(
          fc.constantFrom(...Buffer.from('"\\{}[],: \n0a-.eu/')),
          fc.constantFrom(0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc3, 0xef, 0xbb, 0xf0, 0xff),
          fc.integer({ min: 0, max: 255 }),
        ),
      }),
      { minLength: 1, maxLength: 3 },
    )
    fc.assert(
      fc.property(body, damage, cuts, (original, changes, at) => {
        const bytes = [...original]
        for (const { at: where, kind, byte } of changes) {
          const i = where % (bytes.length + 1)
          if (kind === 'insert') bytes.splice(i, 0, byte)
          else if (i < bytes.length) bytes.splice(i, 1, ...(kind === 'replace' ? [byte] : []))
        }
        const damaged = Uint8Array.from(bytes)
        expectSameAsJsonParse(damaged, run(chunksOf(damaged, at)))
      }),
      { numRuns: 700 },
    )
  })
})
