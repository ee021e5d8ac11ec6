import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { thrownAppError } from '@wolkvox-chat-stream/errors'
import { readSchemaFiles, schemasDir } from './codegen/render-records.js'
import { createEventCodec, type EventCodec, type SchemaVersion } from './codec.js'
import { chatMessageRevision } from './chat-message-revision.js'
import { parsingCanonicalForm, parsingFingerprint64 } from './fingerprint.js'
import {
  agentSentimentCodec,
  chatMessageCodec,
  decodeChatMessage,
  encodeChatMessage,
  pollerCheckpointCodec,
  schemaVersions,
  tramiteClassificationCodec,
  chatQualityCodec,
  decodeAgentSentiment,
  encodeAgentSentiment,
  type AgentSentiment,
  type ChatMessage,
} from './records.js'

const [chatMessageV1, chatMessageV2] = schemaVersions.chatMessage
/** ChatMessage v1 alone, as a subscriber that was never upgraded reads and writes it. */
const v1Codec = createEventCodec<Omit<ChatMessage, 'revision'>>({ reader: chatMessageV1 })
const [agentSentimentV1, agentSentimentV2] = schemaVersions.agentSentiment
/** The fields AgentSentiment v2 adds to v1. */
type TextFigures = 'messages_by_text_sentiment' | 'text_mean_score'
/** AgentSentiment v1 alone, as a subscriber that was never upgraded reads and writes it. */
const agentSentimentV1Codec = createEventCodec<Omit<AgentSentiment, TextFigures>>({
  reader: agentSentimentV1,
})

const codecs: Record<string, EventCodec<unknown>> = {
  'chat-message.v1': v1Codec,
  'chat-message.v2': chatMessageCodec,
  'poller-checkpoint.v1': pollerCheckpointCodec,
  'agent-sentiment.v1': agentSentimentV1Codec,
  'agent-sentiment.v2': agentSentimentCodec,
  'tramite-classification.v1': tramiteClassificationCodec,
  'chat-quality.v1': chatQualityCodec,
}

const fixture = (name: string, ext: 'json' | 'bin'): Buffer =>
  readFileSync(new URL(`fixtures/${name}.${ext}`, `file://${schemasDir}`))

const chatMessage = (): ChatMessage =>
  chatMessageCodec.fromAvroJson(fixture('chat-message.v2', 'json').toString('utf8'))

describe('golden fixtures (schemas/fixtures)', () => {
  it('has one fixture pair per schema file, and a codec for each', () => {
    const files = readSchemaFiles().map((f) => f.file.replace(/\.avsc$/, ''))
    expect(Object.keys(codecs).sort()).toEqual(files)
  })

  it.each(Object.keys(codecs))('%s: the JSON encodes to exactly the golden bytes', (name) => {
    const codec = codecs[name]!
    const value = codec.fromAvroJson(fixture(name, 'json').toString('utf8'))
    expect(codec.encode(value).equals(fixture(name, 'bin'))).toBe(true)
  })

  it.each(Object.keys(codecs))('%s: the golden bytes decode to exactly the JSON', (name) => {
    const codec = codecs[name]!
    const value = codec.decode(fixture(name, 'bin'))
    expect(JSON.parse(codec.toAvroJson(value))).toEqual(
      JSON.parse(fixture(name, 'json').toString('utf8')),
    )
  })

  it('starts every event with C3 01 and the little-endian fingerprint of its schema', () => {
    for (const [name, codec] of Object.entries(codecs)) {
      const bytes = fixture(name, 'bin')
      expect([...bytes.subarray(0, 2)]).toEqual([0xc3, 0x01])
      expect(bytes.readBigInt64LE(2), name).toBe(codec.fingerprint)
    }
    expect(chatMessageCodec.writeVersion).toBe(2)
    expect(encodeChatMessage(chatMessage()).readBigInt64LE(2)).toBe(
      parsingFingerprint64(chatMessageV2.schema),
    )
  })

  it('decodes timestamps as Dates and optional fields as null', () => {
    const event = decodeChatMessage(fixture('chat-message.v2', 'bin'))
    expect(event.sent_at).toEqual(new Date('2025-02-11T15:22:33.000Z'))
    expect(event.customer_phone).toBeNull()
    expect(event.feeling).toBe('Very Positive')
    expect(event.extra).toEqual({ 'chat.skill': 'ventas', tags: '["vip",1]' })
  })

  it('holds the revision of its own fields in the ChatMessage v2 fixture', () => {
    const event = chatMessage()
    expect(event.revision).toBe('3023e401f7a7d27e')
    expect(chatMessageRevision(event)).toBe(event.revision)
  })
})

describe('ChatMessage v1 and v2', () => {
  it('reads v1 bytes as v2 with revision "", every other field as written', () => {
    const v1Bytes = fixture('chat-message.v1', 'bin')
    expect(chatMessageCodec.writerVersion(v1Bytes)).toBe(1)
    expect(chatMessageCodec.writerVersion(fixture('chat-message.v2', 'bin'))).toBe(2)
    expect(decodeChatMessage(v1Bytes)).toEqual({ ...chatMessage(), revision: '' })
  })

  it('writes v1 on request: exactly the v1 golden bytes, the revision left out', () => {
    const written = encodeChatMessage(chatMessage(), { version: 1 })
    expect(written.equals(fixture('chat-message.v1', 'bin'))).toBe(true)
    expect(v1Codec.decode(written)).toEqual(
      v1Codec.fromAvroJson(fixture('chat-message.v1', 'json').toString('utf8')),
    )
    expect(
      encodeChatMessage(chatMessage(), { version: 2 }).equals(fixture('chat-message.v2', 'bin')),
    ).toBe(true)
  })

  it('writes v1 by default when built so, and refuses a version it does not ship', () => {
    const oldWriter = createEventCodec<ChatMessage>({
      reader: chatMessageV2,
      writers: schemaVersions.chatMessage,
      writeVersion: 1,
    })
    expect(oldWriter.version).toBe(2)
    expect(oldWriter.fingerprint).toBe(parsingFingerprint64(chatMessageV1.schema))
    expect(oldWriter.encode(chatMessage()).equals(fixture('chat-message.v1', 'bin'))).toBe(true)
    expect(oldWriter.decode(oldWriter.encode(chatMessage())).revision).toBe('')
    expect(thrownAppError(() => encodeChatMessage(chatMessage(), { version: 3 })).code).toBe(
      'EVENT_SCHEMA_INVALID',
    )
    expect(
      thrownAppError(() =>
        createEventCodec({ reader: chatMessageV2, writers: [chatMessageV2], writeVersion: 1 }),
      ).code,
    ).toBe('EVENT_SCHEMA_INVALID')
  })
})

describe('AgentSentiment v1 and v2', () => {
  const agentSentiment = (): AgentSentiment =>
    agentSentimentCodec.fromAvroJson(fixture('agent-sentiment.v2', 'json').toString('utf8'))

  it('writes v2 by default, with the text-scored figures apart from the upstream ones', () => {
    expect(agentSentimentCodec.writeVersion).toBe(2)
    const value = agentSentiment()
    expect(encodeAgentSentiment(value).equals(fixture('agent-sentiment.v2', 'bin'))).toBe(true)
    expect(value.messages_by_text_sentiment).toEqual({
      very_negative: 1,
      negative: 2,
      neutral: 1,
      positive: 1,
      very_positive: 0,
      unknown: 0,
    })
    expect(value.text_mean_score).toBe(-0.6)
    // The upstream counts are v1's, untouched.
    expect(value.messages_by_sentiment.unknown).toBe(7)
    expect(value.mean_score).toBeCloseTo(0.476, 3)
  })

  it('reads v1 bytes as v2 with the text figures null, every other field as written', () => {
    const v1Bytes = fixture('agent-sentiment.v1', 'bin')
    expect(agentSentimentCodec.writerVersion(v1Bytes)).toBe(1)
    expect(agentSentimentCodec.writerVersion(fixture('agent-sentiment.v2', 'bin'))).toBe(2)
    expect(decodeAgentSentiment(v1Bytes)).toEqual({
      ...agentSentiment(),
      messages_by_text_sentiment: null,
      text_mean_score: null,
    })
  })

  it('writes v1 on request: exactly the v1 golden bytes, the text figures left out', () => {
    const written = encodeAgentSentiment(agentSentiment(), { version: 1 })
    expect(written.equals(fixture('agent-sentiment.v1', 'bin'))).toBe(true)
    expect(agentSentimentV1Codec.decode(written)).toEqual(
      agentSentimentV1Codec.fromAvroJson(fixture('agent-sentiment.v1', 'json').toString('utf8')),
    )
  })

  it('a reader that ships v2 but reads into v1 drops the text figures of v2 data', () => {
    const v1Reader = createEventCodec<Omit<AgentSentiment, TextFigures>>({
      reader: agentSentimentV1,
      writers: schemaVersions.agentSentiment,
    })
    const read = v1Reader.decode(fixture('agent-sentiment.v2', 'bin'))
    expect('messages_by_text_sentiment' in read).toBe(false)
    expect(read).toEqual(agentSentimentV1Codec.decode(fixture('agent-sentiment.v1', 'bin')))
    // A never-upgraded subscriber (v1 alone) refuses v2 loudly: readers upgrade first.
    expect(
      thrownAppError(() => agentSentimentV1Codec.decode(fixture('agent-sentiment.v2', 'bin'))).code,
    ).toBe('EVENT_UNKNOWN_FINGERPRINT')
  })

  it('ships AgentSentiment v2 as v1 plus the two optional text figures, reusing SentimentCounts', () => {
    const v1Fields = agentSentimentV1.schema.fields as { name: string }[]
    const v2Fields = agentSentimentV2.schema.fields as {
      name: string
      type: unknown
      default?: unknown
      doc: string
    }[]
    expect(v2Fields.slice(0, v1Fields.length)).toEqual(v1Fields)
    expect(v2Fields.slice(v1Fields.length).map((f) => [f.name, f.type, f.default])).toEqual([
      ['messages_by_text_sentiment', ['null', 'SentimentCounts'], null],
      ['text_mean_score', ['null', 'double'], null],
    ])
    for (const field of v2Fields.slice(v1Fields.length)) {
      expect(field.doc).toContain('Spanish text scorer')
      expect(field.doc).toMatch(/never mixed/i)
    }
  })
})

describe('decode errors', () => {
  const good = encodeChatMessage(chatMessage())

  it.each([
    ['empty', Buffer.alloc(0)],
    ['too short', good.subarray(0, 9)],
    ['plain JSON', Buffer.from('{"conn_id":"x"}')],
  ])('%s bytes are EVENT_NOT_SINGLE_OBJECT', (_, bytes) => {
    expect(thrownAppError(() => decodeChatMessage(bytes)).code).toBe('EVENT_NOT_SINGLE_OBJECT')
  })

  it('Confluent wire format with a schema id never told is EVENT_SCHEMA_ID_UNKNOWN, naming the id', () => {
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 0x30, 0x39]), good.subarray(10)])
    const error = thrownAppError(() => decodeChatMessage(bytes))
    expect(error.code).toBe('EVENT_SCHEMA_ID_UNKNOWN')
    expect(error.details.id).toBe(12345)
  })

  it('an unknown fingerprint is EVENT_UNKNOWN_FINGERPRINT with the fingerprint in hex', () => {
    const bytes = Buffer.from(good)
    bytes.writeBigInt64LE(123n, 2)
    const error = thrownAppError(() => decodeChatMessage(bytes))
    expect(error.code).toBe('EVENT_UNKNOWN_FINGERPRINT')
    expect(error.details.fingerprint).toBe('000000000000007b')
    expect(error.retriable).toBe(false)
  })

  it('another record on the wrong topic is named', () => {
    const checkpoint = fixture('poller-checkpoint.v1', 'bin')
    const error = thrownAppError(() => decodeChatMessage(checkpoint))
    expect(error.code).toBe('EVENT_UNKNOWN_FINGERPRINT')
    expect(error.message).toContain('PollerCheckpoint v1')
  })

  it('a truncated body or trailing bytes are EVENT_BODY_INVALID', () => {
    expect(thrownAppError(() => decodeChatMessage(good.subarray(0, good.length - 3))).code).toBe(
      'EVENT_BODY_INVALID',
    )
    const longer = Buffer.concat([good, Buffer.from([0])])
    expect(thrownAppError(() => decodeChatMessage(longer)).code).toBe('EVENT_BODY_INVALID')
  })

  it('decodes from a Uint8Array view into a larger buffer', () => {
    const padded = Buffer.concat([Buffer.from('xx'), good, Buffer.from('yy')])
    const view = new Uint8Array(padded.buffer, padded.byteOffset + 2, good.length)
    expect(decodeChatMessage(view).event_id).toBe(chatMessage().event_id)
  })
})

describe('encode', () => {
  it('round-trips values of any size, each in its own buffer', () => {
    const small = chatMessage()
    const large = { ...chatMessage(), message: 'ñ'.repeat(300_000) }
    const [a, b, c] = [small, large, small].map((event) => encodeChatMessage(event))
    expect(decodeChatMessage(b!).message).toBe(large.message)
    expect(decodeChatMessage(a!)).toEqual(decodeChatMessage(c!))
    expect(a!.equals(c!)).toBe(true)
    expect(a!.buffer === c!.buffer && a!.byteOffset === c!.byteOffset).toBe(false)
  })
})

describe('decodeFields', () => {
  const fields = ['event_id', 'revision', 'sent_at', 'sender', 'position'] as const
  const decodeSome = chatMessageCodec.decodeFields(fields)
  const good = encodeChatMessage(chatMessage())

  it('decodes only the fields asked for, with the values decode gives', () => {
    const full = decodeChatMessage(good)
    const some = decodeSome(good)
    expect(Object.keys(some).sort()).toEqual([...fields].sort())
    for (const field of fields) expect(some[field]).toEqual(full[field])
  })

  it('reads revision from v2 bytes, and as "" from v1 bytes', () => {
    const decodeRevision = chatMessageCodec.decodeFields(['event_id', 'revision', 'feeling'])
    expect(decodeRevision(good)).toEqual({
      event_id: chatMessage().event_id,
      revision: '3023e401f7a7d27e',
      feeling: 'Very Positive',
    })
    const v1Bytes = encodeChatMessage(chatMessage(), { version: 1 })
    expect(decodeSome(v1Bytes)).toEqual({ ...decodeSome(good), revision: '' })
    expect(decodeRevision(v1Bytes)).toEqual({ ...decodeRevision(good), revision: '' })
  })

  it('checks the bytes as decode does', () => {
    expect(thrownAppError(() => decodeSome(good.subarray(0, good.length - 3))).code).toBe(
      'EVENT_BODY_INVALID',
    )
    expect(thrownAppError(() => decodeSome(Buffer.concat([good, Buffer.from([0])]))).code).toBe(
      'EVENT_BODY_INVALID',
    )
    expect(thrownAppError(() => decodeSome(Buffer.from('{}'))).code).toBe('EVENT_NOT_SINGLE_OBJECT')
  })

  it('refuses a field the schema lacks', () => {
    expect(thrownAppError(() => chatMessageCodec.decodeFields(['nope' as never])).code).toBe(
      'EVENT_SCHEMA_INVALID',
    )
  })
})

describe('encode errors name the bad field paths', () => {
  it('reports each bad field, never its value', () => {
    const bad = {
      ...chatMessage(),
      position: 1.5,
      sent_at: new Date(Number.NaN),
      sender: 'robot',
      extra: { ok: 'x', count: 3 },
      message: undefined,
    } as unknown as ChatMessage
    const error = thrownAppError(() => encodeChatMessage(bad))
    expect(error.code).toBe('EVENT_SCHEMA_MISMATCH')
    expect(error.details.fields).toEqual([
      'message: expected string, got nothing',
      'sent_at: expected a valid Date (timestamp-millis), got an invalid Date',
      'position: expected int, got a number',
      'sender: expected one of customer, agent, bot, other, got a string',
      'extra.count: expected string, got an integer',
    ])
    expect(error.message).toContain('ChatMessage v2')
    expect(thrownAppError(() => encodeChatMessage(bad, { version: 1 })).message).toContain(
      'ChatMessage v1',
    )
  })

  it('names a bad element of an array of records', () => {
    const value = tramiteClassificationCodec.decode(fixture('tramite-classification.v1', 'bin'))
    const bad = { ...value, labels: [value.labels[0], { tramite: 'x', score: '1' }] }
    const error = thrownAppError(() => tramiteClassificationCodec.encode(bad as never))
    expect(error.details.fields).toEqual(['labels.1.score: expected double, got a string'])
  })
})

describe('schema evolution', () => {
  // A test-only v3 (never shipped): v2 plus an optional field and an enum symbol.
  const v3: SchemaVersion = {
    version: 3,
    schema: JSON.parse(
      readFileSync(
        new URL('../test-fixtures/evolution/chat-message.v3.avsc', import.meta.url),
        'utf8',
      ),
    ) as SchemaVersion['schema'],
  }
  const all = [chatMessageV1, chatMessageV2, v3]
  const readsV2 = createEventCodec<ChatMessage>({ reader: chatMessageV2, writers: all })
  const readsV3 = createEventCodec<ChatMessage & { agent_id: string | null }>({
    reader: v3,
    writers: all,
  })

  it('a v3 reader reads v2 and v1 data, the added fields taking their defaults', () => {
    const fromV2 = readsV3.decode(encodeChatMessage(chatMessage()))
    expect(fromV2.agent_id).toBeNull()
    expect(fromV2.revision).toBe(chatMessage().revision)
    const fromV1 = readsV3.decode(encodeChatMessage(chatMessage(), { version: 1 }))
    expect(fromV1).toEqual({ ...chatMessage(), revision: '', agent_id: null })
  })

  it('a v2 reader reads v3 data, dropping the new field and mapping a new symbol to the default', () => {
    const written = readsV3.encode({ ...chatMessage(), agent_id: 'A-7', sender: 'system' as never })
    expect(written.readBigInt64LE(2)).toBe(readsV3.fingerprint)
    const event = readsV2.decode(written)
    expect(event.sender).toBe('other')
    expect('agent_id' in event).toBe(false)
    expect(readsV2.decodeFields(['sender', 'position', 'revision'])(written)).toEqual({
      sender: 'other',
      position: chatMessage().position,
      revision: chatMessage().revision,
    })
    expect(event.message).toBe(chatMessage().message)
    // The shipped codec (v1 and v2) does not know v3: subscribers upgrade before writers.
    expect(thrownAppError(() => decodeChatMessage(written)).code).toBe('EVENT_UNKNOWN_FINGERPRINT')
  })

  it('every shipped version reads data written by every other one', () => {
    for (const versions of Object.values(schemaVersions)) {
      for (const reader of versions) {
        const codec = createEventCodec<unknown>({ reader, writers: versions })
        expect([...codec.writers.values()].sort()).toEqual(versions.map((v) => v.version))
      }
    }
  })

  it('no two versions share a canonical form, and a codec refuses twins', () => {
    const forms = Object.values(schemaVersions).flatMap((vs) =>
      [...vs, ...(vs === schemaVersions.chatMessage ? [v3] : [])].map((v) =>
        parsingCanonicalForm(v.schema),
      ),
    )
    expect(new Set(forms).size).toBe(forms.length)
    const twin = { version: 3, schema: { ...chatMessageV1.schema, doc: 'only the doc changed' } }
    expect(
      thrownAppError(() => createEventCodec({ reader: twin, writers: [chatMessageV1] })).code,
    ).toBe('EVENT_SCHEMA_INVALID')
  })

  it('refuses, at creation, a writer the reader cannot resolve', () => {
    const incompatible = {
      version: 2,
      schema: {
        ...chatMessageV1.schema,
        fields: [{ name: 'event_id', type: 'long', doc: 'changed type' }],
      },
    }
    expect(
      thrownAppError(() => createEventCodec({ reader: chatMessageV1, writers: [incompatible] }))
        .code,
    ).toBe('EVENT_SCHEMA_INVALID')
  })

  it('ships ChatMessage v2 as v1 plus revision (string, default ""), nothing else', () => {
    const v1Fields = chatMessageV1.schema.fields as { name: string }[]
    const v2Fields = chatMessageV2.schema.fields as {
      name: string
      type: unknown
      default?: unknown
    }[]
    expect(v2Fields.filter((f) => f.name !== 'revision')).toEqual(v1Fields)
    expect(v2Fields.find((f) => f.name === 'revision')).toMatchObject({
      type: 'string',
      default: '',
    })
  })
})

describe('the Confluent wire format (registry mode)', () => {
  it('writes 00, the schema id big-endian, then the same body as the single-object encoding', () => {
    const event = chatMessage()
    const single = encodeChatMessage(event)
    const framed = encodeChatMessage(event, { registryId: 0x01020304 })
    expect([...framed.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4])
    expect(framed.subarray(5).equals(single.subarray(10))).toBe(true)
  })

  it('reads both formats once told the id, and the same value from each', () => {
    const codec = createEventCodec<ChatMessage>({ reader: chatMessageV2 })
    const event = chatMessage()
    const framed = codec.encode(event, { registryId: 41 })
    expect(thrownAppError(() => codec.decode(framed)).code).toBe('EVENT_SCHEMA_ID_UNKNOWN')
    codec.addRegistrySchema(41, chatMessageV2.schema)
    expect(codec.knowsRegistryId(41)).toBe(true)
    expect(codec.decode(framed)).toEqual(codec.decode(codec.encode(event)))
    expect(codec.writerVersion(framed)).toBe(2)
    expect(codec.decodeFields(['conn_id', 'sentiment'])(framed)).toEqual({
      conn_id: event.conn_id,
      sentiment: event.sentiment,
    })
  })

  it('reads a newer writer schema it does not ship (a new optional field) as its own version', () => {
    const v3 = {
      ...chatMessageV2.schema,
      fields: [
        ...(chatMessageV2.schema.fields as object[]),
        { name: 'queue', type: ['null', 'string'], default: null },
      ],
    }
    const writer = createEventCodec<ChatMessage & { queue: string | null }>({
      reader: { version: 3, schema: v3 },
    })
    const event = chatMessage()
    const framed = writer.encode({ ...event, queue: 'ventas' }, { registryId: 77 })
    const reader = createEventCodec<ChatMessage>({ reader: chatMessageV2 })
    reader.addRegistrySchema(77, v3)
    expect(reader.decode(framed)).toEqual(event)
    expect(reader.writerVersion(framed)).toBeUndefined()
  })

  it('refuses a registry schema of another record, or one it cannot read', () => {
    const reader = createEventCodec<ChatMessage>({ reader: chatMessageV2 })
    expect(
      thrownAppError(() => reader.addRegistrySchema(5, schemaVersions.agentSentiment[0].schema))
        .code,
    ).toBe('EVENT_SCHEMA_INVALID')
    const noDefault = {
      ...chatMessageV2.schema,
      fields: (chatMessageV2.schema.fields as { name: string }[]).filter(
        (f) => f.name !== 'conn_id',
      ),
    }
    expect(thrownAppError(() => reader.addRegistrySchema(6, noDefault)).code).toBe(
      'EVENT_SCHEMA_INVALID',
    )
  })
})
