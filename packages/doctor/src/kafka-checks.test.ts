import { describe, expect, it } from 'vitest'
import type { ObservedTopic, TopicSpec } from '@wolkvox-chat-stream/kafka'
import { mismatchFix, topicMismatches } from './kafka-checks.js'

const spec: TopicSpec = {
  name: 'wolkvox.t',
  partitions: 6,
  cleanupPolicy: 'delete',
  maxMessageBytes: 1_000_000,
}

/** A topic as provisioned from `spec`, with `replicas` replicas and `minInsync`. */
const observed = (replicas: number, minInsync: string): ObservedTopic => ({
  partitions: 6,
  replicas: [replicas, replicas, replicas, replicas, replicas, replicas],
  configs: {
    'cleanup.policy': 'delete',
    'max.message.bytes': '1000000',
    'min.insync.replicas': minInsync,
  },
})

describe('topicMismatches', () => {
  it('holds a topic to KAFKA_REPLICATION_FACTOR and the min.insync.replicas it implies', () => {
    expect(topicMismatches(spec, observed(1, '1'), { replicationFactor: 3 })).toEqual([
      { topic: 'wolkvox.t', setting: 'replication', expected: 'at least 3', actual: '1' },
      { topic: 'wolkvox.t', setting: 'min.insync.replicas', expected: 'at least 2', actual: '1' },
    ])
  })

  it('holds a topic of three replicas to min.insync.replicas 2 with nothing configured', () => {
    expect(topicMismatches(spec, observed(3, '1'), {})).toEqual([
      { topic: 'wolkvox.t', setting: 'min.insync.replicas', expected: 'at least 2', actual: '1' },
    ])
    expect(topicMismatches(spec, observed(3, '2'), {})).toEqual([])
    expect(topicMismatches(spec, observed(1, '1'), {})).toEqual([])
  })

  it('names the replication of a topic below KAFKA_MIN_INSYNC_REPLICAS instead of throwing', () => {
    expect(topicMismatches(spec, observed(1, '1'), { minInsyncReplicas: 2 })).toEqual([
      {
        topic: 'wolkvox.t',
        setting: 'replication',
        expected: 'at least 2 (KAFKA_MIN_INSYNC_REPLICAS)',
        actual: '1',
      },
    ])
    // Its other settings are still compared.
    expect(
      topicMismatches(spec, { ...observed(1, '1'), partitions: 2 }, { minInsyncReplicas: 3 }),
    ).toEqual([
      {
        topic: 'wolkvox.t',
        setting: 'replication',
        expected: 'at least 3 (KAFKA_MIN_INSYNC_REPLICAS)',
        actual: '1',
      },
      { topic: 'wolkvox.t', setting: 'partitions', expected: 'at least 6', actual: '2' },
    ])
  })
})

describe('mismatchFix', () => {
  it('says to add replicas, or lower KAFKA_MIN_INSYNC_REPLICAS to what the topic has', () => {
    const [m] = topicMismatches(spec, observed(1, '1'), { minInsyncReplicas: 2 })
    expect(mismatchFix(m!, spec, undefined)).toBe(
      'add replicas to wolkvox.t (kafka-reassign-partitions.sh), or lower KAFKA_MIN_INSYNC_REPLICAS to 1',
    )
  })

  it('says to add replicas, or set KAFKA_REPLICATION_FACTOR, and how to raise min.insync.replicas', () => {
    const [rf, insync] = topicMismatches(spec, observed(1, '1'), { replicationFactor: 3 })
    expect(mismatchFix(rf!, spec, undefined)).toBe(
      'add replicas to wolkvox.t (kafka-reassign-partitions.sh), or set KAFKA_REPLICATION_FACTOR to what it has',
    )
    expect(mismatchFix(insync!, spec, undefined)).toBe(
      'kafka-configs.sh --alter --entity-type topics --entity-name wolkvox.t --add-config min.insync.replicas=2',
    )
  })
})
