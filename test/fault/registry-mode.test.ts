/*
 * Registry mode (issue 19) on a real Apicurio Registry (its Confluent-compatible API) and a real
 * broker: with SCHEMA_REGISTRY_URL every producer of the product registers its schema under
 * `<topic>-value` (compatibility BACKWARD on a new subject) and writes the Confluent wire format;
 * every consumer reads both formats.
 * 1. poller `run`, the sentiment aggregator and the trámite classifier in registry mode: the topic
 *    equals the simulator's truth, the answers their references, every record is `00` + a schema
 *    id, and the subjects are registered; a Java consumer with Apicurio's Kafka Avro deserializer
 *    (test/interop/registry-java), in a real consumer group, reads the same records;
 * 2. a topic moving from single-object to registry mid-stream, then written with a newer schema
 *    (an optional field the product does not ship) that the registry accepts: read completely;
 * 3. an incompatible schema refused with the registry's message; a registry that does not answer
 *    stops the poller at start with SCHEMA_REGISTRY_UNAVAILABLE.
 *
 * Its own broker, redis-server and registry, one file at a time like every fault test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  freePort,
  startSchemaRegistry,
  type SchemaRegistry as RunningRegistry,
} from '@wolkvox-chat-stream/dev-stack'
import {
  createEventCodec,
  decodeChatMessage,
  encodeChatMessage,
  registrySchemaId,
  schemaVersions,
  topicKeys,
  topics,
  type ChatMessage,
} from '@wolkvox-chat-stream/events'
import { readTopicToEnd } from '@wolkvox-chat-stream/kafka'
import {
  createSchemaRegistry,
  valueSubject,
  type SchemaRegistry,
} from '@wolkvox-chat-stream/schema-registry'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { produceRaw, wholeChats } from '../support/chat-events.js'
import {
  expectTramiteCounts,
  startClassifier,
  stopClusterFile,
  truthSnapshot,
} from '../support/cluster-pipeline.js'
import {
  expectAnswers,
  startAggregator,
  startPollerRun,
  stopPollerRun,
  waitForWatermark,
  type RunningPoller,
} from '../support/fault-pipeline.js'
import { startFaultStack, type FaultStack } from '../support/fault-stack.js'
import {
  compareWithTruth,
  expectedMessages,
  newServerCode,
  pollerEnv,
} from '../support/poller-harness.js'
import { runPoller } from '../support/poller-service-harness.js'
import { buildRegistryConsumer } from '../support/registry-java.js'
import { referenceSnapshot } from '../support/sentiment-reference.js'
import { createTopic } from '../support/topics.js'
import { uniqueName } from '../support/wait-for.js'

const HOUR = 3_600_000
const TOKEN = 'registry-mode-token-7c1e'
const report = (line: string): void => {
  process.stderr.write(`[registry-mode] ${line}\n`)
}

describe('registry mode: the Confluent wire format with a real schema registry', () => {
  let stack: FaultStack
  let registry: RunningRegistry
  let client: SchemaRegistry
  let sim: RunningSimulator
  const services: ConsumerService[] = []
  const pollers: RunningPoller[] = []

  beforeAll(async () => {
    const started = Date.now()
    ;[stack, registry] = await Promise.all([startFaultStack({ nodes: 1 }), startSchemaRegistry()])
    client = createSchemaRegistry({ url: registry.ccompatUrl })
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 120, seed: 37 })
    report(
      `broker ${stack.brokers}, registry ${registry.ccompatUrl} (ready in ${registry.readyMs} ms); ${Date.now() - started} ms in all`,
    )
  }, 240_000)

  afterAll(async () => {
    await client?.close()
    await stopClusterFile({ pollers, services, sim, stack })
    await registry?.stop()
  }, 120_000)

  const registryEnv = () => ({ SCHEMA_REGISTRY_URL: registry.ccompatUrl })

  /** The compatibility a subject has, as the registry answers it. */
  const compatibilityOf = async (subject: string): Promise<string> => {
    const response = await fetch(`${registry.ccompatUrl}/config/${encodeURIComponent(subject)}`)
    expect(response.status, subject).toBe(200)
    const body = (await response.json()) as { compatibilityLevel?: string; compatibility?: string }
    return body.compatibilityLevel ?? body.compatibility ?? ''
  }

  it('runs poller, aggregator and classifier in registry mode: everything equals the reference, every record 00 + a schema id', async () => {
    const aggregatorOutput = uniqueName('registry-sentiment-out')
    const aggregator = await startAggregator(stack, {
      name: uniqueName('registry-sentiment'),
      outputTopic: aggregatorOutput,
      env: registryEnv(),
    })
    services.push(aggregator)
    const classifier = await startClassifier(stack, { env: registryEnv() })
    services.push(classifier)
    const startMs = Math.floor((Date.now() - 3 * HOUR) / 1000) * 1000
    const poller = await startPollerRun({
      stack,
      sim,
      token: TOKEN,
      startMs,
      extra: { ...registryEnv(), POLL_MAX_WINDOW: '30m' },
    })
    pollers.push(poller)
    await waitForWatermark(poller, Date.now() - 10_000, 180_000)
    const watermark = await stopPollerRun(poller)
    const server = poller.server

    const records = await readTopicToEnd(stack.kafka, topics.chatMessage.name, {
      timeoutMs: 60_000,
    })
    const values = records.map((r) => r.value!)
    const ids = new Set(values.map((v) => registrySchemaId(v)))
    expect([...ids].every((id) => id !== undefined)).toBe(true)
    expect(ids.size).toBe(1)
    await client.prepare(values)
    const events = values.map((v) => decodeChatMessage(v)).filter((e) => e.server === server)
    const expected = expectedMessages(
      sim.truth({ from: new Date(startMs), to: new Date(watermark) }),
      server,
    )
    const diff = compareWithTruth(events, expected)
    expect(expected.size).toBeGreaterThan(300)
    expect(diff.missing).toEqual([])
    expect(diff.unexpected).toEqual([])
    expect(diff.wrong).toEqual([])
    await expectAnswers(aggregator, server, truthSnapshot(sim, server, startMs, watermark), 120_000)
    const conversations = await expectTramiteCounts({
      classifier,
      sim,
      server,
      fromMs: startMs,
      toMs: watermark,
      timeoutMs: 120_000,
    })

    // Every topic the product wrote: the Confluent wire format, under its subject, BACKWARD.
    const written = [
      topics.chatMessage.name,
      topics.pollerCheckpoint.name,
      aggregatorOutput,
      classifier.outputTopic,
    ]
    for (const topic of written) {
      const outputs = await readTopicToEnd(stack.kafka, topic, { timeoutMs: 60_000 })
      expect(outputs.length, topic).toBeGreaterThan(0)
      expect(outputs.filter((r) => registrySchemaId(r.value!) === undefined).length, topic).toBe(0)
      expect(await compatibilityOf(valueSubject(topic))).toBe('BACKWARD')
    }
    report(
      `registry pipeline: ${expected.size} messages, ${events.length} records (schema id ${[...ids].join(', ')}), missing 0, ` +
        `${conversations} conversations classified; subjects ${written.map(valueSubject).join(', ')}`,
    )

    // Another language: Java with Apicurio's Kafka Avro deserializer, in a real consumer group,
    // gets the same records (every field the product's reader sees that the line carries).
    const java = await buildRegistryConsumer()
    const read = await java.run({
      brokers: stack.brokers,
      topic: topics.chatMessage.name,
      registryUrl: `${registry.url}/apis/registry/v3`,
      groupId: uniqueName('java-registry'),
      count: records.length,
      timeoutMs: 60_000,
    })
    const byPlace = (r: { partition: number; offset: number }) => `${r.partition}:${r.offset}`
    const ours = new Map(
      records.map((r, i) => {
        const e = decodeChatMessage(values[i]!)
        return [
          byPlace({ partition: r.partition, offset: Number(r.offset) }),
          {
            key: r.key?.toString() ?? null,
            event_id: e.event_id,
            conn_id: e.conn_id,
            server: e.server,
            message: e.message,
            sent_at: e.sent_at.getTime(),
            revision: e.revision,
          },
        ]
      }),
    )
    const theirs = new Map(
      read.records.map((r) => [
        byPlace(r),
        {
          key: r.key,
          event_id: r.event_id,
          conn_id: r.conn_id,
          server: r.server,
          message: r.message,
          sent_at: r.sent_at,
          revision: r.revision,
        },
      ]),
    )
    expect(theirs.size).toBe(ours.size)
    expect(theirs).toEqual(ours)
    report(
      `Java (Apicurio AvroKafkaDeserializer, consumer group): ${theirs.size} of ${ours.size} records equal, in ${read.ms} ms (built in ${java.buildMs} ms, Java ${java.javaMajor})`,
    )
  })

  it('reads a topic that moves from single-object to registry mid-stream, then to a newer schema the product does not ship', async () => {
    const topic = uniqueName('registry-mixed')
    const admin = stack.kafka.admin()
    await admin.connect()
    try {
      await createTopic(admin, topic, 6)
    } finally {
      await admin.disconnect()
    }
    const server = newServerCode()
    const events = wholeChats(1500, 41, server)
    const third = Math.floor(events.length / 3)
    const v2 = schemaVersions.chatMessage.find((v) => v.version === 2)!
    const v2Id = await client.register(valueSubject(topic), v2.schema)
    // v3: a new optional field, as a later producer might add; BACKWARD accepts it.
    const v3Schema = {
      ...v2.schema,
      fields: [
        ...(v2.schema.fields as object[]),
        { name: 'queue', type: ['null', 'string'], default: null, doc: 'A later field.' },
      ],
    }
    const v3Id = await client.register(valueSubject(topic), v3Schema)
    expect(v3Id).not.toBe(v2Id)
    const v3 = createEventCodec<ChatMessage & { queue: string | null }>({
      reader: { version: 3, schema: v3Schema },
    })
    const record = (event: ChatMessage, value: Buffer) => ({
      topic,
      key: topicKeys.chatMessage(event),
      value,
    })
    await produceRaw(stack.kafka, [
      ...events.slice(0, third).map((e) => record(e, encodeChatMessage(e))),
      ...events
        .slice(third, 2 * third)
        .map((e) => record(e, encodeChatMessage(e, { registryId: v2Id }))),
      ...events
        .slice(2 * third)
        .map((e) => record(e, v3.encode({ ...e, queue: 'ventas' }, { registryId: v3Id }))),
    ])
    const aggregator = await startAggregator(stack, {
      name: uniqueName('registry-mixed'),
      outputTopic: uniqueName('registry-mixed-out'),
      env: { ...registryEnv(), CONSUMER_INPUT_TOPIC: topic },
    })
    services.push(aggregator)
    await expectAnswers(aggregator, server, referenceSnapshot(events, server), 120_000)
    expect(aggregator.status().stats).toMatchObject({ deadLettered: 0 })
    report(
      `mixed topic: ${third} single-object, ${third} registry v2 (id ${v2Id}), ${events.length - 2 * third} registry v3 (id ${v3Id}): all applied, dead-lettered 0`,
    )
  })

  it("refuses an incompatible schema with the registry's message, and stops the poller at start when the registry does not answer", async () => {
    const topic = uniqueName('registry-refused')
    const v2 = schemaVersions.chatMessage.find((v) => v.version === 2)!
    await client.register(valueSubject(topic), v2.schema)
    // A new required field: data written before cannot be read with it (BACKWARD refuses).
    const incompatible = {
      ...v2.schema,
      fields: [...(v2.schema.fields as object[]), { name: 'queue', type: 'string' }],
    }
    const refused = await client.register(valueSubject(topic), incompatible).then(
      () => undefined,
      (error: unknown) => error as { code: string; message: string },
    )
    expect(refused?.code).toBe('SCHEMA_REGISTRY_REFUSED')
    report(`incompatible schema: ${refused?.message ?? ''}`)

    const nobody = `http://127.0.0.1:${await freePort()}/apis/ccompat/v7`
    const started = Date.now()
    const result = await runPoller(
      ['once'],
      pollerEnv({
        server: newServerCode(),
        token: TOKEN,
        simulatorUrl: sim.url,
        kafkaBrokers: stack.brokers,
        redisUrl: stack.redisUrl,
        extra: { SCHEMA_REGISTRY_URL: nobody },
      }),
    )
    expect(result.code, result.stderr).toBe(1)
    expect(result.stderr).toContain('SCHEMA_REGISTRY_UNAVAILABLE')
    expect(result.stderr).not.toContain('still running')
    expect(Date.now() - started).toBeLessThan(30_000)
    report(`registry down at start: poller exit 1 after ${Date.now() - started} ms`)
  })
})
