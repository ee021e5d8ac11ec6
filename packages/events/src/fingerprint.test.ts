import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseSchema } from './codec.js'
import {
  crc64Avro,
  fingerprintBytes,
  formatFingerprint,
  parsingCanonicalForm,
  parsingFingerprint64,
} from './fingerprint.js'
import { schemaVersions } from './records.js'

interface Vector {
  case: string
  input: string
  canonical: string
  fingerprint?: string
}

const { vectors } = JSON.parse(
  readFileSync(new URL('../test-fixtures/avro-schema-tests.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] }

describe('CRC-64-AVRO and the Parsing Canonical Form', () => {
  it('starts from EMPTY, as the specification defines', () => {
    expect(crc64Avro(new Uint8Array())).toBe(0xc15d213aa4d7a795n)
  })

  it.each(vectors)("matches Avro's published vector $case", (vector) => {
    const schema: unknown = JSON.parse(vector.input)
    expect(parsingCanonicalForm(schema)).toBe(vector.canonical)
    if (vector.fingerprint !== undefined) {
      expect(parsingFingerprint64(schema)).toBe(BigInt(vector.fingerprint))
    }
  })

  it('ignores docs, defaults and logical types, but not names, namespaces or symbols', () => {
    const base = {
      type: 'record',
      name: 'R',
      namespace: 'n',
      fields: [{ name: 'a', type: 'long' }],
    }
    const fp = parsingFingerprint64(base)
    const same = {
      ...base,
      doc: 'documented',
      fields: [
        {
          name: 'a',
          type: { type: 'long', logicalType: 'timestamp-millis' },
          doc: 'x',
          default: 0,
        },
      ],
    }
    expect(parsingFingerprint64(same)).toBe(fp)
    expect(parsingFingerprint64({ ...base, namespace: 'other' })).not.toBe(fp)
    expect(parsingFingerprint64({ ...base, fields: [{ name: 'b', type: 'long' }] })).not.toBe(fp)
  })

  it('writes a named type once and refers to it by full name afterwards', () => {
    const schema = {
      type: 'record',
      name: 'R',
      namespace: 'n',
      fields: [
        { name: 'a', type: { type: 'enum', name: 'E', symbols: ['X'] } },
        { name: 'b', type: 'E' },
        { name: 'c', type: { type: 'record', name: 'o.S', fields: [{ name: 'd', type: 'T' }] } },
      ],
    }
    // `T` inside `o.S` would be `o.T`, which does not exist: an error, never a silent guess.
    expect(() => parsingCanonicalForm(schema)).toThrow(
      expect.objectContaining({ code: 'EVENT_SCHEMA_INVALID' }),
    )
    const fixed = { ...schema, fields: schema.fields.slice(0, 2) }
    expect(parsingCanonicalForm(fixed)).toBe(
      '{"name":"n.R","type":"record","fields":[{"name":"a","type":{"name":"n.E","type":"enum","symbols":["X"]}},{"name":"b","type":"n.E"}]}',
    )
  })

  it('carries the fingerprint as 8 little-endian bytes and prints it as unsigned hex', () => {
    const fp = BigInt('-4824392279771201922')
    expect(formatFingerprint(fp)).toBe(BigInt.asUintN(64, fp).toString(16).padStart(16, '0'))
    expect(fingerprintBytes(fp).readBigInt64LE()).toBe(fp)
    expect(fingerprintBytes(0x0102030405060708n)).toEqual(Buffer.from([8, 7, 6, 5, 4, 3, 2, 1]))
  })

  // avsc has no Rabin fingerprint, but its schema() without attributes happens to print the
  // canonical form of our schemas; this records that (our own implementation stays the reference).
  it.each(Object.entries(schemaVersions))(
    "agrees with avsc's attribute-free schema() for %s",
    (_, versions) => {
      for (const { schema } of versions) {
        expect(JSON.stringify(parseSchema(schema).schema())).toBe(parsingCanonicalForm(schema))
      }
    },
  )
})
