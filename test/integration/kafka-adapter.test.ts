import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  buildChatMessages,
  decodeChatMessage,
  encodeChatMessage,
  productTopics,
  topicKeys,
  type ChatMessage,
} from '@wolkvox-chat-stream/events'
import {
  createConsumer,
  createEventProducer,
  createKafkaClient,
  provisionTopics,
  runBatches,
  type EventProducer,
  type Kafka,
  type TopicSpec,
} from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { uniqueName, waitFor } from '../support/wait-for.js'

/** The contract's topics under names unique to one test. */
const uniqueTopics = (prefix: string): TopicSpec[] => {
  const suffix = uniqueName(prefix)
  return productTopics.map((spec) => ({ ...spec, name: `${spec.name}.${suffix}` }))
}

function chatEvents(count: number, bigMessageBytes = 0): ChatMessage[] {
  const conversation = Array.from({ length: count }, (_, i) => ({
    channel: 'whatsapp',
    from: i % 2 === 0 ? 'CUSTOMER' : 'AGENT',
    from_name: i % 2 === 0 ? 'Zoë' : 'Ana',
    to_name: i % 2 === 0 ? 'Ana' : 'Zoë',
    date: `2025-02-11 10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}`,
    message:
      i === 0 && bigMessageBytes > 0
        ? `<img src="data:image/png;base64,${randomBytes((bigMessageBytes * 3) / 4).toString('base64')}">`
        : `mensaje ${i} ✓`,
    customer_id: '573001234567',
  }))
  const { events, rejected } = buildChatMessages(
    { conn_id: uniqueName('chat'), agent_name: 'Ana', customer_name: 'Zoë', conversation },
    {
      server: '0010',
      zone: 'America/Bogota',
      window: { start: new Date('2025-02-11T15:00:00Z'), end: new Date('2025-02-11T16:00:00Z') },
      polledAt: new Date(),
    },
  )
  expect(rejected).toEqual([])
  return events
}

describe('the Kafka adapter on the real broker', () => {
  let kafka: Kafka
  const logLines: string[] = []

  beforeAll(() => {
    const logger = createLogger({
      name: 'kafka-adapter-test',
      // kafkajs's info records (the group join) are debug in the project (kafka-log.ts).
      level: 'debug',
      stream: { write: (line) => logLines.push(line) },
    })
    kafka = createKafkaClient({
      brokers: [inject('kafkaBrokers')],
      clientId: 'adapter-test',
      logger,
    })
  })

  it('provisions every contract topic with its settings, and again without harm', async () => {
    const specs = uniqueTopics('provision')
    const first = await provisionTopics(kafka, specs, { create: true })
    expect(first.created.sort()).toEqual(specs.map((s) => s.name).sort())
    const second = await provisionTopics(kafka, specs, { create: true })
    expect(second).toEqual({ created: [], verified: specs.map((s) => s.name) })
    // Verify-only mode accepts what is there.
    await expect(provisionTopics(kafka, specs, { create: false })).resolves.toMatchObject({
      created: [],
    })

    const admin = kafka.admin()
    await admin.connect()
    try {
      const message = specs.find((s) => s.name.startsWith('wolkvox.chat.message.v1.'))!
      const metadata = await admin.fetchTopicMetadata({ topics: [message.name] })
      expect(metadata.topics[0]!.partitions).toHaveLength(6)
      const described = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: message.name }],
      })
      const config = Object.fromEntries(
        described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]),
      )
      expect(config).toMatchObject({
        'cleanup.policy': 'delete',
        'retention.ms': String(30 * 86_400_000),
        'max.message.bytes': String(17 * 1024 * 1024),
      })
    } finally {
      await admin.disconnect()
    }
  })

  it('in verify-only mode, lists every missing topic and every differing setting', async () => {
    const specs = uniqueTopics('verify')
    const [message, sentiment] = specs as [TopicSpec, TopicSpec]
    const admin = kafka.admin()
    await admin.connect()
    try {
      // Created behind the adapter's back, as an operator would; waitForLeaders is not used
      // because kafkajs does not retry KRaft's brief "unknown topic" right after a creation.
      await admin.createTopics({
        waitForLeaders: false,
        topics: [
          {
            topic: message.name,
            numPartitions: 2,
            replicationFactor: 1,
            configEntries: [
              { name: 'cleanup.policy', value: 'compact' },
              { name: 'max.message.bytes', value: '1048588' },
            ],
          },
        ],
      })
      await waitFor(
        async () =>
          (await admin.fetchTopicMetadata({ topics: [message.name] })).topics[0]!.partitions.every(
            (p) => p.leader >= 0,
          ),
        { what: 'the hand-made topic to have leaders' },
      )
    } finally {
      await admin.disconnect()
    }
    const error = await provisionTopics(kafka, specs, { create: false }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string; details: { mismatches: unknown[] } },
    )
    expect(error?.code).toBe('KAFKA_TOPIC_MISMATCH')
    expect(error?.details.mismatches).toEqual(
      expect.arrayContaining([
        { topic: message.name, setting: 'partitions', expected: 'at least 6', actual: '2' },
        { topic: message.name, setting: 'cleanup.policy', expected: 'delete', actual: 'compact' },
        expect.objectContaining({ topic: message.name, setting: 'retention.ms' }),
        expect.objectContaining({ topic: message.name, setting: 'max.message.bytes' }),
        { topic: sentiment.name, setting: 'exists', expected: 'yes', actual: 'missing' },
      ]),
    )
    expect(error?.details.mismatches).toHaveLength(4 + specs.length - 1)
    expect(error?.message).toContain(`${message.name}: partitions is 2, expected at least 6`)
    // Create mode never alters an existing topic: the mismatch stays an error.
    await expect(provisionTopics(kafka, specs, { create: true })).rejects.toMatchObject({
      code: 'KAFKA_TOPIC_MISMATCH',
    })
  })

  describe('producing and consuming', () => {
    let producer: EventProducer
    let topic: string

    beforeAll(async () => {
      const specs = uniqueTopics('roundtrip')
      await provisionTopics(kafka, specs, { create: true })
      topic = specs[0]!.name
      producer = createEventProducer(kafka)
      await producer.connect()
    })

    afterAll(async () => {
      await producer?.disconnect()
    })

    it('produces a 10 MB event and ordinary ones and reads them back through a group', async () => {
      const big = chatEvents(1, 10 * 1024 * 1024)
      const ordinary = chatEvents(500)
      const sent = [...ordinary.slice(0, 250), ...big, ...ordinary.slice(250)]
      const bigBytes = encodeChatMessage(big[0]!).length
      expect(bigBytes).toBeGreaterThan(10 * 1024 * 1024)

      const metadata = await producer.send(
        sent.map((event) => ({
          topic,
          key: topicKeys.chatMessage(event),
          value: encodeChatMessage(event),
        })),
      )
      expect(metadata.every((m) => m.errorCode === 0)).toBe(true)

      const received = new Map<string, { event: ChatMessage; bytes: number; partition: number }>()
      const consumer = createConsumer(kafka, { groupId: uniqueName('adapter-group') })
      await runBatches(consumer, {
        topics: [topic],
        eachBatch: async (payload) => {
          const { batch } = payload
          for (const message of batch.messages) {
            const event = decodeChatMessage(message.value!)
            expect(message.key!.toString()).toBe(event.conn_id)
            received.set(event.event_id, {
              event,
              bytes: message.value!.length,
              partition: batch.partition,
            })
          }
          await payload.heartbeat()
        },
      })
      try {
        await waitFor(() => received.size >= sent.length, {
          what: `${sent.length} events`,
          timeoutMs: 90_000,
        })
      } finally {
        await consumer.disconnect()
      }
      expect([...received.keys()].sort()).toEqual(sent.map((e) => e.event_id).sort())
      const bigOne = received.get(big[0]!.event_id)!
      expect(bigOne.bytes).toBe(bigBytes)
      expect(bigOne.event.message).toBe(big[0]!.message)
      expect(received.get(ordinary[7]!.event_id)!.event).toEqual(ordinary[7])
      // kafkajs's own log records (the group join) reached the project logger.
      expect(logLines.some((line) => line.includes('"msg":"kafka: '))).toBe(true)
    })

    it('refuses a record over 16 MB before sending anything', async () => {
      const huge = { topic, key: 'k', value: Buffer.alloc(16 * 1024 * 1024 + 1) }
      await expect(
        producer.send([{ topic, key: 'k', value: 'small' }, huge]),
      ).rejects.toMatchObject({
        code: 'KAFKA_RECORD_TOO_LARGE',
        retriable: false,
        details: { index: 1 },
      })
    })

    it('maps a missing topic to a clear retriable error', async () => {
      const quick = createEventProducer(kafka, { retries: 1 })
      await quick.connect()
      try {
        await expect(
          quick.send([{ topic: uniqueName('never-provisioned'), key: 'k', value: 'v' }]),
        ).rejects.toMatchObject({ code: 'KAFKA_UNAVAILABLE', retriable: true })
      } finally {
        await quick.disconnect()
      }
    })
  })
})
