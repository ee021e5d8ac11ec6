/*
 * Cross-checks the event contract with another language: a small Java program built against
 * Apache Avro from Maven Central (test/interop/avro-java) computes fingerprints and canonical forms,
 * decodes our single-object events with BinaryMessageDecoder (ChatMessage v2 as we write it, v1
 * through a v2 reader and v2 through a v1 reader, and a test-only v3 both ways; AgentSentiment v1
 * through a v2 reader and v2 through a v1 reader), encodes the golden
 * fixtures and our events from their Avro JSON (which we then decode), and reads wall-clock times
 * with java.time.
 * Java and Maven are required: without them this test fails, it never skips.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  agentSentimentCodec,
  buildChatMessages,
  chatMessageRevision,
  chatMessageCodec,
  createEventCodec,
  parsingCanonicalForm,
  parsingFingerprint64,
  pollerCheckpointCodec,
  schemaVersions,
  tramiteClassificationCodec,
  chatQualityCodec,
  upstreamDateToEpochMs,
  type AgentSentiment,
  type ChatMessage,
  type EventCodec,
  type SchemaVersion,
} from '@wolkvox-chat-stream/events'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const project = join(root, 'test/interop/avro-java')
const fixtures = join(root, 'packages/events/test-fixtures')

interface Answer {
  schemas: Record<string, { canonical: string; fingerprint: string }>
  vectors: { canonical?: string; fingerprint?: string; error?: string }[]
  decoded: { json?: string; hex?: string; error?: string }[]
  encoded: { hex?: string; error?: string }[]
  zones: number[]
}

const read = (path: string): string => readFileSync(path, 'utf8')

const [chatMessageV1, chatMessageV2] = schemaVersions.chatMessage
/** ChatMessage v1 alone: what a subscriber that was never upgraded reads and writes. */
const v1Codec = createEventCodec<Omit<ChatMessage, 'revision'>>({ reader: chatMessageV1 })
/** The shipped v2 reader, but writing v1 (the option for subscribers not upgraded yet). */
const v1Reader = createEventCodec<Omit<ChatMessage, 'revision'>>({
  reader: chatMessageV1,
  writers: schemaVersions.chatMessage,
})

const [agentSentimentV1, agentSentimentV2] = schemaVersions.agentSentiment
/** The fields AgentSentiment v2 adds to v1. */
type TextFigures = 'messages_by_text_sentiment' | 'text_mean_score'
/** AgentSentiment v1 alone: a subscriber of the sentiment topic that was never upgraded. */
const agentSentimentV1Codec = createEventCodec<Omit<AgentSentiment, TextFigures>>({
  reader: agentSentimentV1,
})
/** A subscriber that ships AgentSentiment v2 but reads into v1. */
const agentSentimentV1Reader = createEventCodec<Omit<AgentSentiment, TextFigures>>({
  reader: agentSentimentV1,
  writers: schemaVersions.agentSentiment,
})

const shipped: Record<string, { codec: EventCodec<unknown>; version: SchemaVersion }> = {
  'chat-message.v1': { codec: v1Codec, version: chatMessageV1 },
  'chat-message.v2': { codec: chatMessageCodec, version: chatMessageV2 },
  'poller-checkpoint.v1': {
    codec: pollerCheckpointCodec,
    version: schemaVersions.pollerCheckpoint[0],
  },
  'agent-sentiment.v1': { codec: agentSentimentV1Codec, version: agentSentimentV1 },
  'agent-sentiment.v2': { codec: agentSentimentCodec, version: agentSentimentV2 },
  'tramite-classification.v1': {
    codec: tramiteClassificationCodec,
    version: schemaVersions.tramiteClassification[0],
  },
  'chat-quality.v1': { codec: chatQualityCodec, version: schemaVersions.chatQuality[0] },
}
// A test-only v3 (never shipped): v2 plus an optional field and an enum symbol.
const v3Text = read(join(fixtures, 'evolution/chat-message.v3.avsc'))
const v3: SchemaVersion = { version: 3, schema: JSON.parse(v3Text) as SchemaVersion['schema'] }
const readsV3 = createEventCodec<ChatMessage & { agent_id: string | null }>({
  reader: v3,
  writers: [chatMessageV1, chatMessageV2, v3],
})
const readsV2 = createEventCodec<ChatMessage>({
  reader: chatMessageV2,
  writers: [chatMessageV1, chatMessageV2, v3],
})

const vectors = (
  JSON.parse(read(join(fixtures, 'avro-schema-tests.json'))) as {
    vectors: { input: string; canonical: string; fingerprint?: string }[]
  }
).vectors
const zoneCases = (
  JSON.parse(read(join(fixtures, 'zone-cases.json'))) as {
    cases: { zone: string; local: string; utc: string }[]
  }
).cases

/** Events with the content that breaks naive encoders: emoji, ZWJ, RTL, NUL, large, empty. */
function trickyEvents(): ChatMessage[] {
  const texts = [
    '👩‍👩‍👧‍👦 family, 🇨🇴 flag, 👍🏽 tone',
    'مرحبا — שלום — 你好',
    'NUL \u0000 and DEL \u007f and "quotes" \\ back',
    '',
    `<img src="data:image/png;base64,${'QUJD'.repeat(25_000)}">`,
  ]
  const { events } = buildChatMessages(
    {
      conn_id: 'CH-interop',
      agent_name: '',
      customer_name: 'Ñandú',
      'extra field': { nested: [1, 'dos'] },
      conversation: texts.map((message, i) => ({
        channel: 'Instagram',
        from: i % 2 ? 'AGENT' : 'CUSTOMER',
        from_name: 'chat_bot',
        to_name: '',
        date: `2024-11-03 01:3${i}:00`,
        message,
        customer_id: '',
        customer_phone: '+57 300 000 0000',
        ...(i % 2 ? { feeling: '' } : {}),
        [`k${i}`]: i,
      })),
    },
    {
      server: '0010',
      zone: 'America/New_York',
      window: { start: new Date(0), end: new Date(1) },
      polledAt: new Date(2),
    },
  )
  return events
}

async function requireTool(command: string, args: string[], install: string): Promise<void> {
  try {
    await run(command, args, { timeout: 60_000 })
  } catch (error) {
    throw new Error(
      `The Java interop test needs \`${command}\` (${install}); it is not usable here: ${(error as Error).message}`,
      { cause: error },
    )
  }
}

describe('interoperability with Apache Avro for Java', () => {
  let answer: Answer
  const work = mkdtempSync(join(tmpdir(), 'wolkvox-avro-java-'))
  const tricky = trickyEvents()
  const v3Event = readsV3.encode({ ...tricky[0]!, agent_id: 'A-7', sender: 'system' as never })
  interface DecodeJob {
    reader: string
    writers: string[]
    bytes: Buffer
  }
  const fixtureJobs: DecodeJob[] = Object.keys(shipped).map((id) => ({
    reader: id,
    writers: [id],
    bytes: readFileSync(join(root, `schemas/fixtures/${id}.bin`)),
  }))
  // ChatMessage v2 as the poller writes it, read by a v2 subscriber.
  const trickyJobs: DecodeJob[] = tricky.map((event) => ({
    reader: 'chat-message.v2',
    writers: ['chat-message.v2'],
    bytes: chatMessageCodec.encode(event),
  }))
  const both = ['chat-message.v1', 'chat-message.v2']
  const all = [...both, 'chat-message.v3']
  const sentimentVersions = ['agent-sentiment.v1', 'agent-sentiment.v2']
  /** An AgentSentiment with text figures, every count distinct (so a swap would show). */
  const sentiment: AgentSentiment = {
    ...agentSentimentCodec.fromAvroJson(
      read(join(root, 'schemas/fixtures/agent-sentiment.v2.json')),
    ),
    agent_name: 'Zoë  Ñandú 👩‍👩‍👧',
    messages_by_text_sentiment: {
      very_negative: 3,
      negative: 5,
      neutral: 17,
      positive: 7,
      very_positive: 3,
      unknown: 0,
    },
    text_mean_score: (3 * -2 + 5 * -1 + 7 + 3 * 2) / 35,
  }
  const resolutionJobs = {
    // A not-yet-upgraded writer (v1), read by an upgraded subscriber (v2).
    v1ToV2: {
      reader: 'chat-message.v2',
      writers: both,
      bytes: chatMessageCodec.encode(tricky[1]!, { version: 1 }),
    },
    // An upgraded writer (v2), read by a subscriber that ships v2 but reads into v1.
    v2ToV1: {
      reader: 'chat-message.v1',
      writers: both,
      bytes: chatMessageCodec.encode(tricky[2]!),
    },
    v3ToV2: { reader: 'chat-message.v2', writers: all, bytes: v3Event },
    v2ToV3: { reader: 'chat-message.v3', writers: all, bytes: chatMessageCodec.encode(tricky[3]!) },
    // AgentSentiment from an aggregator still writing v1, read by an upgraded subscriber (v2)…
    sentimentV1ToV2: {
      reader: 'agent-sentiment.v2',
      writers: sentimentVersions,
      bytes: agentSentimentCodec.encode(sentiment, { version: 1 }),
    },
    // …and v2 as the aggregator writes it, read by a subscriber that ships v2 but reads into v1.
    sentimentV2ToV1: {
      reader: 'agent-sentiment.v1',
      writers: sentimentVersions,
      bytes: agentSentimentCodec.encode(sentiment),
    },
  } satisfies Record<string, DecodeJob>
  const decodeJobs: DecodeJob[] = [...fixtureJobs, ...trickyJobs, ...Object.values(resolutionJobs)]
  const decodedOf = (job: DecodeJob): Answer['decoded'][number] =>
    answer.decoded[decodeJobs.indexOf(job)]!
  // Java writes these from their Avro JSON; we decode what it wrote.
  const encodeJobs = [
    ...Object.keys(shipped).map((id) => ({
      schema: id,
      json: read(join(root, `schemas/fixtures/${id}.json`)),
    })),
    ...tricky.map((event) => ({
      schema: 'chat-message.v2',
      json: chatMessageCodec.toAvroJson(event),
    })),
    { schema: 'chat-message.v1', json: v1Codec.toAvroJson(tricky[4]!) },
  ]

  beforeAll(async () => {
    await requireTool(
      'javac',
      ['-version'],
      'a JDK 17+: sudo apt-get install openjdk-17-jdk-headless',
    )
    await requireTool('mvn', ['-v'], 'Apache Maven: sudo apt-get install maven')
    // One Maven call per run; jars stay in ~/.m2, so later runs need no network.
    await run(
      'mvn',
      [
        '-q',
        '-B',
        '-Dstyle.color=never',
        '-f',
        join(project, 'pom.xml'),
        'compile',
        'dependency:build-classpath',
        `-Dmdep.outputFile=${join(project, 'target/classpath.txt')}`,
      ],
      { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 },
    )
    const classpath = [
      join(project, 'target/classes'),
      read(join(project, 'target/classpath.txt')).trim(),
    ].join(delimiter)
    const schemas: Record<string, string> = { 'chat-message.v3': v3Text }
    for (const id of Object.keys(shipped)) schemas[id] = read(join(root, `schemas/${id}.avsc`))
    const job = {
      schemas,
      vectors: vectors.map((v) => v.input),
      decode: decodeJobs.map(({ reader, writers, bytes }) => ({
        reader,
        writers,
        hex: bytes.toString('hex'),
      })),
      encode: encodeJobs,
      zones: zoneCases.map(({ zone, local }) => ({ zone, local })),
    }
    writeFileSync(join(work, 'job.json'), JSON.stringify(job))
    await run(
      'java',
      [
        '-cp',
        classpath,
        'com.wolkvoxchatstream.interop.AvroInterop',
        join(work, 'job.json'),
        join(work, 'answer.json'),
      ],
      { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
    )
    answer = JSON.parse(read(join(work, 'answer.json'))) as Answer
  }, 600_000)

  afterAll(() => {
    rmSync(work, { recursive: true, force: true })
  })

  it('gives our fingerprints and canonical forms for every schema (SchemaNormalization)', () => {
    const ours: Record<string, SchemaVersion> = { 'chat-message.v3': v3 }
    for (const [id, { version }] of Object.entries(shipped)) ours[id] = version
    for (const [id, version] of Object.entries(ours)) {
      expect(answer.schemas[id], id).toEqual({
        canonical: parsingCanonicalForm(version.schema),
        fingerprint: parsingFingerprint64(version.schema).toString(),
      })
    }
    expect(answer.schemas['chat-message.v2']!.fingerprint).toBe(
      chatMessageCodec.fingerprint.toString(),
    )
  })

  it("agrees on Avro's published test vectors, and so do we", () => {
    expect(answer.vectors).toHaveLength(vectors.length)
    vectors.forEach((vector, i) => {
      const java = answer.vectors[i]!
      expect(java.error, vector.input).toBeUndefined()
      expect(java.canonical).toBe(vector.canonical)
      expect(java.fingerprint).toBe(parsingFingerprint64(JSON.parse(vector.input)).toString())
      if (vector.fingerprint !== undefined) expect(java.fingerprint).toBe(vector.fingerprint)
    })
  })

  it('decodes the golden fixtures to their JSON and re-encodes the same bytes', () => {
    for (const job of fixtureJobs) {
      const java = decodedOf(job)
      expect(java.error, job.reader).toBeUndefined()
      expect(JSON.parse(java.json!)).toEqual(
        JSON.parse(read(join(root, `schemas/fixtures/${job.reader}.json`))),
      )
      expect(java.hex).toBe(job.bytes.toString('hex'))
    }
  })

  it('reads ChatMessage v2 as we write it: emoji, RTL text, NUL, 100 KB messages, revisions', () => {
    expect(new Set(tricky.map((event) => event.revision)).size).toBe(tricky.length)
    tricky.forEach((event, i) => {
      const java = decodedOf(trickyJobs[i]!)
      expect(java.error).toBeUndefined()
      const json = JSON.parse(java.json!) as Record<string, unknown>
      expect(json.revision).toBe(chatMessageRevision(event))
      expect(json).toEqual(JSON.parse(chatMessageCodec.toAvroJson(event)))
      expect(java.hex).toBe(trickyJobs[i]!.bytes.toString('hex'))
    })
  })

  it('resolves v1 data with a v2 reader (revision "") and v2 data with a v1 reader, as we do', () => {
    const v1ToV2 = decodedOf(resolutionJobs.v1ToV2)
    expect(v1ToV2.error).toBeUndefined()
    const asV2 = JSON.parse(v1ToV2.json!) as Record<string, unknown>
    expect(asV2.revision).toBe('')
    expect(asV2).toEqual(JSON.parse(chatMessageCodec.toAvroJson({ ...tricky[1]!, revision: '' })))
    expect(chatMessageCodec.decode(resolutionJobs.v1ToV2.bytes)).toEqual({
      ...tricky[1]!,
      revision: '',
    })

    const v2ToV1 = decodedOf(resolutionJobs.v2ToV1)
    expect(v2ToV1.error).toBeUndefined()
    const asV1 = JSON.parse(v2ToV1.json!) as Record<string, unknown>
    expect('revision' in asV1).toBe(false)
    expect(asV1).toEqual(
      JSON.parse(v1Codec.toAvroJson(v1Reader.decode(resolutionJobs.v2ToV1.bytes))),
    )
    // Re-encoded by Java as v1: the bytes we write for v1.
    expect(v2ToV1.hex).toBe(chatMessageCodec.encode(tricky[2]!, { version: 1 }).toString('hex'))
  })

  it('resolves a later version (test-only v3) with a v2 reader and back, as we do', () => {
    const v3ToV2 = decodedOf(resolutionJobs.v3ToV2)
    expect(v3ToV2.error).toBeUndefined()
    const asV2 = JSON.parse(v3ToV2.json!) as Record<string, unknown>
    expect(asV2.sender).toBe('other')
    expect(asV2).toEqual(JSON.parse(chatMessageCodec.toAvroJson(readsV2.decode(v3Event))))

    const v2ToV3 = decodedOf(resolutionJobs.v2ToV3)
    expect(v2ToV3.error).toBeUndefined()
    const asV3 = JSON.parse(v2ToV3.json!) as Record<string, unknown>
    expect(asV3.agent_id).toBeNull()
    expect(asV3).toEqual(
      JSON.parse(readsV3.toAvroJson(readsV3.decode(resolutionJobs.v2ToV3.bytes))),
    )
  })

  it('resolves AgentSentiment v1 data with a v2 reader (text figures null) and v2 data with a v1 reader, as we do', () => {
    const v1ToV2 = decodedOf(resolutionJobs.sentimentV1ToV2)
    expect(v1ToV2.error).toBeUndefined()
    const asV2 = JSON.parse(v1ToV2.json!) as Record<string, unknown>
    expect(asV2.messages_by_text_sentiment).toBeNull()
    expect(asV2.text_mean_score).toBeNull()
    const withoutText = { ...sentiment, messages_by_text_sentiment: null, text_mean_score: null }
    expect(asV2).toEqual(JSON.parse(agentSentimentCodec.toAvroJson(withoutText)))
    expect(agentSentimentCodec.decode(resolutionJobs.sentimentV1ToV2.bytes)).toEqual(withoutText)

    const v2ToV1 = decodedOf(resolutionJobs.sentimentV2ToV1)
    expect(v2ToV1.error).toBeUndefined()
    const asV1 = JSON.parse(v2ToV1.json!) as Record<string, unknown>
    expect('messages_by_text_sentiment' in asV1).toBe(false)
    expect('text_mean_score' in asV1).toBe(false)
    expect(asV1).toEqual(
      JSON.parse(
        agentSentimentV1Codec.toAvroJson(
          agentSentimentV1Reader.decode(resolutionJobs.sentimentV2ToV1.bytes),
        ),
      ),
    )
    // Re-encoded by Java as v1: the bytes we write for v1, the upstream figures untouched.
    expect(v2ToV1.hex).toBe(agentSentimentCodec.encode(sentiment, { version: 1 }).toString('hex'))
    expect(asV1.messages_by_sentiment).toEqual(sentiment.messages_by_sentiment)
  })

  it('encodes the golden JSON fixtures to exactly the golden bytes (BinaryMessageEncoder)', () => {
    Object.keys(shipped).forEach((id, i) => {
      expect(answer.encoded[i], id).toEqual({
        hex: readFileSync(join(root, `schemas/fixtures/${id}.bin`)).toString('hex'),
      })
    })
  })

  it('writes ChatMessage v2 and v1 that we decode exactly (v1 with revision "")', () => {
    const offset = Object.keys(shipped).length
    const fixture = answer.encoded[Object.keys(shipped).indexOf('chat-message.v2')]!
    expect(
      chatMessageCodec.toAvroJson(chatMessageCodec.decode(Buffer.from(fixture.hex!, 'hex'))),
    ).toBe(
      chatMessageCodec.toAvroJson(
        chatMessageCodec.fromAvroJson(read(join(root, 'schemas/fixtures/chat-message.v2.json'))),
      ),
    )
    tricky.forEach((event, i) => {
      const java = answer.encoded[offset + i]!
      expect(java.error).toBeUndefined()
      const bytes = Buffer.from(java.hex!, 'hex')
      expect(chatMessageCodec.writerVersion(bytes)).toBe(2)
      expect(chatMessageCodec.decode(bytes)).toEqual(event)
      expect(bytes.equals(chatMessageCodec.encode(event))).toBe(true)
    })
    const v1 = answer.encoded[offset + tricky.length]!
    expect(v1.error).toBeUndefined()
    const v1Bytes = Buffer.from(v1.hex!, 'hex')
    expect(chatMessageCodec.writerVersion(v1Bytes)).toBe(1)
    expect(chatMessageCodec.decode(v1Bytes)).toEqual({ ...tricky[4]!, revision: '' })
  })

  it('reads wall-clock times in a zone as java.time does, DST folds and gaps included', () => {
    zoneCases.forEach(({ zone, local, utc }, i) => {
      expect(answer.zones[i], `${zone} ${local}`).toBe(Date.parse(utc))
      expect(upstreamDateToEpochMs(local, zone)).toBe(Date.parse(utc))
    })
  })
})
