/*
 * Cross-checks the event contract with another language: a small Java program built against
 * Apache Avro from Maven Central (test/interop/avro-java) computes fingerprints and canonical forms,
 * decodes our single-object events with BinaryMessageDecoder (resolving v1 and v2 both ways),
 * encodes the golden fixtures from their Avro JSON, and reads wall-clock times with java.time.
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
  chatMessageCodec,
  createEventCodec,
  parsingCanonicalForm,
  parsingFingerprint64,
  pollerCheckpointCodec,
  schemaVersions,
  tramiteClassificationCodec,
  upstreamDateToEpochMs,
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

const shipped: Record<string, { codec: EventCodec<unknown>; version: SchemaVersion }> = {
  'chat-message.v1': {
    codec: chatMessageCodec,
    version: schemaVersions.chatMessage[0],
  },
  'poller-checkpoint.v1': {
    codec: pollerCheckpointCodec,
    version: schemaVersions.pollerCheckpoint[0],
  },
  'agent-sentiment.v1': {
    codec: agentSentimentCodec,
    version: schemaVersions.agentSentiment[0],
  },
  'tramite-classification.v1': {
    codec: tramiteClassificationCodec,
    version: schemaVersions.tramiteClassification[0],
  },
}
const v2Text = read(join(fixtures, 'evolution/chat-message.v2.avsc'))
const v2: SchemaVersion = { version: 2, schema: JSON.parse(v2Text) as SchemaVersion['schema'] }
const readsV2 = createEventCodec<ChatMessage & { agent_id: string | null }>({
  reader: v2,
  writers: [schemaVersions.chatMessage[0], v2],
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
  const v2Event = readsV2.encode({ ...tricky[0]!, agent_id: 'A-7', sender: 'system' as never })
  const decodeJobs: { reader: string; writers: string[]; bytes: Buffer }[] = [
    ...Object.keys(shipped).map((id) => ({
      reader: id,
      writers: [id],
      bytes: readFileSync(join(root, `schemas/fixtures/${id}.bin`)),
    })),
    ...tricky.map((event) => ({
      reader: 'chat-message.v1',
      writers: ['chat-message.v1'],
      bytes: chatMessageCodec.encode(event),
    })),
    // v1 data through a v2 reader, and v2 data through a v1 reader.
    {
      reader: 'chat-message.v2',
      writers: ['chat-message.v1', 'chat-message.v2'],
      bytes: chatMessageCodec.encode(tricky[1]!),
    },
    { reader: 'chat-message.v1', writers: ['chat-message.v1', 'chat-message.v2'], bytes: v2Event },
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
    const schemas: Record<string, string> = { 'chat-message.v2': v2Text }
    for (const id of Object.keys(shipped)) schemas[id] = read(join(root, `schemas/${id}.avsc`))
    const job = {
      schemas,
      vectors: vectors.map((v) => v.input),
      decode: decodeJobs.map(({ reader, writers, bytes }) => ({
        reader,
        writers,
        hex: bytes.toString('hex'),
      })),
      encode: Object.keys(shipped).map((id) => ({
        schema: id,
        json: read(join(root, `schemas/fixtures/${id}.json`)),
      })),
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
    const ours: Record<string, SchemaVersion> = { 'chat-message.v2': v2 }
    for (const [id, { version }] of Object.entries(shipped)) ours[id] = version
    for (const [id, version] of Object.entries(ours)) {
      expect(answer.schemas[id], id).toEqual({
        canonical: parsingCanonicalForm(version.schema),
        fingerprint: parsingFingerprint64(version.schema).toString(),
      })
    }
    expect(answer.schemas['chat-message.v1']!.fingerprint).toBe(
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
    Object.keys(shipped).forEach((id, i) => {
      const java = answer.decoded[i]!
      expect(java.error, id).toBeUndefined()
      expect(JSON.parse(java.json!)).toEqual(
        JSON.parse(read(join(root, `schemas/fixtures/${id}.json`))),
      )
      expect(java.hex).toBe(decodeJobs[i]!.bytes.toString('hex'))
    })
  })

  it('decodes events with emoji, RTL text, NUL and 100 KB messages exactly', () => {
    const offset = Object.keys(shipped).length
    tricky.forEach((event, i) => {
      const java = answer.decoded[offset + i]!
      expect(java.error).toBeUndefined()
      expect(JSON.parse(java.json!)).toEqual(JSON.parse(chatMessageCodec.toAvroJson(event)))
      expect(java.hex).toBe(decodeJobs[offset + i]!.bytes.toString('hex'))
    })
  })

  it('resolves v1 data with a v2 reader and v2 data with a v1 reader, as we do', () => {
    const [v1ToV2, v2ToV1] = answer.decoded.slice(-2) as [
      Answer['decoded'][0],
      Answer['decoded'][0],
    ]
    expect(v1ToV2.error).toBeUndefined()
    const asV2 = JSON.parse(v1ToV2.json!) as Record<string, unknown>
    expect(asV2.agent_id).toBeNull()
    expect(asV2).toEqual(JSON.parse(readsV2.toAvroJson(readsV2.decode(decodeJobs.at(-2)!.bytes))))
    expect(v2ToV1.error).toBeUndefined()
    const asV1 = JSON.parse(v2ToV1.json!) as Record<string, unknown>
    expect(asV1.sender).toBe('other')
    expect(asV1).toEqual(
      JSON.parse(
        chatMessageCodec.toAvroJson(
          createEventCodec<ChatMessage>({
            reader: schemaVersions.chatMessage[0],
            writers: [schemaVersions.chatMessage[0], v2],
          }).decode(v2Event),
        ),
      ),
    )
  })

  it('encodes the golden JSON fixtures to exactly the golden bytes (BinaryMessageEncoder)', () => {
    Object.keys(shipped).forEach((id, i) => {
      expect(answer.encoded[i], id).toEqual({
        hex: readFileSync(join(root, `schemas/fixtures/${id}.bin`)).toString('hex'),
      })
    })
  })

  it('reads wall-clock times in a zone as java.time does, DST folds and gaps included', () => {
    zoneCases.forEach(({ zone, local, utc }, i) => {
      expect(answer.zones[i], `${zone} ${local}`).toBe(Date.parse(utc))
      expect(upstreamDateToEpochMs(local, zone)).toBe(Date.parse(utc))
    })
  })
})
