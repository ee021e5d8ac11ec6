import { describe, expect, it } from 'vitest'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { readConsumerConfig } from './config.js'

const defaults = { name: 'toy', input: 'wolkvox.chat.message.v1' }

describe('readConsumerConfig', () => {
  it('has the documented defaults', () => {
    expect(readConsumerConfig({}, defaults)).toMatchObject({
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'toy', createTopics: true },
      redis: { nodes: [{ host: '127.0.0.1', port: 6379 }], cluster: false, db: 0, tls: false },
      httpPort: 8090,
      logLevel: 'info',
      inputTopic: 'wolkvox.chat.message.v1',
      maxConsecutiveFailures: 10,
      eventIdTtlMs: 4 * 86_400_000,
      shutdownTimeoutMs: 15_000,
      epochCheckIntervalMs: 5_000,
      sessionTimeoutMs: 30_000,
      heartbeatIntervalMs: 3_000,
      partitionsConcurrently: 1,
      retryMaxBackoffMs: 5_000,
    })
  })

  it.each([
    [{ HTTP_PORT: '0' }, { httpPort: 0 }],
    [{ CONSUMER_INPUT_TOPIC: 'other' }, { inputTopic: 'other' }],
    [{ CONSUMER_MAX_CONSECUTIVE_FAILURES: '3' }, { maxConsecutiveFailures: 3 }],
    [{ CONSUMER_EVENT_ID_TTL: '5d' }, { eventIdTtlMs: 5 * 86_400_000 }],
    [
      { CONSUMER_SESSION_TIMEOUT: '6s', CONSUMER_HEARTBEAT_INTERVAL: '1s' },
      { sessionTimeoutMs: 6_000 },
    ],
    [{ LOG_LEVEL: 'silent' }, { logLevel: 'silent' }],
  ])('reads %j', (env, expected) => {
    expect(readConsumerConfig(env, defaults)).toMatchObject(expected)
  })

  it('reports every problem in one CONFIG_INVALID', () => {
    let caught: unknown
    try {
      readConsumerConfig(
        {
          KAFKA_BROKERS: 'nohost',
          HTTP_PORT: 'x',
          LOG_LEVEL: 'loud',
          CONSUMER_SESSION_TIMEOUT: '1s',
          CONSUMER_HEARTBEAT_INTERVAL: '10s',
          CONSUMER_MAX_CONSECUTIVE_FAILURES: '0',
          CONSUMER_EVENT_ID_TTL: 'forever',
        },
        defaults,
      )
    } catch (error) {
      caught = error
    }
    expect(isAppError(caught, 'CONFIG_INVALID')).toBe(true)
    const message = (caught as Error).message
    for (const variable of [
      'KAFKA_BROKERS',
      'HTTP_PORT',
      'LOG_LEVEL',
      'CONSUMER_SESSION_TIMEOUT',
      'CONSUMER_HEARTBEAT_INTERVAL',
      'CONSUMER_MAX_CONSECUTIVE_FAILURES',
      'CONSUMER_EVENT_ID_TTL',
    ])
      expect(message).toContain(variable)
  })
})
