/*
 * Fault: Kafka as users run it, three KRaft nodes with replication factor 3 and
 * min.insync.replicas 2. The product's topics are provisioned with both; the project's producer
 * (acks=all, idempotent) and a consumer group work across the nodes; the leader of a partition is
 * killed (SIGKILL) while records are produced, and no acknowledged record is missing afterwards;
 * the node comes back and every replica is in sync again. With two nodes down a write cannot
 * reach two in-sync replicas: it fails with KAFKA_UNAVAILABLE in bounded time, not a hang, and
 * succeeds once one node is back.
 *
 * Its own cluster and redis-server (startFaultStack), one file at a time like every fault test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAlive } from '@wolkvox-chat-stream/dev-stack'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { productTopics } from '@wolkvox-chat-stream/events'
import {
  createConsumer,
  createEventProducer,
  provisionTopics,
  readTopicToEnd,
  runBatches,
  type Admin,
  type EventProducer,
  type TopicSpec,
} from '@wolkvox-chat-stream/kafka'
import { startFaultStack, type FaultStack } from '../support/fault-stack.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const NODES = 3

/** A test topic provisioned like a product topic: three partitions, so every node leads one. */
const specOf = (name: string): TopicSpec => ({
  name,
  partitions: 3,
  cleanupPolicy: 'delete',
  maxMessageBytes: 1_048_588,
})

describe('a three-node KRaft cluster (replication factor 3, min.insync.replicas 2)', () => {
  let stack: FaultStack
  let admin: Admin
  const producers: EventProducer[] = []

  beforeAll(async () => {
    const started = Date.now()
    stack = await startFaultStack({ nodes: NODES })
    admin = stack.kafka.admin()
    await admin.connect()
    process.stderr.write(
      `[kafka-cluster] ${NODES} nodes at ${stack.bootstrap.join(',')}: cluster ready in ${stack.broker.readyMs()} ms, ` +
        `with redis and the product topics ${Date.now() - started} ms\n`,
    )
  }, 240_000)

  afterAll(async () => {
    for (const producer of producers) await producer.disconnect().catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
    const pids = stack?.broker.pids() ?? []
    await stack?.stop()
    // Every node's JVM is gone, even after a failed test.
    for (const pid of pids) expect(isAlive(pid)).toBe(false)
  }, 120_000)

  const cluster = () => {
    const c = stack.cluster
    if (!c) throw new Error('startFaultStack({ nodes: 3 }) returned no cluster')
    return c
  }

  /** A topic's partitions, once the broker asked knows it (each learns of a new topic on its own time). */
  async function partitionsOf(topic: string) {
    return waitFor(
      async () => {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
        const partitions = metadata.topics[0]?.partitions ?? []
        return partitions.length > 0 ? partitions : null
      },
      { what: `the metadata of ${topic}`, timeoutMs: 30_000, intervalMs: 200 },
    )
  }

  async function newProducer(options: Parameters<typeof createEventProducer>[1] = {}) {
    const producer = createEventProducer(stack.kafka, options)
    producers.push(producer)
    await producer.connect()
    return producer
  }

  it('runs every node with the replication users run, and provisions the product topics on three replicas with a minimum of two in sync', async () => {
    const described = await admin.describeCluster()
    expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3])
    expect(cluster().nodes.map((n) => n.running())).toEqual([true, true, true])

    for (const spec of productTopics) {
      const partitions = await partitionsOf(spec.name)
      expect(partitions.length, spec.name).toBeGreaterThanOrEqual(spec.partitions)
      for (const p of partitions) {
        expect(p.replicas.length, `${spec.name}/${p.partitionId} replicas`).toBe(3)
        expect(p.isr.length, `${spec.name}/${p.partitionId} isr`).toBe(3)
      }
    }
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: productTopics.map((spec) => ({
        type: 2, // TOPIC
        name: spec.name,
        configNames: ['min.insync.replicas'],
      })),
    })
    for (const resource of configs.resources) {
      const entry = resource.configEntries.find((e) => e.configName === 'min.insync.replicas')
      expect(entry?.configValue, resource.resourceName).toBe('2')
      // Set on the topic itself at creation (source TOPIC_CONFIG, 1), not inherited from the broker.
      expect(entry?.configSource, resource.resourceName).toBe(1)
    }

    // Verify-only, as a service with KAFKA_CREATE_TOPICS=false and the cluster's settings: clean.
    await expect(
      provisionTopics(stack.kafka, productTopics, {
        create: false,
        replicationFactor: 3,
        minInsyncReplicas: 2,
      }),
    ).resolves.toMatchObject({ created: [] })
    // Asking for more than the topics have is reported, topic by topic.
    const stricter = await provisionTopics(stack.kafka, productTopics, {
      create: false,
      minInsyncReplicas: 3,
    }).catch((error: unknown) => error)
    expect(isAppError(stricter, 'KAFKA_TOPIC_MISMATCH')).toBe(true)
    const mismatches = (stricter as { details: { mismatches: { setting: string }[] } }).details
      .mismatches
    expect(mismatches.map((m) => m.setting)).toEqual(productTopics.map(() => 'min.insync.replicas'))

    // A topic someone created by hand with three replicas but a minimum of one is reported by
    // default: an acks=all write on it could be acknowledged by one broker and lost with it.
    const weak = uniqueName('weak')
    // Leaders are awaited below: kafkajs's own wait fails on KRaft ("does not host this topic-partition").
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: weak,
          numPartitions: 1,
          replicationFactor: 3,
          configEntries: [
            { name: 'cleanup.policy', value: 'delete' },
            { name: 'max.message.bytes', value: '1048588' },
            { name: 'min.insync.replicas', value: '1' },
          ],
        },
      ],
    })
    // Each broker learns of the new topic on its own time: wait until the check sees it.
    const reported = await waitFor(
      async () => {
        const error = await provisionTopics(stack.kafka, [specOf(weak)], { create: false }).then(
          () => null,
          (e: unknown) => e,
        )
        const mismatches = (error as { details?: { mismatches?: { setting: string }[] } } | null)
          ?.details?.mismatches
        return mismatches?.some((m) => m.setting === 'exists') ? null : (error ?? 'no error')
      },
      { what: `the check to see ${weak}`, timeoutMs: 30_000, intervalMs: 250 },
    )
    expect(isAppError(reported, 'KAFKA_TOPIC_MISMATCH')).toBe(true)
    expect((reported as Error).message).toContain(
      `${weak}: min.insync.replicas is 1, expected at least 2`,
    )
  })

  it("produces with the project's producer and consumes with a consumer group across the nodes", async () => {
    const topic = uniqueName('cluster-roundtrip')
    await provisionTopics(stack.kafka, [specOf(topic)], { create: true })
    const partitions = await partitionsOf(topic)
    expect(partitions.map((p) => p.isr.length)).toEqual([3, 3, 3])
    // Three partitions, three nodes: leadership is spread, so the write touches every node.
    expect(new Set(partitions.map((p) => p.leader)).size).toBeGreaterThan(1)

    const producer = await newProducer()
    const ids = Array.from({ length: 300 }, (_, i) => `r-${i}`)
    const written = await producer.send(
      ids.map((id) => ({ topic, key: id, value: JSON.stringify({ id }) })),
    )
    expect(written.length).toBeGreaterThan(0)

    const consumer = createConsumer(stack.kafka, { groupId: uniqueName('cluster-group') })
    const seen = new Set<string>()
    try {
      await consumer.connect()
      await runBatches(consumer, {
        topics: [topic],
        fromBeginning: true,
        eachBatch: ({ batch }) => {
          for (const message of batch.messages) seen.add(message.key?.toString() ?? '')
          return Promise.resolve()
        },
      })
      await waitFor(() => seen.size === ids.length, {
        what: 'the consumer group to read every record',
        timeoutMs: 60_000,
      })
    } finally {
      await consumer.disconnect()
    }
    expect([...seen].sort()).toEqual([...ids].sort())
  })

  it('loses no acknowledged record when the leader of a partition is killed mid-produce, and is back to a full ISR after it restarts', async () => {
    const topic = uniqueName('cluster-leader-kill')
    await provisionTopics(stack.kafka, [specOf(topic)], { create: true })
    const producer = await newProducer()

    // The producer loop: a batch of 50 records at a time; a batch the cluster acknowledged is in
    // `acked`; a failed one is sent again (at-least-once, as the poller does) until it is.
    const acked = new Set<string>()
    const failures: string[] = []
    let stop = false
    let next = 0
    const loop = (async () => {
      while (!stop) {
        const batch = Array.from({ length: 50 }, () => `m-${next++}`)
        for (;;) {
          try {
            await producer.send(batch.map((id) => ({ topic, key: id, value: id })))
            for (const id of batch) acked.add(id)
            break
          } catch (error) {
            failures.push(
              isAppError(error) ? `${error.code}: ${error.message.split('\n')[0]}` : String(error),
            )
            if (stop) break
            await new Promise((resolve) => setTimeout(resolve, 200))
          }
        }
      }
    })()

    try {
      await waitFor(() => acked.size >= 1_000, {
        what: 'the first 1,000 acknowledged records',
        timeoutMs: 60_000,
      })
      const victim = (await partitionsOf(topic)).find((p) => p.partitionId === 0)!.leader
      const victimPid = cluster().node(victim).pid()
      const killedAt = Date.now()
      const beforeKill = acked.size
      await cluster().kill(victim, 'SIGKILL')
      expect(isAlive(victimPid)).toBe(false)

      // Writes go on through the new leaders (two replicas in sync still satisfy the minimum).
      await waitFor(() => acked.size >= beforeKill + 1_000, {
        what: `another 1,000 records acknowledged with one node down (${acked.size - beforeKill} so far; last failures: ${failures.slice(-3).join(' | ')})`,
        timeoutMs: 90_000,
      })
      const failover = await waitFor(
        async () => {
          const partitions = await partitionsOf(topic)
          return partitions.every((p) => p.leader >= 0 && p.leader !== victim) ? partitions : null
        },
        { what: `leadership to move off node ${victim}`, timeoutMs: 60_000 },
      )
      for (const p of failover) expect(p.isr).not.toContain(victim)
      const failoverMs = Date.now() - killedAt

      const restartedAt = Date.now()
      await cluster().start(victim)
      await cluster().waitForFullIsr({
        topics: [topic, ...productTopics.map((s) => s.name)],
        timeoutMs: 120_000,
      })
      const fullIsrMs = Date.now() - restartedAt
      const afterRestart = acked.size
      await waitFor(() => acked.size >= afterRestart + 500, {
        what: 'records acknowledged after the restart',
        timeoutMs: 60_000,
      })
      process.stderr.write(
        `[kafka-cluster] killed node ${victim} (leader of partition 0): writes moved on within ${failoverMs} ms; ` +
          `restarted and back to a full ISR in ${fullIsrMs} ms; ${failures.length} failed sends retried (${[...new Set(failures.map((f) => f.split(':')[0]))].join(',')})\n`,
      )
    } finally {
      stop = true
      await loop
    }

    for (const p of await partitionsOf(topic)) expect(p.isr.length).toBe(3)
    const records = await readTopicToEnd(stack.kafka, topic, { timeoutMs: 60_000 })
    const onTopic = new Set(records.map((r) => r.key?.toString() ?? ''))
    const missing = [...acked].filter((id) => !onTopic.has(id))
    expect(missing, `acknowledged records missing from ${topic}`).toEqual([])
    expect(acked.size).toBeGreaterThanOrEqual(2_500)
    // Any failure seen was the retriable kind the services retry on.
    expect(failures.filter((failure) => !failure.startsWith('KAFKA_UNAVAILABLE'))).toEqual([])
  })

  it('refuses a write with two nodes down (KAFKA_UNAVAILABLE, in bounded time) and accepts it once one is back', async () => {
    const topic = uniqueName('cluster-two-down')
    await provisionTopics(stack.kafka, [specOf(topic)], { create: true })
    // Short acknowledgement wait and one retry: the failure must come in seconds, not minutes.
    const producer = await newProducer({ ackTimeoutMs: 5_000, retries: 1 })
    const record = (id: string) => [{ topic, key: id, value: id }]
    // The producer's broker may learn of the new topic a moment after the others.
    await waitFor(() => producer.send(record('before')).then(() => true), {
      what: `a first write to ${topic}`,
      timeoutMs: 30_000,
      intervalMs: 250,
    })

    await Promise.all([cluster().kill(2, 'SIGKILL'), cluster().kill(3, 'SIGKILL')])
    const began = Date.now()
    const refused = await producer.send(record('during')).catch((error: unknown) => error)
    const refusedMs = Date.now() - began
    expect(isAppError(refused, 'KAFKA_UNAVAILABLE'), String(refused)).toBe(true)
    expect((refused as { retriable: boolean }).retriable).toBe(true)
    expect(refusedMs).toBeLessThan(60_000)

    await cluster().start(2)
    // With node 2 back there is a controller quorum and two replicas in sync again. The refused
    // record is sent again, as the services do (at-least-once).
    const acceptedAfter = await waitFor(
      async () => {
        try {
          await producer.send(record('during'))
          return Date.now()
        } catch {
          return null
        }
      },
      { what: 'a write to succeed with one node back', timeoutMs: 90_000, intervalMs: 500 },
    )
    process.stderr.write(
      `[kafka-cluster] two nodes down: write refused in ${refusedMs} ms (${(refused as Error).message.split('\n')[0]}); ` +
        `accepted again ${acceptedAfter - began} ms after the kill\n`,
    )
    await cluster().start(3)
    await cluster().waitForFullIsr({ topics: [topic], timeoutMs: 120_000 })
    const keys = (await readTopicToEnd(stack.kafka, topic)).map((r) => r.key?.toString())
    expect(keys).toContain('before')
    expect(keys).toContain('during')
  })
})
