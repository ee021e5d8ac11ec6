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
   * of `value` that the version written lacks are left out. Strings are UTF-8, so a lone UTF-16
   * surrogate is written as U+FFFD; a long or a time must be within ±(2^52 - 1) (ms for a time).
   * @throws AppError `EVENT_SCHEMA_MISMATCH` naming each field path that does not fit the schema
   * written (a symbol an older version lacks included); `EVENT_SCHEMA_INVALID` when the version
   * asked for is not one of `writers`.
   */
  encode(value: T, options?: EncodeOptions): Buffer
  /**
   * Decodes bytes written with any known version, resolved to this codec's version (fields the
   * writer lacks take their defaults; enum symbols the reader lacks become the enum's default).
   * Bounded by the bytes' length whatever counts they hold; an int beyond 32 bits, a long or a
   * time beyond ±(2^52 - 1) is a body that does not decode.
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

/**
 * The largest magnitude of a long (and of a `timestamp-millis`, 142,000 years around 1970) this
 * codec writes and reads. avsc computes the zig-zag form of a negative long, 2|n| - 1, in doubles,
 * which are inexact past 2^53: -(2^52 + 1) was written and read back as +2^52. Beyond it, encoding
 * throws EVENT_SCHEMA_MISMATCH and decoding EVENT_BODY_INVALID (where every such misread lands).
 */
const MAX_EXACT_LONG = 2 ** 52 - 1
const isExactLong = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= MAX_EXACT_LONG

/** `timestamp-millis` as a JavaScript `Date` (UTC instant; milliseconds since the epoch). */
class TimestampMillisType extends avsc.types.LogicalType {
  protected override _fromValue(value: number | Date): Date {
    // A Date when resolving from another version's timestamp-millis. Refused (EVENT_BODY_INVALID
    // when decoding) rather than read as an Invalid Date or as a long avsc may have misread.
    const ms = value instanceof Date ? value.getTime() : value
    if (!isExactLong(ms)) throw new Error(`${String(value)} is not a time this codec reads exactly`)
    return new Date(ms)
  }

  protected override _toValue(value: unknown): number | undefined {
    // undefined (not NaN) for an invalid Date, so that the error names the logical type.
    const ms = value instanceof Date ? value.getTime() : Number.NaN
    return isExactLong(ms) ? ms : undefined
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
      typeHook: guardedTypes,
    })
  } catch (error) {
    throw new AppError('EVENT_SCHEMA_INVALID', `Invalid Avro schema: ${(error as Error).message}`, {
      cause: error,
    })
  }
}

// Guarded avsc types (avsc is pinned to the exact version these were written against, 5.7.9, in
// packages/events/package.json: an upgrade must re-check them). avsc trusts the bytes it reads and
// the values it writes more than a decoder of a shared topic can: each class below changes one internal method of an avsc type (avsc calls
// them by name, and copies `_read` to the resolvers it builds), and `guardedTypes`, avsc's
// `typeHook`, puts them in every schema this codec parses. Each fixes a defect its fuzz test found.

/** The part of avsc's internal reader and writer (`Tap`) these methods use. */
interface Tap {
  buf: Buffer
  pos: number
  readLong(): number
  skipLong(): void
  readString(): string
  skipString(): void
  writeLong(n: number): void
  writeString(s: string): void
}

/** An avsc type's (or resolver's) internal methods. */
interface Internals {
  _read(tap: Tap): unknown
  _skip(tap: Tap): void
  _write(tap: Tap, value: unknown): void
  _copy(value: unknown, opts: unknown): unknown
}
type CheckHook = (value: unknown, type: avsc.Type) => void

const avscMap = avsc.types.MapType.prototype as unknown as Internals
const avscString = avsc.types.StringType.prototype as unknown as Internals

const pastEnd = (tap: Tap): boolean => tap.pos > tap.buf.length
const invalidate = (tap: Tap): void => {
  tap.pos = tap.buf.length + 1
}

/** A block's item count; a negative count is followed by the block's size in bytes (skipped). */
function blockCount(tap: Tap): number {
  const n = tap.readLong()
  if (n >= 0) return n
  tap.skipLong()
  return -n
}

/**
 * Reads the items of an array's or map's blocks. avsc itself loops as many times as a block count
 * says, past the end of the buffer if need be (it looks at the end only after the whole value), so
 * 20 forged bytes with a count of 2^50 held a decoder for days. This loop stops once the position
 * passes the end (the bytes are then refused as truncated, as before) and never preallocates a
 * forged count; items that take no bytes (null, an empty record) cannot be bounded by the end, so
 * a block of more of them than the buffer has bytes is refused.
 */
function readBlocks(tap: Tap, readItem: () => void): void {
  for (let n = blockCount(tap); n !== 0 && !pastEnd(tap); n = blockCount(tap)) {
    for (; n > 0 && !pastEnd(tap); n--) {
      const before = tap.pos
      readItem()
      if (tap.pos === before && n > tap.buf.length) {
        throw new Error(`a block of ${n} items that take no bytes`)
      }
    }
  }
}

/** Skips an array's or map's blocks, bounded as {@link readBlocks}; a negative size ends them. */
function skipBlocks(tap: Tap, skipItem: () => void): void {
  for (let n = tap.readLong(); n !== 0 && !pastEnd(tap); n = tap.readLong()) {
    if (n < 0) {
      const size = tap.readLong()
      // A negative size moved back, to read the same block forever.
      if (size < 0) invalidate(tap)
      else tap.pos += size
      continue
    }
    for (; n > 0 && !pastEnd(tap); n--) {
      const before = tap.pos
      skipItem()
      if (tap.pos === before && n > tap.buf.length) invalidate(tap)
    }
  }
}

/**
 * A string with every lone UTF-16 surrogate (which UTF-8 cannot hold) replaced by U+FFFD. avsc
 * wrote one as the bytes ED A0 80 and the like (not UTF-8) in strings of up to 64 bytes, which read
 * back as three U+FFFD here and fail strict UTF-8 readers; longer strings already got one U+FFFD.
 */
function wellFormedText(text: string): string {
  const es2024 = text as unknown as { isWellFormed(): boolean; toWellFormed(): string }
  return es2024.isWellFormed() ? text : es2024.toWellFormed()
}

/** A map entry defined, not assigned, so that a key "__proto__" stays a key (avsc dropped it). */
function setEntry(map: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true })
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Maps: bounded reads and skips, "__proto__" kept as a key, keys written well-formed. */
class GuardedMapType extends avsc.types.MapType {}
Object.assign(GuardedMapType.prototype, {
  _read(this: { valuesType: Internals }, tap: Tap): Record<string, unknown> {
    const map: Record<string, unknown> = {}
    readBlocks(tap, () => {
      const key = tap.readString()
      setEntry(map, key, this.valuesType._read(tap))
    })
    return map
  },
  _skip(this: { valuesType: Internals }, tap: Tap): void {
    skipBlocks(tap, () => {
      tap.skipString()
      this.valuesType._skip(tap)
    })
  },
  _write(this: { valuesType: Internals }, tap: Tap, value: unknown): void {
    // Anything but a map: avsc's own write throws its "invalid map" error.
    if (!isMap(value)) return avscMap._write.call(this, tap, value)
    const keys = Object.keys(value)
    if (keys.length > 0) {
      tap.writeLong(keys.length)
      for (const key of keys) {
        tap.writeString(wellFormedText(key))
        this.valuesType._write(tap, value[key])
      }
    }
    tap.writeLong(0)
  },
  // Avro JSON in and out (fromAvroJson, toAvroJson).
  _copy(this: { valuesType: Internals }, value: unknown, opts: unknown): unknown {
    if (!isMap(value)) return avscMap._copy.call(this, value, opts)
    const copy: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      setEntry(copy, key, this.valuesType._copy(item, opts))
    }
    return copy
  },
})

/** Arrays: bounded reads and skips. */
class GuardedArrayType extends avsc.types.ArrayType {}
Object.assign(GuardedArrayType.prototype, {
  _read(this: { itemsType: Internals }, tap: Tap): unknown[] {
    const items: unknown[] = []
    readBlocks(tap, () => items.push(this.itemsType._read(tap)))
    return items
  },
  _skip(this: { itemsType: Internals }, tap: Tap): void {
    skipBlocks(tap, () => this.itemsType._skip(tap))
  },
})

/** Strings: written well-formed ({@link wellFormedText}). */
class WellFormedStringType extends avsc.types.StringType {}
Object.assign(WellFormedStringType.prototype, {
  _write(this: unknown, tap: Tap, value: unknown): void {
    avscString._write.call(this, tap, typeof value === 'string' ? wellFormedText(value) : value)
  },
})

/** Longs: only {@link isExactLong} values, read or written. */
class ExactLongType extends avsc.types.LongType {}
Object.assign(ExactLongType.prototype, {
  _read(tap: Tap): number {
    const n = tap.readLong()
    if (Math.abs(n) > MAX_EXACT_LONG) throw new Error(`the long ${n} is beyond ±(2^52 - 1)`)
    return n
  },
  _check(this: avsc.Type, value: unknown, _flags: unknown, hook?: CheckHook): boolean {
    const exact = isExactLong(value)
    if (!exact && hook !== undefined) hook(value, this)
    return exact
  },
  _write(tap: Tap, value: unknown): void {
    if (!isExactLong(value)) throw new Error(`invalid "long": ${String(value)}`)
    tap.writeLong(value)
  },
})

/** Ints: a varint beyond 32 bits is refused (avsc read it as a long). */
class ExactIntType extends avsc.types.IntType {}
Object.assign(ExactIntType.prototype, {
  _read(tap: Tap): number {
    const n = tap.readLong()
    if (n !== (n | 0)) throw new Error(`the int ${n} is beyond 32 bits`)
    return n
  },
})

/** avsc's `typeHook`: the types above for each string, int, long (not a logical's), map, array. */
function guardedTypes(schema: avsc.Schema, opts: avsc.ForSchemaOptions): avsc.Type | undefined {
  const { type, logicalType } =
    typeof schema === 'string'
      ? { type: schema, logicalType: undefined }
      : isMap(schema)
        ? (schema as { type?: unknown; logicalType?: unknown })
        : {}
  if (logicalType !== undefined) return undefined
  switch (type) {
    case 'string':
      return new WellFormedStringType()
    case 'int':
      return new ExactIntType()
    case 'long':
      return new ExactLongType()
    case 'map':
      return new GuardedMapType(schema, opts)
    case 'array':
      return new GuardedArrayType(schema, opts)
    default:
      return undefined
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
