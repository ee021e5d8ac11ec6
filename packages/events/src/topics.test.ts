import { describe, expect, it } from 'vitest'
import {
  MAX_RECORD_BYTES,
  TOPIC_MAX_MESSAGE_BYTES,
  dlqTopic,
  productTopics,
  topicKeys,
  topics,
} from './topics.js'

describe('topics of the contract', () => {
  it('names and policies match ARCHITECTURE.md (and wolkvox.chat.quality.v1, issue 21)', () => {
    expect(
      productTopics.map((t) => [t.name, t.cleanupPolicy, t.retentionMs ?? null, t.partitions]),
    ).toEqual([
      ['wolkvox.chat.message.v1', 'delete', 30 * 86_400_000, 6],
      ['wolkvox.agent.sentiment.v1', 'compact', null, 6],
      ['wolkvox.chat.tramite.v1', 'compact', null, 6],
      ['wolkvox.chat.quality.v1', 'compact', null, 6],
      ['wolkvox.poller.checkpoint.v1', 'compact', null, 1],
      ['wolkvox.poller.dlq.v1', 'delete', 30 * 86_400_000, 1],
    ])
    for (const topic of productTopics) expect(topic.maxMessageBytes).toBe(TOPIC_MAX_MESSAGE_BYTES)
    expect(MAX_RECORD_BYTES).toBe(16 * 1024 * 1024)
    expect(TOPIC_MAX_MESSAGE_BYTES).toBeGreaterThan(MAX_RECORD_BYTES)
  })

  it('derives a dead-letter topic per consumer group', () => {
    expect(dlqTopic('sentiment-aggregator')).toMatchObject({
      name: 'wolkvox.sentiment-aggregator.dlq',
      cleanupPolicy: 'delete',
    })
    for (const bad of ['', 'Upper', 'a.b', '-x', 'a b']) {
      expect(() => dlqTopic(bad)).toThrow(RangeError)
    }
  })

  it('builds the keys', () => {
    expect(topicKeys.chatMessage({ conn_id: 'CH-1' })).toBe('CH-1')
    expect(
      topicKeys.agentSentiment({
        server: '0010',
        agent_key: 'ana maría',
        granularity: 'hour',
        window_start: new Date('2025-02-11T15:00:00Z'),
      }),
    ).toBe('0010|ana maría|hour|2025-02-11T15:00:00.000Z')
    expect(topicKeys.serverConnId({ server: '0010', conn_id: 'CH|1' })).toBe('0010|CH|1')
    expect(topicKeys.pollerCheckpoint({ server: '0010', report: 'chat_2' })).toBe('0010|chat_2')
    expect(topics.chatMessage.key).toBe('conn_id')
  })
})
