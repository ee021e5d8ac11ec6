import avsc from 'avsc'
import { AppError } from '@wolkvox-chat-stream/errors'
import {
  fingerprintBytes,
  formatFingerprint,
  parsingCanonicalForm,
  parsingFingerprint64,
} from './fingerprint.js'

/** A parsed `.avsc` schema: plain JSON. */
export type AvroSchema = Readonly<Record<string, unknown>>

/** One version of a record's schema. */
export interface SchemaVersion {
  /** The `N` of `<record>.v<N>.avsc`. */
  readonly version: number
  readonly schema: AvroSchema
}

/** Options of one {@link EventCodec.encode} call. */
export interface EncodeOptions {
  /**
   * The version to write, one of the codec's `writers`; default the codec's `writeVersion`. An
   * older version drops the fields it lacks (ChatMessage v1 has no `revision`): for subscribers
   * that do not ship the newer version yet.
   */
  version?: number
  /**
   * Write the Confluent wire format instead of the single-object encoding: `00`, this schema id
   * (4 bytes, big-endian), then the same Avro body. The id must be the registry's id of the
   * version written (see `packages/schema-registry`).
   */
  registryId?: number
}

/**
 * Encodes and decodes one record type in the Avro single-object encoding: `C3 01`, the 8-byte
 * little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form, then the
 * Avro binary body.
 */
export interface EventCodec<T> {
  /** The record's full name, `com.wolkvoxchatstream.ChatMessage`. */
  readonly name: string
  /** The version `decode` resolves every writer to: the shape of `T`. */
  readonly version: number
  /** The version `encode` writes unless told otherwise (the reader version by default). */
  readonly writeVersion: number
  /** Fingerprint of `writeVersion` (signed, as Java's `parsingFingerprint64`). */
  readonly fingerprint: bigint
  /** Parsing Canonical Form of `writeVersion`. */
  readonly canonicalForm: string
  /** The versions `decode` accepts (and `encode` can write), by fingerprint. */
  readonly writers: ReadonlyMap<bigint, number>
  /** The schema of each version `encode` can write (what a registry is given for it). */
  readonly schemas: ReadonlyMap<number, AvroSchema>
  /**
   * The single-object encoding of `value` in `options.version`, else in `writeVersion`. Fields
   * of `value` that the version written lacks are left out.
   * @throws AppError `EVENT_SCHEMA_MISMATCH` naming each field path that does not fit the schema
   * written (a symbol an older version lacks included); `EVENT_SCHEMA_INVALID` when the version
   * asked for is not one of `writers`.
   */
  encode(value: T, options?: EncodeOptions): Buffer
  /**
   * Decodes bytes written with any known version, resolved to this codec's version (fields the
   * writer lacks take their defaults; enum symbols the reader lacks become the enum's default).
   * @throws AppError `EVENT_NOT_SINGLE_OBJECT`, `EVENT_UNKNOWN_FINGERPRINT` or `EVENT_BODY_INVALID`.
   */
  decode(bytes: Uint8Array): T
  /**
   * A decoder of only `fields` (of this codec's version), for a consumer that needs a few of them
   * (a field an older writer lacks takes its default, as in `decode`):
   * the others are skipped, never turned into strings, dates or maps, which makes decoding several
   * times cheaper. The bytes are checked as by `decode` (marker, fingerprint, a body that ends
   * exactly), with the same errors. Build it once and keep it: it compiles a reader per writer.
   * @throws AppError `EVENT_SCHEMA_INVALID` when a field is not in the schema.
   */
  decodeFields<K extends keyof T & string>(fields: readonly K[]): (bytes: Uint8Array) => Pick<T, K>
  /**
   * The writer version of the bytes, without decoding the body; `undefined` when unknown (or a
   * registry schema that is not a shipped version).
   */
  writerVersion(bytes: Uint8Array): number | undefined
  /**
   * Teaches the codec what registry schema id `id` is, so that `decode` reads the Confluent wire
   * format with that id: a shipped version (same Parsing Canonical Form), or another writer schema
   * of this record (a newer version written by someone else) resolved to the reader version.
   * Idempotent.
   * @throws AppError `EVENT_SCHEMA_INVALID` when the schema is not this record or cannot be read as
   * the reader version.
   */
  addRegistrySchema(id: number, schema: AvroSchema): void
  /** Whether {@link EventCodec.addRegistrySchema} was told about `id`. */
  knowsRegistryId(id: number): boolean
  /** `value` in Avro's JSON encoding (unions wrapped as `{"string": …}`, timestamps as numbers). */
  toAvroJson(value: T): string
  /**
   * Parses Avro's JSON encoding of this codec's version.
   * @throws AppError `EVENT_SCHEMA_MISMATCH` when the JSON does not fit the schema.
   */
  fromAvroJson(text: string): T
}

/** Options for {@link createEventCodec}. */
export interface EventCodecOptions {
  /** The version to read into (and to write, unless `writeVersion` says otherwise). */
  reader: SchemaVersion
  /** Every version that may have written the bytes; the reader is added when absent. */
  writers?: readonly SchemaVersion[]
  /** The version `encode` writes by default, one of `writers`; default the reader's. */
  writeVersion?: number
  /** Names the owner of a fingerprint this codec does not accept, for a clearer error. */
  identify?: (fingerprint: bigint) => string | undefined
}

const MAGIC_0 = 0xc3
const MAGIC_1 = 0x01
const HEADER_BYTES = 10
/** The Confluent wire format: `00` and a 4-byte big-endian schema id. */
const REGISTRY_MAGIC = 0x00
const REGISTRY_HEADER_BYTES = 5

/** The schema id of Confluent wire format bytes, or undefined for anything else. */
export function registrySchemaId(bytes: Uint8Array): number | undefined {
  if (bytes.length < REGISTRY_HEADER_BYTES || bytes[0] !== REGISTRY_MAGIC) return undefined
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(1)
}

const registryHeaderOf = (id: number): Buffer => {
  if (!Number.isSafeInteger(id) || id < 0 || id > 0xffffffff) {
    throw new AppError('EVENT_SCHEMA_INVALID', `${id} is not a schema registry id`)
  }
  const header = Buffer.alloc(REGISTRY_HEADER_BYTES)
  header.writeUInt32BE(id, 1)
  return header
}
/** The largest encoding buffer a codec keeps for the next value. */
const MAX_SCRATCH_BYTES = 1024 * 1024

/** `timestamp-millis` as a JavaScript `Date` (UTC instant; milliseconds since the epoch). */
class TimestampMillisType extends avsc.types.LogicalType {
  protected override _fromValue(value: number): Date {
    return new Date(value)
  }

  protected override _toValue(value: unknown): number | undefined {
    // undefined (not NaN) for an invalid Date, so that the error names the logical type.
    const ms = value instanceof Date ? value.getTime() : Number.NaN
    return Number.isNaN(ms) ? undefined : ms
  }

  protected override _resolve(type: avsc.Type): ((value: number) => Date) | undefined {
    if (avsc.Type.isType(type, 'long', 'int', 'logical:timestamp-millis')) {
      return (value: number) => this._fromValue(value)
    }
    return undefined
  }
}

/**
 * Parses one schema with the project's settings: `timestamp-millis` as `Date`, unions of `null`
 * and one type unwrapped (`string | null`), a fresh name registry per schema so that two versions
 * of one record never clash.
 *
 * @throws AppError `EVENT_SCHEMA_INVALID` when avsc refuses the schema.
 */
export function parseSchema(schema: AvroSchema): avsc.Type {
  try {
    return avsc.Type.forSchema(schema as avsc.Schema, {
      logicalTypes: { 'timestamp-millis': TimestampMillisType },
      wrapUnions: 'auto',
    })
  } catch (error) {
    throw new AppError('EVENT_SCHEMA_INVALID', `Invalid Avro schema: ${(error as Error).message}`, {
      cause: error,
    })
  }
}

interface Writer {
  /** The shipped version; undefined for a registry schema that is none of them. */
  version: number | undefined
  type: avsc.Type
  resolver: avsc.Resolver | undefined
  /** `C3 01` and the version's fingerprint: the first bytes of what it writes. */
  header: Buffer
  canonicalForm: string
  fingerprint: bigint
}

const headerOf = (fingerprint: bigint): Buffer =>
  Buffer.concat([Buffer.from([MAGIC_0, MAGIC_1]), fingerprintBytes(fingerprint)])

/**
 * Builds the codec of one record from its versions. Every writer is resolved against the reader
 * here, at start, so an incompatible version fails the service before it reads anything.
 *
 * @throws AppError `EVENT_SCHEMA_INVALID` when a schema is invalid, two versions share a canonical
 * form, a writer version cannot be read as the reader version, or `writeVersion` is not a writer.
 */
export function createEventCodec<T>(options: EventCodecOptions): EventCodec<T> {
  const readerType = parseSchema(options.reader.schema)
  const name = readerType.name ?? readerType.typeName
  const label = `${name.slice(name.lastIndexOf('.') + 1)} v${options.reader.version}`

  const versions = [...(options.writers ?? [])]
  if (!versions.some((w) => w.version === options.reader.version)) versions.push(options.reader)
  const byFingerprint = new Map<bigint, Writer>()
  const forms = new Map<string, number>()
  for (const writer of versions) {
    const form = parsingCanonicalForm(writer.schema)
    const twin = forms.get(form)
    if (twin !== undefined) {
      throw new AppError(
        'EVENT_SCHEMA_INVALID',
        `${name} v${twin} and v${writer.version} have the same canonical form; a new version must change the schema`,
      )
    }
    forms.set(form, writer.version)
    const type = writer.version === options.reader.version ? readerType : parseSchema(writer.schema)
    let resolver: avsc.Resolver | undefined
    if (type !== readerType) {
      try {
        resolver = readerType.createResolver(type)
      } catch (error) {
        throw new AppError(
          'EVENT_SCHEMA_INVALID',
          `${label} cannot read data written with v${writer.version}: ${(error as Error).message}`,
          { cause: error },
        )
      }
    }
    const fingerprint = parsingFingerprint64(writer.schema)
    byFingerprint.set(fingerprint, {
      version: writer.version,
      type,
      resolver,
      header: headerOf(fingerprint),
      canonicalForm: form,
      fingerprint,
    })
  }
  const byVersion = new Map([...byFingerprint.values()].map((w) => [w.version!, w]))
  const notWritable = (version: number): AppError =>
    new AppError(
      'EVENT_SCHEMA_INVALID',
      `${name} has no version ${version} to write (known: ${[...byVersion.keys()].sort((a, b) => a - b).join(', ')})`,
      { details: { record: name, version } },
    )
  const writeVersion = options.writeVersion ?? options.reader.version
  const defaultWriter = byVersion.get(writeVersion)
  if (defaultWriter === undefined) throw notWritable(writeVersion)

  const mismatch = (
    value: unknown,
    why: string,
    cause?: unknown,
    writer: { version: number; type: avsc.Type } = {
      version: options.reader.version,
      type: readerType,
    },
  ): AppError => {
    const problems: string[] = []
    writer.type.isValid(value, {
      errorHook: (path, bad, type) => {
        problems.push(
          `${path.length === 0 ? '(record)' : path.join('.')}: expected ${describeType(type)}, got ${describeValue(bad)}`,
        )
      },
    })
    const list = problems.length > 0 ? problems : [why]
    const which = `${name.slice(name.lastIndexOf('.') + 1)} v${writer.version}`
    return new AppError('EVENT_SCHEMA_MISMATCH', `${which} ${why}: ${list.join('; ')}`, {
      cause,
      details: { record: name, version: writer.version, fields: problems },
    })
  }

  /** Writers of registry schema ids, learnt with addRegistrySchema. */
  const byId = new Map<number, Writer>()

  const writerOf = (bytes: Uint8Array): Writer => {
    const id = registrySchemaId(bytes)
    if (id !== undefined) {
      const writer = byId.get(id)
      if (writer === undefined) {
        throw new AppError(
          'EVENT_SCHEMA_ID_UNKNOWN',
          `${label}: registry schema id ${id} is not known to this reader; set SCHEMA_REGISTRY_URL to the registry that wrote it`,
          { details: { record: name, id } },
        )
      }
      return writer
    }
    if (bytes.length < HEADER_BYTES || bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) {
      throw new AppError(
        'EVENT_NOT_SINGLE_OBJECT',
        `${label}: ${bytes.length} bytes that start with neither the single-object marker C3 01 and an 8-byte fingerprint nor the registry marker 00 and a 4-byte schema id`,
        { details: { record: name, length: bytes.length } },
      )
    }
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const writerFingerprint = view.readBigInt64LE(2)
    const writer = byFingerprint.get(writerFingerprint)
    if (writer === undefined) {
      const hex = formatFingerprint(writerFingerprint)
      const owner = options.identify?.(writerFingerprint)
      throw new AppError(
        'EVENT_UNKNOWN_FINGERPRINT',
        owner === undefined
          ? `${label}: writer schema fingerprint ${hex} is not a known version of ${name}; upgrade this reader`
          : `${label}: the bytes hold a ${owner}, not a ${name}`,
        {
          details: {
            record: name,
            fingerprint: hex,
            known: [...byFingerprint.keys()].map(formatFingerprint),
            ...(owner === undefined ? {} : { owner }),
          },
        },
      )
    }
    return writer
  }

  let scratch = Buffer.allocUnsafe(16 * 1024)
  const bodyOf = (bytes: Uint8Array): Buffer => {
    const start = bytes[0] === REGISTRY_MAGIC ? REGISTRY_HEADER_BYTES : HEADER_BYTES
    return Buffer.from(bytes.buffer, bytes.byteOffset + start, bytes.length - start)
  }
  const writerLabel = (writer: Writer): string =>
    writer.version === undefined ? 'a registry schema' : `v${writer.version}`
  const bodyInvalid = (writer: Writer, bytes: Uint8Array, error: unknown): AppError =>
    new AppError(
      'EVENT_BODY_INVALID',
      `${label}: the body written with ${writerLabel(writer)} does not decode (${(error as Error).message})`,
      {
        cause: error,
        details: { record: name, writerVersion: writer.version, length: bytes.length },
      },
    )

  return {
    name,
    version: options.reader.version,
    writeVersion,
    fingerprint: defaultWriter.fingerprint,
    canonicalForm: defaultWriter.canonicalForm,
    writers: new Map([...byFingerprint].map(([fp, w]) => [fp, w.version!])),
    schemas: new Map(versions.map((v) => [v.version, v.schema])),
    encode(value, encodeOptions) {
      const version = encodeOptions?.version
      const writer = version === undefined ? defaultWriter : byVersion.get(version)
      if (writer === undefined) throw notWritable(version as number)
      const registryId = encodeOptions?.registryId
      const header = registryId === undefined ? writer.header : registryHeaderOf(registryId)
      // Written once, after the header, into a reused buffer, then copied out: one copy where
      // toBuffer and a concat made two (and re-encoded values over 1 KiB).
      let target = scratch
      header.copy(target)
      try {
        for (;;) {
          const end = writer.type.encode(value, target, header.length)
          if (end >= 0) return Buffer.from(target.subarray(0, end))
          // A negative end is the bytes missing: grow (a rare large value is not kept).
          const size = 2 * (target.length - end)
          target = Buffer.allocUnsafe(size)
          header.copy(target)
          if (size <= MAX_SCRATCH_BYTES) scratch = target
        }
      } catch (error) {
        throw mismatch(value, 'does not fit its schema', error, {
          version: writer.version!,
          type: writer.type,
        })
      }
    },
    decode(bytes) {
      const writer = writerOf(bytes)
      try {
        return readerType.fromBuffer(bodyOf(bytes), writer.resolver) as T
      } catch (error) {
        throw bodyInvalid(writer, bytes, error)
      }
    },
    decodeFields<K extends keyof T & string>(fields: readonly K[]) {
      const schemaFields = (options.reader.schema.fields ?? []) as { name: string }[]
      const missing = fields.filter((f) => !schemaFields.some((field) => field.name === f))
      if (missing.length > 0) {
        throw new AppError('EVENT_SCHEMA_INVALID', `${label} has no field ${missing.join(', ')}`, {
          details: { record: name, fields: missing },
        })
      }
      const wanted = new Set<string>(fields)
      const projection = parseSchema({
        ...options.reader.schema,
        fields: schemaFields.filter((field) => wanted.has(field.name)),
      })
      // Writer fields the projection lacks are skipped by the resolver: one per writer version.
      const resolvers = new Map<Writer, avsc.Resolver>()
      for (const writer of byFingerprint.values()) {
        resolvers.set(writer, projection.createResolver(writer.type))
      }
      return (bytes: Uint8Array): Pick<T, K> => {
        const writer = writerOf(bytes)
        let resolver = resolvers.get(writer)
        if (resolver === undefined) {
          // A registry schema learnt after this decoder was built.
          resolver = projection.createResolver(writer.type)
          resolvers.set(writer, resolver)
        }
        try {
          return projection.fromBuffer(bodyOf(bytes), resolver) as Pick<T, K>
        } catch (error) {
          throw bodyInvalid(writer, bytes, error)
        }
      }
    },
    writerVersion(bytes) {
      try {
        return writerOf(bytes).version
      } catch {
        return undefined
      }
    },
    addRegistrySchema(id, schema) {
      if (byId.has(id)) return
      const form = parsingCanonicalForm(schema)
      const shipped = [...byFingerprint.values()].find((w) => w.canonicalForm === form)
      if (shipped !== undefined) {
        byId.set(id, shipped)
        return
      }
      const type = parseSchema(schema)
      if ((type.name ?? type.typeName) !== name) {
        throw new AppError(
          'EVENT_SCHEMA_INVALID',
          `Registry schema ${id} is a ${type.name ?? type.typeName}, not a ${name}`,
          { details: { record: name, id } },
        )
      }
      let resolver: avsc.Resolver
      try {
        resolver = readerType.createResolver(type)
      } catch (error) {
        throw new AppError(
          'EVENT_SCHEMA_INVALID',
          `${label} cannot read data written with registry schema ${id}: ${(error as Error).message}`,
          { cause: error, details: { record: name, id } },
        )
      }
      const fingerprint = parsingFingerprint64(schema)
      byId.set(id, {
        version: undefined,
        type,
        resolver,
        header: headerOf(fingerprint),
        canonicalForm: form,
        fingerprint,
      })
    },
    knowsRegistryId: (id) => byId.has(id),
    toAvroJson(value) {
      try {
        return readerType.toString(value)
      } catch (error) {
        throw mismatch(value, 'does not fit its schema', error)
      }
    },
    fromAvroJson(text) {
      try {
        return readerType.fromString(text) as T
      } catch (error) {
        throw new AppError(
          'EVENT_SCHEMA_MISMATCH',
          `${label}: the Avro JSON does not fit the schema (${(error as Error).message})`,
          { cause: error, details: { record: name, version: options.reader.version } },
        )
      }
    },
  }
}

function describeType(type: avsc.Type): string {
  if (avsc.Type.isType(type, 'logical:timestamp-millis')) return 'a valid Date (timestamp-millis)'
  if (avsc.Type.isType(type, 'enum')) {
    return `one of ${(type as avsc.types.EnumType).symbols.join(', ')}`
  }
  if (avsc.Type.isType(type, 'union:unwrapped', 'union:wrapped')) {
    return (type as unknown as { types: avsc.Type[] }).types.map((t) => t.typeName).join(' or ')
  }
  return type.typeName
}

// Never the value itself: it may be personal data, or megabytes long.
function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'an integer' : 'a number'
  return `a ${typeof value}`
}
