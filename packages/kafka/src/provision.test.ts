import { describe, expect, it } from 'vitest'
import {
  compareTopic,
  provisionOptionsOf,
  type ObservedTopic,
  type TopicSpec,
} from './provision.js'

const spec: TopicSpec = {
  name: 'wolkvox.chat.message.v1',
  partitions: 6,
  cleanupPolicy: 'delete',
  retentionMs: 2_592_000_000,
  maxMessageBytes: 17_825_792,
}
const good: ObservedTopic = {
  partitions: 6,
  replicas: [1, 1, 1, 1, 1, 1],
  configs: {
    'cleanup.policy': 'delete',
    'retention.ms': '2592000000',
    'max.message.bytes': '17825792',
  },
}

describe('compareTopic', () => {
  it('accepts the spec, more partitions and a larger record limit', () => {
    expect(compareTopic(spec, good, 1)).toEqual([])
    expect(
      compareTopic(spec, {
        ...good,
        partitions: 12,
        configs: { ...good.configs, 'max.message.bytes': '67108864' },
      }),
    ).toEqual([])
  })

  it('lists every difference', () => {
    const bad: ObservedTopic = {
      partitions: 3,
      replicas: [1, 1, 1],
      configs: {
        'cleanup.policy': 'compact',
        'retention.ms': '604800000',
        'max.message.bytes': '1048588',
      },
    }
    expect(compareTopic(spec, bad, 3).map((m) => [m.setting, m.expected, m.actual])).toEqual([
      ['partitions', 'at least 6', '3'],
      ['replication', '3', '1'],
      ['cleanup.policy', 'delete', 'compact'],
      ['retention.ms', '2592000000', '604800000'],
      ['max.message.bytes', 'at least 17825792', '1048588'],
    ])
  })

  it('does not check retention when the spec has none (compacted topics)', () => {
    const compact: TopicSpec = { ...spec, cleanupPolicy: 'compact', retentionMs: undefined }
    expect(
      compareTopic(compact, {
        ...good,
        configs: { ...good.configs, 'cleanup.policy': 'compact', 'retention.ms': '1' },
      }),
    ).toEqual([])
  })
})

describe('provisionOptionsOf', () => {
  it('creates or only verifies as KAFKA_CREATE_TOPICS says, with the replication factor when set', () => {
    expect(provisionOptionsOf({ createTopics: true })).toEqual({ create: true })
    expect(provisionOptionsOf({ createTopics: false, replicationFactor: 3 })).toEqual({
      create: false,
      replicationFactor: 3,
    })
  })
})
