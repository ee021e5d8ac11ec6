import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { createKafkaClient, waitForKafka, type Admin, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createTopic } from '../support/topics.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

describe('the private Kafka broker', () => {
  let kafka: Kafka
  let admin: Admin

  beforeAll(async () => {
    kafka = createKafkaClient({ brokers: [inject('kafkaBrokers')], clientId: 'foundation-test' })
    admin = kafka.admin()
    await admin.connect()
  })

  afterAll(async () => {
    await admin.disconnect()
  })

  it('creates a topic with several partitions and reports them in its metadata', async () => {
    const topic = uniqueName('meta')
    await createTopic(admin, topic, 6, [{ name: 'cleanup.policy', value: 'compact' }])
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    const partitions = metadata.topics[0]!.partitions
    expect(partitions.map((p) => p.partitionId).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5])
    for (const p of partitions) expect(p.leader).toBeGreaterThanOrEqual(0)
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: topic }],
    })
    const policy = configs.resources[0]!.configEntries.find(
      (e) => e.configName === 'cleanup.policy',
    )
    expect(policy?.configValue).toBe('compact')
  })

  it('is ready only for the cluster id it is asked for (a broker of another cluster on the port is not)', async () => {
    const { clusterId } = await admin.describeCluster()
    const brokers = [inject('kafkaBrokers')]
    await waitForKafka(brokers, { timeoutMs: 20_000, clusterId })
    const wrong = await waitForKafka(brokers, {
      timeoutMs: 2_000,
      clusterId: `${clusterId}x`,
    }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(isAppError(wrong, 'KAFKA_UNAVAILABLE')).toBe(true)
    expect(String((wrong as Error).cause)).toContain(`of cluster ${clusterId}, not ${clusterId}x`)
  })

  it('refuses to create a topic implicitly (provisioning must be explicit)', async () => {
    const producer = kafka.producer({ retry: { retries: 1 } })
    await producer.connect()
    try {
      await expect(
        producer.send({ topic: uniqueName('absent'), messages: [{ value: 'x' }] }),
      ).rejects.toThrow()
    } finally {
      await producer.disconnect()
    }
  })

  it('delivers produced records to a consumer group, keyed and in partition order', async () => {
    const topic = uniqueName('roundtrip')
    await createTopic(admin, topic, 3)
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const sent = Array.from({ length: 300 }, (_, i) => ({
      key: `chat-${i % 7}`,
      value: `message-${i}`,
    }))
    await producer.send({ topic, acks: -1, messages: sent })
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: uniqueName('group') })
    const received: { key: string; value: string; partition: number }[] = []
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      eachMessage: ({ message, partition }) => {
        received.push({ key: message.key!.toString(), value: message.value!.toString(), partition })
        return Promise.resolve()
      },
    })
    try {
      await waitFor(() => received.length >= sent.length, {
        what: 'all 300 records',
        timeoutMs: 60_000,
      })
    } finally {
      await consumer.disconnect()
    }
    expect(received.map((r) => r.value).sort()).toEqual(sent.map((s) => s.value).sort())
    // Same key, same partition, and per key the order of sending is kept.
    for (let k = 0; k < 7; k++) {
      const forKey = received.filter((r) => r.key === `chat-${k}`)
      expect(new Set(forKey.map((r) => r.partition)).size).toBe(1)
      expect(forKey.map((r) => r.value)).toEqual(
        sent.filter((s) => s.key === `chat-${k}`).map((s) => s.value),
      )
    }
  })

  it('commits the group offsets so a restarted member resumes after them', async () => {
    const topic = uniqueName('resume')
    const groupId = uniqueName('group')
    await createTopic(admin, topic, 1)
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] })

    const seen: string[] = []
    const consumeUntil = async (count: number): Promise<void> => {
      const consumer = kafka.consumer({ groupId })
      await consumer.connect()
      await consumer.subscribe({ topic, fromBeginning: true })
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.push(message.value!.toString())
          return Promise.resolve()
        },
      })
      try {
        await waitFor(() => seen.length >= count, { what: `${count} records`, timeoutMs: 60_000 })
      } finally {
        await consumer.disconnect()
      }
    }
    await consumeUntil(2)
    await producer.send({ topic, messages: [{ value: 'c' }] })
    await producer.disconnect()
    await consumeUntil(3)
    expect(seen).toEqual(['a', 'b', 'c'])
  })
})
