import { AppError } from '@wolkvox-chat-stream/errors'

/** The CRC-64-AVRO (Rabin) initial value, `EMPTY` in the Avro specification. */
const EMPTY = 0xc15d213aa4d7a795n
const MASK_64 = 0xffffffffffffffffn

const TABLE: readonly bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i)
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK_64)
  return fp
})

/**
 * The CRC-64-AVRO (Rabin) fingerprint of `bytes`, as the Avro specification defines it, as an
 * unsigned 64-bit value. Schemas are fingerprinted once at start, so plain `bigint` arithmetic is
 * fast enough.
 */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY
  for (const byte of bytes) {
    fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(byte)) & 0xffn)] as bigint)
  }
  return fp
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'])
const NAMED = new Set(['record', 'error', 'enum', 'fixed'])

/**
 * The Parsing Canonical Form of an Avro schema (a parsed `.avsc` JSON value), per the Avro
 * specification: primitives as bare names, full names everywhere (no `namespace`), only the
 * attributes `name, type, fields, symbols, items, values, size` in that order, no whitespace, and a
 * named type written out only where it is first defined. Everything else (`doc`, `aliases`,
 * `default`, `order`, `logicalType`, custom attributes) is stripped, so a documentation change
 * never changes a fingerprint, and neither does a logical type.
 *
 * @throws AppError `EVENT_SCHEMA_INVALID` when the value is not a schema this function understands.
 */
export function parsingCanonicalForm(schema: unknown): string {
  const defined = new Set<string>()

  const fullName = (name: string, namespace: string | undefined): string =>
    name.includes('.') || !namespace ? name : `${namespace}.${name}`

  const invalid = (why: string): never => {
    throw new AppError('EVENT_SCHEMA_INVALID', `Not an Avro schema: ${why}`)
  }

  const canonical = (node: unknown, namespace: string | undefined): string => {
    if (typeof node === 'string') {
      if (PRIMITIVES.has(node)) return JSON.stringify(node)
      const name = fullName(node, namespace)
      if (!defined.has(name)) invalid(`reference to undefined type ${name}`)
      return JSON.stringify(name)
    }
    if (Array.isArray(node))
      return `[${node.map((branch) => canonical(branch, namespace)).join(',')}]`
    if (node === null || typeof node !== 'object')
      return invalid(`unexpected ${JSON.stringify(node)}`)
    const object = node as Record<string, unknown>
    const type = object.type
    if (typeof type !== 'string' && (typeof type !== 'object' || type === null)) {
      return invalid('a type without "type"')
    }
    if (typeof type !== 'string' || (!NAMED.has(type) && type !== 'array' && type !== 'map')) {
      // {"type": "int", ...} and {"type": {...}} reduce to the type they wrap.
      return canonical(type, namespace)
    }
    if (type === 'array') return `{"type":"array","items":${canonical(object.items, namespace)}}`
    if (type === 'map') return `{"type":"map","values":${canonical(object.values, namespace)}}`

    if (typeof object.name !== 'string') return invalid(`a ${type} without a name`)
    // An explicit empty namespace means the null namespace, not the enclosing one.
    const ownNamespace =
      typeof object.namespace === 'string' ? object.namespace || undefined : namespace
    const name = fullName(object.name, ownNamespace)
    if (defined.has(name)) invalid(`${name} is defined twice`)
    defined.add(name)
    // Names inside a named type resolve against the namespace of its full name.
    const inner = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined
    const head = `{"name":${JSON.stringify(name)},"type":${JSON.stringify(type)}`
    if (type === 'enum') {
      if (!Array.isArray(object.symbols)) return invalid(`enum ${name} without symbols`)
      return `${head},"symbols":${JSON.stringify(object.symbols)}}`
    }
    if (type === 'fixed') {
      if (!Number.isInteger(object.size)) return invalid(`fixed ${name} without a size`)
      return `${head},"size":${String(object.size)}}`
    }
    if (!Array.isArray(object.fields)) return invalid(`record ${name} without fields`)
    const fields = object.fields.map((field: unknown) => {
      const f = field as Record<string, unknown> | null
      if (f === null || typeof f !== 'object' || typeof f.name !== 'string') {
        return invalid(`a field of ${name} without a name`)
      }
      return `{"name":${JSON.stringify(f.name)},"type":${canonical(f.type, inner)}}`
    })
    return `${head},"fields":[${fields.join(',')}]}`
  }

  return canonical(schema, undefined)
}

/**
 * The 64-bit Rabin fingerprint of a schema's Parsing Canonical Form, as a signed value: exactly
 * what Java's `SchemaNormalization.parsingFingerprint64` returns and what the Avro test vectors
 * list. The single-object encoding carries it as 8 little-endian bytes.
 *
 * @throws AppError `EVENT_SCHEMA_INVALID` (see {@link parsingCanonicalForm}).
 */
export function parsingFingerprint64(schema: unknown): bigint {
  const form = parsingCanonicalForm(schema)
  return BigInt.asIntN(64, crc64Avro(Buffer.from(form, 'utf8')))
}

/** A fingerprint as 16 lower-case hex digits of its unsigned value (for logs and errors). */
export function formatFingerprint(fingerprint: bigint): string {
  return BigInt.asUintN(64, fingerprint).toString(16).padStart(16, '0')
}

/** The 8 little-endian bytes of a fingerprint, as the single-object header carries them. */
export function fingerprintBytes(fingerprint: bigint): Buffer {
  const bytes = Buffer.alloc(8)
  bytes.writeBigInt64LE(BigInt.asIntN(64, fingerprint))
  return bytes
}
