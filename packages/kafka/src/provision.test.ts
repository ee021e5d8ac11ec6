import { describe, expect, it } from 'vitest'
import {
  compareTopic,
  minInsyncFor,
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
    expect(compareTopic(spec, good, { replicationFactor: 1 })).toEqual([])
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
    expect(
      compareTopic(spec, bad, { replicationFactor: 3, minInsyncReplicas: 2 }).map((m) => [
        m.setting,
        m.expected,
        m.actual,
      ]),
    ).toEqual([
      ['partitions', 'at least 6', '3'],
      ['replication', 'at least 3', '1'],
      ['min.insync.replicas', 'at least 2', '(unset)'],
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

describe('compareTopic on a replicated cluster', () => {
  const replicated: ObservedTopic = {
    ...good,
    replicas: [3, 3, 3, 3, 3, 3],
    configs: { ...good.configs, 'min.insync.replicas': '2' },
  }

  it('accepts the configured replication and minimum, and more of either', () => {
    expect(compareTopic(spec, replicated, { replicationFactor: 3, minInsyncReplicas: 2 })).toEqual(
      [],
    )
    expect(compareTopic(spec, replicated, { replicationFactor: 2, minInsyncReplicas: 1 })).toEqual(
      [],
    )
  })

  it('reports one partition short of replicas and a minimum below the configured one', () => {
    const degraded: ObservedTopic = {
      ...replicated,
      replicas: [3, 3, 2, 3, 3, 3],
      configs: { ...replicated.configs, 'min.insync.replicas': '1' },
    }
    expect(
      compareTopic(spec, degraded, { replicationFactor: 3, minInsyncReplicas: 2 }).map((m) => [
        m.setting,
        m.expected,
        m.actual,
      ]),
    ).toEqual([
      ['replication', 'at least 3', '2,3'],
      ['min.insync.replicas', 'at least 2', '1'],
    ])
  })

  it('checks nothing about replication when nothing is required', () => {
    expect(compareTopic(spec, { ...replicated, configs: { ...good.configs } }, {})).toEqual([])
  })
})

describe('minInsyncFor', () => {
  it.each([
    [1, undefined, undefined],
    [2, undefined, undefined],
    [3, undefined, 2],
    [5, undefined, 2],
    [3, 3, 3],
    [3, 1, 1],
    [1, 1, 1],
  ])('replication %i, KAFKA_MIN_INSYNC_REPLICAS %s: %s', (factor, configured, expected) => {
    expect(minInsyncFor(factor, configured)).toBe(expected)
  })

  it('refuses a minimum above the replication factor (no acks=all write could succeed)', () => {
    expect(() => minInsyncFor(2, 3)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }) as Error,
    )
  })
})

describe('provisionOptionsOf', () => {
  it('creates or only verifies as KAFKA_CREATE_TOPICS says, with the replication factor when set', () => {
    expect(provisionOptionsOf({ createTopics: true })).toEqual({ create: true })
    expect(provisionOptionsOf({ createTopics: false, replicationFactor: 3 })).toEqual({
      create: false,
      replicationFactor: 3,
    })
    expect(
      provisionOptionsOf({ createTopics: true, replicationFactor: 3, minInsyncReplicas: 2 }),
    ).toEqual({ create: true, replicationFactor: 3, minInsyncReplicas: 2 })
  })
})
