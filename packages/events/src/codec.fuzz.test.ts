import { readFileSync } from 'node:fs'
import type avsc from 'avsc'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectOnlyAppErrors, hostileStrings, withinMs } from '@wolkvox-chat-stream/errors'
import { schemasDir } from './codegen/render-records.js'
import { createEventCodec, parseSchema, type EventCodec } from './codec.js'
import { fingerprintBytes } from './fingerprint.js'
import {
  agentSentimentCodec,
  chatMessageCodec,
  pollerCheckpointCodec,
  schemaVersions,
  tramiteClassificationCodec,
  type ChatMessage,
} from './records.js'

const v1Codec = createEventCodec<Omit<ChatMessage, 'revision'>>({
  reader: schemaVersions.chatMessage[0],
})
const codecs = {
  'chat-message.v1': v1Codec,
  'chat-message.v2': chatMessageCodec,
  'poller-checkpoint.v1': pollerCheckpointCodec,
  'agent-sentiment.v1': agentSentimentCodec,
  'agent-sentiment.v2': agentSentimentCodec,
  'tramite-classification.v1': tramiteClassificationCodec,
} as Record<string, EventCodec<unknown>>
const names = Object.keys(codecs)

// A registry id known to the ChatMessage codec, so that Confluent wire format bytes reach a body.
const REGISTRY_ID = 4242
chatMessageCodec.addRegistrySchema(REGISTRY_ID, schemaVersions.chatMessage[1].schema)

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`fixtures/${name}.bin`, `file://${schemasDir}`))

const MAX_EXACT_LONG = 2 ** 52 - 1

const DECODE_CODES = [
  'EVENT_NOT_SINGLE_OBJECT',
  'EVENT_SCHEMA_ID_UNKNOWN',
  'EVENT_UNKNOWN_FINGERPRINT',
  'EVENT_BODY_INVALID',
] as const

/** A zig-zag varint as Avro writes a long, for forged counts and lengths. */
function varint(n: bigint): number[] {
  let z = n >= 0n ? n << 1n : (-n << 1n) - 1n
  const bytes: number[] = []
  while (z >= 0x80n) {
    bytes.push(Number(z & 0x7fn) | 0x80)
    z >>= 7n
  }
  bytes.push(Number(z))
  return bytes
}
const forgedLong = fc.oneof(
  fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
  fc.constantFrom(2n ** 31n, 2n ** 40n, 2n ** 50n, -(2n ** 50n), -1n, 2n ** 53n + 1n),
)

/** Bytes a hostile producer could put on a topic: random, valid headers, a valid record altered. */
const bytesFor = (name: string): fc.Arbitrary<Uint8Array> => {
  const codec = codecs[name]!
  const valid = fixture(name)
  const headers = [...codec.writers.keys()].map((fp) =>
    Buffer.concat([Buffer.from([0xc3, 0x01]), fingerprintBytes(fp)]),
  )
  const registryHeader = Buffer.from([0, 0, 0, REGISTRY_ID >> 8, REGISTRY_ID & 0xff])
  const header = fc.constantFrom(...headers, registryHeader, Buffer.from([0, 0, 0, 0, 7]))
  return fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc
      .tuple(header, fc.uint8Array({ maxLength: 300 }))
      .map(([h, body]) => Buffer.concat([h, body])),
    // A valid record with bytes changed, cut short, grown, or a forged long spliced in.
    fc
      .tuple(
        fc.nat({ max: valid.length }),
        fc.uint8Array({ minLength: 1, maxLength: 4 }),
        fc.constantFrom('overwrite', 'truncate', 'insert', 'splice-long'),
        forgedLong,
      )
      .map(([at, bytes, how, long]) => {
        const copy = Buffer.from(valid)
        switch (how) {
          case 'overwrite':
            Buffer.from(bytes).copy(copy, Math.min(at, copy.length - 1))
            return copy
          case 'truncate':
            return copy.subarray(0, at)
          case 'insert':
            return Buffer.concat([copy.subarray(0, at), bytes, copy.subarray(at)])
          default:
            return Buffer.concat([
              copy.subarray(0, at),
              Buffer.from(varint(long)),
              copy.subarray(Math.min(copy.length, at + 1)),
            ])
        }
      }),
  )
}

/**
 * Valid values of an avsc type, with hostile strings and map keys. `jsonSafe` leaves out the
 * doubles JSON cannot write (NaN, ±Infinity, -0): Avro's JSON encoding is JSON.
 */
function valuesOf(type: avsc.Type, jsonSafe = false): fc.Arbitrary<unknown> {
  const text = fc.oneof(
    fc.constantFrom(...hostileStrings),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 120 }),
  )
  const of = (t: avsc.Type): fc.Arbitrary<unknown> => {
    const typeName = t.typeName
    switch (typeName) {
      case 'null':
        return fc.constant(null)
      case 'boolean':
        return fc.boolean()
      case 'int':
        return fc.integer()
      // Longs and times beyond ±(2^52 - 1) are refused by design (MAX_EXACT_LONG in codec.ts:
      // avsc cannot write them all exactly); the regressions below check the refusal.
      case 'long':
        return fc.oneof(
          fc.integer({ min: -1000, max: 1000 }),
          fc.constantFrom(MAX_EXACT_LONG, -MAX_EXACT_LONG),
          fc
            .double({ min: -MAX_EXACT_LONG, max: MAX_EXACT_LONG, noNaN: true })
            .map((n) => Math.trunc(n) + 0),
        )
      case 'double':
        return jsonSafe
          ? fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => n + 0)
          : fc.double()
      case 'string':
        return text
      case 'enum':
        return fc.constantFrom(...(t as avsc.types.EnumType).symbols)
      case 'array':
        return fc.array(of((t as avsc.types.ArrayType).itemsType), { maxLength: 3 })
      case 'map':
        return fc.dictionary(
          fc.oneof(text, fc.constantFrom('__proto__', 'constructor')),
          of((t as avsc.types.MapType).valuesType as avsc.Type),
          { maxKeys: 4 },
        )
      case 'record':
        return fc.record(
          Object.fromEntries((t as avsc.types.RecordType).fields.map((f) => [f.name, of(f.type)])),
        )
      case 'logical:timestamp-millis':
        return fc.oneof(
          fc.date({
            min: new Date(-MAX_EXACT_LONG),
            max: new Date(MAX_EXACT_LONG),
            noInvalidDate: true,
          }),
          fc.constantFrom(new Date(-MAX_EXACT_LONG), new Date(MAX_EXACT_LONG), new Date(0)),
        )
      case 'union:unwrapped':
        return fc.oneof(...(t as unknown as { types: avsc.Type[] }).types.map(of))
      default:
        throw new Error(`no arbitrary for ${typeName}`)
    }
  }
  return of(type)
}

/** `value` as read back: a lone surrogate is written as U+FFFD (see EventCodec.encode). */
function wellFormed<T>(value: T): T {
  if (typeof value === 'string') return value.replace(/\p{Cs}/gu, '\uFFFD') as T
  if (value === null || typeof value !== 'object' || value instanceof Date) return value
  if (Array.isArray(value)) return value.map(wellFormed) as T
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [wellFormed(k), wellFormed(v as unknown)]),
  ) as T
}

describe.each(names)('%s: decoding any bytes', (name) => {
  const codec = codecs[name]!
  const firstField = (codec.schemas.get(codec.version)!.fields as { name: string }[])[0]!.name
  const decodeFirst = codec.decodeFields([firstField as never])

  it('throws only the decode AppErrors, fast, and what it reads fits the schema again', () => {
    fc.assert(
      fc.property(bytesFor(name), (bytes) => {
        const decoded = withinMs(
          () => expectOnlyAppErrors(() => codec.decode(bytes), DECODE_CODES, bytes),
          50,
          bytes,
        )
        withinMs(
          () => expectOnlyAppErrors(() => decodeFirst(bytes), DECODE_CODES, bytes),
          50,
          bytes,
        )
        const version = withinMs(() => codec.writerVersion(bytes), 50, bytes)
        if (!decoded.ok) return
        expect(version === undefined || codec.schemas.has(version)).toBe(true)
        // A value decoded from any bytes is a valid record: it encodes without an error.
        expectOnlyAppErrors(() => codec.encode(decoded.value), [], decoded.value)
      }),
      { numRuns: 2_000 },
    )
  })
})

describe.each(names)('%s: encode and decode', (name) => {
  const codec = codecs[name]!
  const type = parseSchema(codec.schemas.get(codec.version)!)
  const values = valuesOf(type)

  it('round-trip: decode(encode(value)) gives the value, in every version it can write', () => {
    fc.assert(
      fc.property(values, (value) => {
        expect(codec.decode(codec.encode(value))).toEqual(wellFormed(value))
        for (const version of codec.schemas.keys()) {
          expectOnlyAppErrors(() => codec.decode(codec.encode(value, { version })), [], value)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('round-trip: fromAvroJson(toAvroJson(value)) gives the value', () => {
    fc.assert(
      fc.property(valuesOf(type, true), (value) => {
        expect(codec.fromAvroJson(codec.toAvroJson(value))).toEqual(value)
      }),
      { numRuns: 200 },
    )
  })

  it('fromAvroJson throws only EVENT_SCHEMA_MISMATCH for any text', () => {
    const jsonText = fc.oneof(
      fc.constantFrom(...hostileStrings),
      fc.json({ maxDepth: 3 }),
      values.map((value) => codec.toAvroJson(value).replace(/\d/, '"')),
    )
    fc.assert(
      fc.property(jsonText, (text) => {
        withinMs(
          () =>
            expectOnlyAppErrors(() => codec.fromAvroJson(text), ['EVENT_SCHEMA_MISMATCH'], text),
          50,
          text,
        )
      }),
      { numRuns: 300 },
    )
  })
})

describe('regressions found by the properties above', () => {
  /** Where two encodings of a record first differ: the offset of the field that was changed. */
  const offsetOf = (a: Buffer, b: Buffer): number => {
    let i = 0
    while (a[i] === b[i]) i++
    return i
  }
  const splice = (bytes: Buffer, at: number, length: number, insert: number[]): Buffer =>
    Buffer.concat([bytes.subarray(0, at), Buffer.from(insert), bytes.subarray(at + length)])
  const caught = (action: () => unknown): { code?: string } => {
    try {
      action()
    } catch (error) {
      return error as { code?: string }
    }
    throw new Error('expected an error')
  }
  const message = chatMessageCodec.decode(fixture('chat-message.v2'))
  const empty = chatMessageCodec.encode({ ...message, extra: {} })
  const extraAt = offsetOf(empty, chatMessageCodec.encode({ ...message, extra: { a: 'b' } }))

  it('refuses at once a map block count of 2^41 (decoding ran for hours)', () => {
    const forged = splice(empty, extraAt, 1, varint(2n ** 41n))
    const started = performance.now()
    expect(caught(() => chatMessageCodec.decode(forged)).code).toBe('EVENT_BODY_INVALID')
    expect(performance.now() - started).toBeLessThan(50)
  })

  it('refuses a negative block size in a skipped map (skipping looped forever)', () => {
    const forged = splice(empty, extraAt, 1, [...varint(-1n), ...varint(-5n)])
    const decodeServer = chatMessageCodec.decodeFields(['server'])
    expect(caught(() => decodeServer(forged)).code).toBe('EVENT_BODY_INVALID')
  })

  it('refuses an int beyond 32 bits (it was read as a long)', () => {
    const checkpoint = pollerCheckpointCodec.decode(fixture('poller-checkpoint.v1'))
    const zero = pollerCheckpointCodec.encode({ ...checkpoint, splits: 0 })
    const at = offsetOf(zero, pollerCheckpointCodec.encode({ ...checkpoint, splits: 1 }))
    const forged = splice(zero, at, 1, varint(-(2n ** 31n) - 1n))
    expect(caught(() => pollerCheckpointCodec.decode(forged)).code).toBe('EVENT_BODY_INVALID')
  })

  it('refuses a long or a time beyond ±(2^52 - 1) (-(2^52 + 1) was written as +2^52)', () => {
    const checkpoint = pollerCheckpointCodec.decode(fixture('poller-checkpoint.v1'))
    const tooFar = -(2 ** 52) - 1
    expect(
      caught(() => pollerCheckpointCodec.encode({ ...checkpoint, fetched: tooFar })).code,
    ).toBe('EVENT_SCHEMA_MISMATCH')
    const date = new Date(tooFar)
    expect(
      caught(() => pollerCheckpointCodec.encode({ ...checkpoint, watermark: date })).code,
    ).toBe('EVENT_SCHEMA_MISMATCH')
    const zero = pollerCheckpointCodec.encode({ ...checkpoint, fetched: 0 })
    const at = offsetOf(zero, pollerCheckpointCodec.encode({ ...checkpoint, fetched: 1 }))
    const forged = splice(zero, at, 1, varint(BigInt(tooFar)))
    expect(caught(() => pollerCheckpointCodec.decode(forged)).code).toBe('EVENT_BODY_INVALID')
  })

  it('writes a lone surrogate as U+FFFD, valid UTF-8 (it read back as three U+FFFD)', () => {
    const bytes = chatMessageCodec.encode({
      ...message,
      message: 'a\ud800b',
      extra: { '\udc00': 'x' },
    })
    expect(bytes.includes(Buffer.from('a\uFFFDb'))).toBe(true)
    const decoded = chatMessageCodec.decode(bytes)
    expect(decoded.message).toBe('a\uFFFDb')
    expect(decoded.extra).toEqual({ '\uFFFD': 'x' })
  })

  it('keeps a map key "__proto__" through the binary and the JSON encodings', () => {
    const extra = JSON.parse('{"__proto__":"x"}') as Record<string, string>
    const value = { ...message, extra }
    expect(Object.keys(chatMessageCodec.decode(chatMessageCodec.encode(value)).extra)).toEqual([
      '__proto__',
    ])
    const json = chatMessageCodec.toAvroJson(value)
    expect(json).toContain('"__proto__":"x"')
    expect(Object.keys(chatMessageCodec.fromAvroJson(json).extra)).toEqual(['__proto__'])
  })
})
