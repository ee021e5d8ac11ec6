/*
 * What each refusal of the codec says, word for word, and with which details: an operator reads
 * these in logs and dead letters, and tools read the details. A small record of our own (not a
 * shipped one) so every value below is written out by hand. Each case fails when a text, a
 * detail or a bound of codec.ts changes (found by mutation testing, README: Mutation testing).
 */
import { describe, expect, it } from 'vitest'
import { type AppError, thrownAppError } from '@wolkvox-chat-stream/errors'
import { createEventCodec, type AvroSchema, type SchemaVersion } from './codec.js'
import { formatFingerprint, parsingFingerprint64 } from './fingerprint.js'

const fields = [
  { name: 'id', type: 'long' },
  { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
  { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
  { name: 'note', type: ['null', 'string'], default: null },
  { name: 'tags', type: { type: 'map', values: 'string' } },
]
const probe = (extra: object[] = []): AvroSchema => ({
  type: 'record',
  name: 'Probe',
  namespace: 'com.example',
  fields: [...fields, ...extra],
})
const v1: SchemaVersion = { version: 1, schema: probe() }
const v2: SchemaVersion = {
  version: 2,
  schema: probe([{ name: 'size', type: 'int', default: 0 }]),
}
const codec = createEventCodec<Record<string, unknown>>({ reader: v2, writers: [v1, v2] })
const value = {
  id: 7,
  at: new Date('2025-02-11T15:00:00Z'),
  kind: 'A',
  note: null,
  tags: { a: 'x' },
  size: 3,
}

const said = (error: AppError): [string, string, unknown] => [
  error.code,
  error.message,
  error.details,
]

describe('building a codec', () => {
  it('refuses two versions with the same canonical form', () => {
    const twin: SchemaVersion = { version: 3, schema: probe() }
    expect(
      said(thrownAppError(() => createEventCodec({ reader: v2, writers: [v1, v2, twin] }))),
    ).toEqual([
      'EVENT_SCHEMA_INVALID',
      'com.example.Probe v1 and v3 have the same canonical form; a new version must change the schema',
      {},
    ])
  })

  it('refuses a writer the reader cannot read, with the reason and its cause', () => {
    const unreadable: SchemaVersion = {
      version: 3,
      schema: probe([{ name: 'size', type: 'string' }]),
    }
    const error = thrownAppError(() => createEventCodec({ reader: v2, writers: [unreadable] }))
    expect(error.code).toBe('EVENT_SCHEMA_INVALID')
    expect(error.message).toMatch(/^Probe v2 cannot read data written with v3: \S/)
    expect(error.cause).toBeInstanceOf(Error)
  })

  it('lists the versions it can write, in numeric order, when asked for another', () => {
    const v10: SchemaVersion = {
      version: 10,
      schema: probe([{ name: 'z', type: 'int', default: 1 }]),
    }
    const error = thrownAppError(() =>
      createEventCodec({ reader: v2, writers: [v10, v2, v1], writeVersion: 5 }),
    )
    expect(said(error)).toEqual([
      'EVENT_SCHEMA_INVALID',
      'com.example.Probe has no version 5 to write (known: 1, 2, 10)',
      { record: 'com.example.Probe', version: 5 },
    ])
    expect(said(thrownAppError(() => codec.encode(value, { version: 4 })))).toEqual([
      'EVENT_SCHEMA_INVALID',
      'com.example.Probe has no version 4 to write (known: 1, 2)',
      { record: 'com.example.Probe', version: 4 },
    ])
  })
})

describe('encode', () => {
  it('names every field that does not fit, what it expects and what it got (never the value)', () => {
    const bad = {
      ...value,
      id: 'seven',
      at: new Date(Number.NaN),
      kind: 3,
      note: ['x'],
      tags: null,
      size: 1.5,
    }
    expect(said(thrownAppError(() => codec.encode(bad)))).toEqual([
      'EVENT_SCHEMA_MISMATCH',
      'Probe v2 does not fit its schema: id: expected long, got a string; at: expected a valid Date (timestamp-millis), got an invalid Date; kind: expected one of A, B, got an integer; note: expected null or string, got an array; tags: expected map, got null; size: expected int, got a number',
      {
        record: 'com.example.Probe',
        version: 2,
        fields: [
          'id: expected long, got a string',
          'at: expected a valid Date (timestamp-millis), got an invalid Date',
          'kind: expected one of A, B, got an integer',
          'note: expected null or string, got an array',
          'tags: expected map, got null',
          'size: expected int, got a number',
        ],
      },
    ])
  })

  it('says which version it wrote with, and the record itself when it is not one', () => {
    expect(
      said(thrownAppError(() => codec.encode({ ...value, kind: 'C' }, { version: 1 }))),
    ).toEqual([
      'EVENT_SCHEMA_MISMATCH',
      'Probe v1 does not fit its schema: kind: expected one of A, B, got a string',
      {
        record: 'com.example.Probe',
        version: 1,
        fields: ['kind: expected one of A, B, got a string'],
      },
    ])
    expect(thrownAppError(() => codec.encode(null as never)).message).toBe(
      'Probe v2 does not fit its schema: (record): expected record, got null',
    )
  })

  it('writes a registry header for ids 0 to 2^32 - 1 and refuses any other', () => {
    expect([...codec.encode(value, { registryId: 0 }).subarray(0, 5)]).toEqual([0, 0, 0, 0, 0])
    expect([...codec.encode(value, { registryId: 0xffffffff }).subarray(0, 5)]).toEqual([
      0, 255, 255, 255, 255,
    ])
    for (const id of [-1, 2 ** 32, 1.5, Number.NaN])
      expect(
        said(thrownAppError(() => codec.encode(value, { registryId: id }))),
        String(id),
      ).toEqual(['EVENT_SCHEMA_INVALID', `${id} is not a schema registry id`, {}])
  })

  it('encodes values larger than its reused buffer, one after the other, each whole', () => {
    for (const size of [100, 40_000, 3_000_000, 50]) {
      const big = { ...value, note: 'n'.repeat(size) }
      expect(codec.decode(codec.encode(big))).toEqual(big)
    }
  })
})

describe('decode', () => {
  const bytes = codec.encode(value)

  it('refuses bytes of no known wire format, counting them', () => {
    for (const wrong of [
      Buffer.from([0xc3, 0x01, 1]),
      Buffer.from('C301xxxxxxxxxx'),
      Buffer.from([0xc3]),
    ])
      expect(said(thrownAppError(() => codec.decode(wrong)))).toEqual([
        'EVENT_NOT_SINGLE_OBJECT',
        `Probe v2: ${wrong.length} bytes that start with neither the single-object marker C3 01 and an 8-byte fingerprint nor the registry marker 00 and a 4-byte schema id`,
        { record: 'com.example.Probe', length: wrong.length },
      ])
    // Exactly the header and no body is a header: it fails later, as a body.
    expect(thrownAppError(() => codec.decode(bytes.subarray(0, 10))).code).toBe(
      'EVENT_BODY_INVALID',
    )
  })

  it('names an unknown fingerprint, and its owner when one is known', () => {
    const other = Buffer.from(bytes)
    other.writeBigInt64LE(42n, 2)
    const known = [parsingFingerprint64(v1.schema), parsingFingerprint64(v2.schema)].map(
      formatFingerprint,
    )
    expect(said(thrownAppError(() => codec.decode(other)))).toEqual([
      'EVENT_UNKNOWN_FINGERPRINT',
      `Probe v2: writer schema fingerprint ${formatFingerprint(42n)} is not a known version of com.example.Probe; upgrade this reader`,
      { record: 'com.example.Probe', fingerprint: formatFingerprint(42n), known },
    ])
    const naming = createEventCodec({
      reader: v2,
      writers: [v1],
      identify: (fp) => (fp === 42n ? 'Other' : undefined),
    })
    expect(said(thrownAppError(() => naming.decode(other)))).toEqual([
      'EVENT_UNKNOWN_FINGERPRINT',
      'Probe v2: the bytes hold a Other, not a com.example.Probe',
      { record: 'com.example.Probe', fingerprint: formatFingerprint(42n), known, owner: 'Other' },
    ])
    expect(codec.writerVersion(other)).toBeUndefined()
    expect(codec.writerVersion(codec.encode(value, { version: 1 }))).toBe(1)
  })

  it('says which writer a broken body came from, and how long it was', () => {
    const cut = codec.encode(value, { version: 1 }).subarray(0, 14)
    const error = thrownAppError(() => codec.decode(cut))
    expect(error.code).toBe('EVENT_BODY_INVALID')
    expect(error.message).toMatch(/^Probe v2: the body written with v1 does not decode \(.+\)$/)
    expect(error.details).toEqual({ record: 'com.example.Probe', writerVersion: 1, length: 14 })
    expect(error.cause).toBeInstanceOf(Error)
  })
})

describe('registry schemas', () => {
  it('refuses an unknown id, another record, and a schema it cannot read', () => {
    const registry = createEventCodec<Record<string, unknown>>({ reader: v2, writers: [v1] })
    const framed = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 9]),
      registry.encode(value).subarray(10),
    ])
    expect(said(thrownAppError(() => registry.decode(framed)))).toEqual([
      'EVENT_SCHEMA_ID_UNKNOWN',
      'Probe v2: registry schema id 9 is not known to this reader; set SCHEMA_REGISTRY_URL to the registry that wrote it',
      { record: 'com.example.Probe', id: 9 },
    ])
    const other: AvroSchema = { ...probe(), name: 'Other' }
    expect(said(thrownAppError(() => registry.addRegistrySchema(9, other)))).toEqual([
      'EVENT_SCHEMA_INVALID',
      'Registry schema 9 is a com.example.Other, not a com.example.Probe',
      { record: 'com.example.Probe', id: 9 },
    ])
    const unreadable = probe([{ name: 'size', type: 'string' }])
    const error = thrownAppError(() => registry.addRegistrySchema(9, unreadable))
    expect(error.message).toMatch(/^Probe v2 cannot read data written with registry schema 9: \S/)
    expect(error.details).toEqual({ record: 'com.example.Probe', id: 9 })
    expect(error.cause).toBeInstanceOf(Error)
    expect(registry.knowsRegistryId(9)).toBe(false)
  })

  it('reads bytes of a registry schema that is no shipped version, and says so when they break', () => {
    const registry = createEventCodec<Record<string, unknown>>({ reader: v2, writers: [v1] })
    const newer = probe([
      { name: 'size', type: 'int', default: 0 },
      { name: 'extra', type: { type: 'array', items: 'string' }, default: [] },
    ])
    registry.addRegistrySchema(11, newer)
    // The same id again changes nothing; a shipped schema's id reads as that version.
    registry.addRegistrySchema(11, v1.schema)
    registry.addRegistrySchema(12, v1.schema)
    const writer = createEventCodec<Record<string, unknown>>({
      reader: { version: 3, schema: newer },
    })
    const body = writer.encode({ ...value, extra: ['p', 'q'] }).subarray(10)
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 11]), body])
    expect(registry.decode(framed)).toEqual(value)
    expect(registry.decodeFields(['id', 'size'])(framed)).toEqual({ id: 7, size: 3 })
    expect(registry.writerVersion(framed)).toBeUndefined()
    const v1Framed = Buffer.concat([
      Buffer.from([0, 0, 0, 0, 12]),
      registry.encode(value, { version: 1 }).subarray(10),
    ])
    expect(registry.writerVersion(v1Framed)).toBe(1)
    const error = thrownAppError(() => registry.decode(framed.subarray(0, 9)))
    expect(error.message).toMatch(
      /^Probe v2: the body written with a registry schema does not decode/,
    )
    expect(error.details).toEqual({
      record: 'com.example.Probe',
      writerVersion: undefined,
      length: 9,
    })
  })
})

describe('decodeFields and Avro JSON', () => {
  it('refuses fields the record does not have, naming them all', () => {
    expect(said(thrownAppError(() => codec.decodeFields(['id', 'nope', 'zzz'] as never)))).toEqual([
      'EVENT_SCHEMA_INVALID',
      'Probe v2 has no field nope, zzz',
      { record: 'com.example.Probe', fields: ['nope', 'zzz'] },
    ])
  })

  it('skips the fields it was not asked for, maps and arrays included, from every writer', () => {
    const read = codec.decodeFields(['size', 'kind'])
    expect(read(codec.encode({ ...value, tags: { a: 'x', b: 'y' } }))).toEqual({
      size: 3,
      kind: 'A',
    })
    expect(read(codec.encode(value, { version: 1 }))).toEqual({ size: 0, kind: 'A' })
  })

  it('says when Avro JSON does not fit, with the record and version', () => {
    const error = thrownAppError(() => codec.fromAvroJson('{"id": "x"}'))
    expect(error.code).toBe('EVENT_SCHEMA_MISMATCH')
    expect(error.message).toMatch(/^Probe v2: the Avro JSON does not fit the schema \(.+\)$/)
    expect(error.details).toEqual({ record: 'com.example.Probe', version: 2 })
    expect(thrownAppError(() => codec.toAvroJson({ ...value, id: 'x' })).message).toBe(
      'Probe v2 does not fit its schema: id: expected long, got a string',
    )
  })
})
