/*
 * schemas/asyncapi.yaml describes every topic the product writes. It must be a valid AsyncAPI 3
 * document for the official parser, and it must say what `@wolkvox-chat-stream/events` declares:
 * every product topic and the dead-letter naming, with their partitions, cleanup policy,
 * retention, key and, for Avro values, the `.avsc` file of every shipped version of the record.
 *
 * The parser needs no Avro schema parser to validate the document: it resolves each payload's
 * `$ref` to its `.avsc` file (an unreadable file is an `invalid-ref` error) and validates the
 * resolved schema against the specification's Avro 1.9 schema. `@asyncapi/avro-schema-parser`
 * (which would also convert the payloads to JSON Schema) is not a dependency, so this file
 * compiles each referenced schema with the codecs' own Avro library instead.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  DiagnosticSeverity,
  Parser,
  type AsyncAPIDocumentInterface,
  type ChannelInterface,
  type Diagnostic,
  type OperationInterface,
} from '@asyncapi/parser'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml, parseDocument } from 'yaml'
import {
  dlqTopic,
  formatFingerprint,
  parseSchema,
  parsingFingerprint64,
  pollerTopics,
  productTopics,
  schemaVersions,
  type AvroSchema,
  type SchemaVersion,
  type TopicSpec,
} from '@wolkvox-chat-stream/events'
import { SERVICE_NAME as qualityGroup } from '@wolkvox-chat-stream/chat-quality'
import { SERVICE_NAME as aggregatorGroup } from '@wolkvox-chat-stream/sentiment-aggregator'
import { SERVICE_NAME as classifierGroup } from '@wolkvox-chat-stream/tramite-classifier'

const root = fileURLToPath(new URL('../../', import.meta.url))
const documentFile = join(root, 'schemas/asyncapi.yaml')
const schemasDir = dirname(documentFile)
const AVRO_FORMAT = 'application/vnd.apache.avro;version=1.9.0'

/** The consumer groups the product runs with the service kit: each has its dead-letter topic. */
const consumerGroups = [aggregatorGroup, classifierGroup, qualityGroup]

/** `wolkvox.{group}.dlq`: the dead-letter naming of any consumer, as an AsyncAPI address. */
const dlqTemplate: TopicSpec = (() => {
  const sample = dlqTopic('group')
  return { ...sample, name: sample.name.replace('group', '{group}') }
})()

/** Every topic the document must describe, by name. */
const expectedTopics = new Map<string, TopicSpec>(
  [...productTopics, ...pollerTopics, ...consumerGroups.map(dlqTopic), dlqTemplate].map((t) => [
    t.name,
    t,
  ]),
)

/** A record's versions as `packages/events` ships them, with their `.avsc` file names. */
interface RecordVersions {
  name: string
  fullName: string
  versions: { version: number; file: string; fingerprint: bigint }[]
}

const fullNameOf = (schema: AvroSchema): string =>
  typeof schema.namespace === 'string' && !String(schema.name).includes('.')
    ? `${schema.namespace}.${String(schema.name)}`
    : String(schema.name)

/** `<record>.v<N>.avsc` (ARCHITECTURE.md, Event encoding): `TramiteClassification` v1 -> `tramite-classification.v1.avsc`. */
const fileOf = (name: string, version: number): string =>
  `${name.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase()}.v${version}.avsc`

/**
 * The record on a topic: the first word of its `value` names it (`ChatMessage (Avro single-object
 * encoding)`); undefined for a topic whose value is not one of the shipped records.
 */
function recordOf(spec: TopicSpec): RecordVersions | undefined {
  const word = spec.value.split(/\s/)[0]
  const versions = Object.values(schemaVersions as Record<string, readonly SchemaVersion[]>).find(
    (list) => list[0]?.schema.name === word,
  )
  if (versions === undefined || versions[0] === undefined) return undefined
  const name = String(versions[0].schema.name)
  return {
    name,
    fullName: fullNameOf(versions[0].schema),
    versions: versions.map((v) => ({
      version: v.version,
      file: fileOf(name, v.version),
      fingerprint: parsingFingerprint64(v.schema),
    })),
  }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Follows local `$ref`s (`#/components/messages/x`) in the document as written. */
function deref(raw: unknown, node: unknown): unknown {
  let current = node
  for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops++) {
    const ref = current.$ref
    if (!ref.startsWith('#/') || hops > 10) return current
    current = ref
      .slice(2)
      .split('/')
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce<unknown>((at, part) => (isObject(at) ? at[part] : undefined), raw)
  }
  return current
}

/** The `$ref` of the payload of message `messageId` of `channel`, as written. */
function payloadRef(raw: unknown, channel: ChannelInterface, messageId: string): unknown {
  const channels = isObject(raw) && isObject(raw.channels) ? raw.channels : {}
  const rawChannel = deref(raw, channels[channel.id()])
  const messages = isObject(rawChannel) && isObject(rawChannel.messages) ? rawChannel.messages : {}
  return payloadSchemaRef(deref(raw, messages[messageId]))
}

/** `payload.schema.$ref` of a message as written. */
function payloadSchemaRef(message: unknown): unknown {
  const payload = isObject(message) ? message.payload : undefined
  const schema = isObject(payload) ? payload.schema : undefined
  return isObject(schema) ? schema.$ref : undefined
}

const readAvsc = (file: string): AvroSchema =>
  JSON.parse(readFileSync(join(schemasDir, file), 'utf8')) as AvroSchema

// The parser's DiagnosticSeverity and its diagnostics' come from two copies of @stoplight/types.
const isError = (d: Diagnostic): boolean =>
  (d.severity as number) === (DiagnosticSeverity.Error as number)

const format = (d: Diagnostic): string => `${d.code}: ${d.message} at ${d.path.join('.')}`

/** Parses the document's text as if it were the file (its `.avsc` references resolve). */
async function parseText(
  text: string,
): Promise<{ document: AsyncAPIDocumentInterface | undefined; errors: string[] }> {
  const { document, diagnostics } = await new Parser().parse(text, { source: documentFile })
  return { document, errors: diagnostics.filter(isError).map(format) }
}

/** How one channel differs from its topic's spec; empty when it says the same. */
function channelDifferences(raw: unknown, channel: ChannelInterface, spec: TopicSpec): string[] {
  const out: string[] = []
  const at = spec.name
  const kafka = channel.bindings().get('kafka')?.value() ?? {}
  const config = isObject(kafka.topicConfiguration) ? kafka.topicConfiguration : {}
  const same = (what: string, actual: unknown, expected: unknown): void => {
    if (JSON.stringify(actual) !== JSON.stringify(expected))
      out.push(`${at}: ${what} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`)
  }
  same('partitions', kafka.partitions, spec.partitions)
  same('cleanup.policy', config['cleanup.policy'], [spec.cleanupPolicy])
  same('retention.ms', config['retention.ms'], spec.retentionMs)
  same('max.message.bytes', config['max.message.bytes'], spec.maxMessageBytes)

  const messages = channel.messages().all()
  if (messages.length === 0) out.push(`${at}: no message`)
  const record = recordOf(spec)
  if (record === undefined && /avro/i.test(spec.value))
    out.push(`${at}: no shipped record matches its value "${spec.value}"`)
  const files: string[] = []
  for (const message of messages) {
    const id = `${at} message ${message.id()}`
    const key: unknown = message.bindings().get('kafka')?.value().key
    if (!isObject(key) || key.title !== spec.key)
      out.push(
        `${id}: the key's title is ${JSON.stringify(isObject(key) ? key.title : key)}, expected "${spec.key}"`,
      )
    else if (key.type !== 'string' && !(Array.isArray(key.type) && key.type.includes('string')))
      out.push(`${id}: the key is not a string`)
    const payload: unknown = message.payload()?.json()
    const title = isObject(payload) ? payload.title : undefined
    if (record === undefined) {
      if (message.schemaFormat() === AVRO_FORMAT)
        out.push(`${id}: an Avro payload for "${spec.value}"`)
      if (title !== spec.value)
        out.push(`${id}: the payload's title is ${JSON.stringify(title)}, expected "${spec.value}"`)
      continue
    }
    if (message.schemaFormat() !== AVRO_FORMAT)
      out.push(`${id}: schemaFormat is not ${AVRO_FORMAT}`)
    if (message.name() !== record.name)
      out.push(`${id}: named ${message.name()}, not ${record.name}`)
    const ref = payloadRef(raw, channel, message.id())
    const file = typeof ref === 'string' ? ref.replace(/^\.\//, '') : undefined
    const version = record.versions.find((v) => v.file === file)
    if (file === undefined || version === undefined) {
      out.push(`${id}: the payload refers to ${JSON.stringify(ref)}, not a shipped ${record.name}`)
      continue
    }
    files.push(file)
    const onDisk = readAvsc(file)
    if (fullNameOf(onDisk) !== record.fullName)
      out.push(`${id}: ${file} is a ${fullNameOf(onDisk)}, not a ${record.fullName}`)
    if (parsingFingerprint64(onDisk) !== version.fingerprint)
      out.push(
        `${id}: ${file} is not ${record.name} v${version.version} as packages/events ships it`,
      )
    const resolved: unknown = isObject(payload) ? payload.schema : undefined
    if (!isObject(resolved) || parsingFingerprint64(resolved) !== version.fingerprint)
      out.push(`${id}: the parser did not resolve the payload to ${file}`)
    const fingerprint = message.extensions().get('x-fingerprint')?.value<unknown>()
    if (fingerprint !== formatFingerprint(version.fingerprint))
      out.push(
        `${id}: x-fingerprint is ${JSON.stringify(fingerprint)}, expected ${formatFingerprint(version.fingerprint)}`,
      )
  }
  if (record !== undefined) {
    const expected = record.versions.map((v) => v.file).sort()
    if (JSON.stringify([...files].sort()) !== JSON.stringify(expected))
      out.push(
        `${at}: payloads ${JSON.stringify([...files].sort())}, expected one per shipped version ${JSON.stringify(expected)}`,
      )
  }
  return out
}

/** Everything the document says differently from `packages/events`; empty when it agrees. */
function differences(document: AsyncAPIDocumentInterface, raw: unknown): string[] {
  const out: string[] = []
  const channels = document.channels().all()
  for (const spec of expectedTopics.values()) {
    const found = channels.filter((c) => c.address() === spec.name)
    if (found.length !== 1) {
      out.push(`${spec.name}: ${found.length} channels, expected 1`)
      continue
    }
    out.push(...channelDifferences(raw, found[0]!, spec))
  }
  for (const channel of channels) {
    const address = channel.address() ?? ''
    if (!expectedTopics.has(address)) out.push(`${address}: not a topic of packages/events`)
  }

  const operations = document.operations().all()
  const tagged = (o: OperationInterface, tag: string): boolean =>
    o
      .tags()
      .all()
      .some((t) => t.name() === tag)
  const addressesOf = (o: OperationInterface): string[] =>
    o
      .channels()
      .all()
      .map((c) => c.address() ?? '')
  const sends = (tag: string): string[] =>
    operations
      .filter((o) => o.action() === 'send' && tagged(o, tag))
      .flatMap(addressesOf)
      .sort()
  const poller = sends('poller')
  const pollerExpected = pollerTopics.map((t) => t.name).sort()
  if (JSON.stringify(poller) !== JSON.stringify(pollerExpected))
    out.push(`the poller sends to ${poller.join(', ')}, expected ${pollerExpected.join(', ')}`)
  for (const group of consumerGroups) {
    if (!sends(group).includes(dlqTopic(group).name))
      out.push(`${group}: no send operation to ${dlqTopic(group).name}`)
    const groupIds = operations
      .filter((o) => o.action() === 'receive' && tagged(o, group))
      .map((o) => o.bindings().get('kafka')?.value().groupId as unknown)
    if (!groupIds.some((g) => isObject(g) && JSON.stringify(g.enum) === JSON.stringify([group])))
      out.push(`${group}: no receive operation with groupId ${group}`)
  }
  const sent = new Set(operations.filter((o) => o.action() === 'send').flatMap(addressesOf))
  for (const address of expectedTopics.keys())
    if (!sent.has(address)) out.push(`${address}: no operation sends to it`)
  return out
}

describe('schemas/asyncapi.yaml', () => {
  const text = readFileSync(documentFile, 'utf8')
  const raw: unknown = parseYaml(text)

  it('is a valid AsyncAPI 3.0 document for the official parser', async () => {
    const { document, errors } = await parseText(text)
    expect(errors).toEqual([])
    expect(document?.version()).toBe('3.0.0')
  })

  it('refers to .avsc files that exist and are valid Avro schemas', () => {
    const refs: string[] = []
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk)
      else if (isObject(node)) {
        if (typeof node.$ref === 'string' && !node.$ref.startsWith('#')) refs.push(node.$ref)
        Object.values(node).forEach(walk)
      }
    }
    walk(raw)
    expect(refs.length).toBeGreaterThan(0)
    for (const ref of refs) {
      expect(ref, ref).toMatch(/^\.\/[a-z-]+\.v[0-9]+\.avsc$/)
      expect(existsSync(join(schemasDir, ref)), ref).toBe(true)
      expect(() => parseSchema(readAvsc(ref)), ref).not.toThrow()
    }
  })

  it('describes every topic, key and record version that packages/events declares', async () => {
    const { document, errors } = await parseText(text)
    expect(errors).toEqual([])
    expect(differences(document!, raw)).toEqual([])
  })

  it('notices a topic that differs', async () => {
    const channels = isObject(raw) && isObject(raw.channels) ? raw.channels : {}
    const channelIdOf = (name: string): string =>
      Object.entries(channels).find(([, c]) => isObject(c) && c.address === name)![0]
    /** The ids of the component messages of a topic's channel. */
    const messageIdsOf = (name: string): string[] => {
      const channel = channels[channelIdOf(name)]
      const messages = isObject(channel) && isObject(channel.messages) ? channel.messages : {}
      return Object.values(messages).map((m) =>
        String(isObject(m) ? m.$ref : '').replace('#/components/messages/', ''),
      )
    }
    const [first] = productTopics
    const avroTopic = productTopics.find((t) => recordOf(t) !== undefined)!
    const otherRecord = productTopics
      .map(recordOf)
      .find((r) => r !== undefined && r.name !== recordOf(avroTopic)!.name)!
    const variants: [string, (d: ReturnType<typeof parseDocument>) => void, string][] = [
      [
        'fewer partitions',
        (d) =>
          d.setIn(['channels', channelIdOf(first!.name), 'bindings', 'kafka', 'partitions'], 2),
        `${first!.name}: partitions is 2`,
      ],
      [
        'a renamed topic',
        (d) => d.setIn(['channels', channelIdOf(first!.name), 'address'], `${first!.name}.old`),
        `${first!.name}: 0 channels`,
      ],
      [
        'another key',
        (d) =>
          d.setIn(['components', 'messages', messageIdsOf(first!.name)[0], 'bindings', 'kafka'], {
            key: { type: 'string', title: 'event_id' },
          }),
        `the key's title is "event_id"`,
      ],
      [
        "another record's schema",
        (d) =>
          d.setIn(
            ['components', 'messages', messageIdsOf(avroTopic.name)[0], 'payload', 'schema'],
            { $ref: `./${otherRecord.versions[0]!.file}` },
          ),
        `the payload refers to "./${otherRecord.versions[0]!.file}", not a shipped ${recordOf(avroTopic)!.name}`,
      ],
    ]
    for (const [what, change, expected] of variants) {
      const changed = parseDocument(text)
      change(changed)
      const { document, errors } = await parseText(changed.toString())
      expect(errors, what).toEqual([])
      expect(differences(document!, parseYaml(changed.toString())).join('\n'), what).toContain(
        expected,
      )
    }
  })
})
