import { describe, expect, it } from 'vitest'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createKafkaClient, type KafkaLogEntry } from './client.js'
import { createEventProducer } from './producer.js'
import { IDEMPOTENT_RETRIES_WARNING, projectLevelOf } from './kafka-log.js'

const entry = (
  level: KafkaLogEntry['level'],
  message: string,
  fields: Record<string, unknown> = {},
  namespace = 'Connection',
): KafkaLogEntry => ({ level, namespace, message, fields })

describe('projectLevelOf', () => {
  it.each([
    // A failed response: kafkajs's message names the API, the broker's answer is in `error`.
    [
      entry('error', 'Response GroupCoordinator(key: 10, version: 2)', {
        error: 'The group coordinator is not available',
      }),
      'debug',
    ],
    [
      entry('error', 'Response JoinGroup(key: 11, version: 5)', {
        error: "The coordinator is loading and hence can't process requests for this group",
      }),
      'debug',
    ],
    [
      entry('error', 'Response OffsetCommit(key: 8, version: 5)', {
        error: 'This is not the correct coordinator for this group',
      }),
      'debug',
    ],
    [
      entry('error', 'Response Heartbeat(key: 12, version: 3)', {
        error: 'The group is rebalancing, so a rejoin is needed',
      }),
      'debug',
    ],
    [entry('warn', 'The group is rebalancing, re-joining', { groupId: 'g' }, 'Runner'), 'debug'],
    [
      entry('error', 'Response Metadata(key: 3, version: 6)', {
        error:
          'There is no leader for this topic-partition as we are in the middle of a leadership election',
      }),
      'debug',
    ],
    // The same answer as the message of a retrier's own record.
    [
      entry('error', 'The group coordinator is not available', { retryCount: 1 }, 'Cluster'),
      'debug',
    ],
    // kafkajs's info records: a consumer starting, joining, stopping.
    [entry('info', 'Stopped', { groupId: 'g' }, 'Consumer'), 'debug'],
    [entry('info', 'Starting', { groupId: 'g' }, 'Consumer'), 'debug'],
    [entry('info', 'Consumer has joined the group', { groupId: 'g' }, 'ConsumerGroup'), 'debug'],
    // Real errors stay what they are.
    [
      entry('error', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
        broker: '127.0.0.1:9092',
      }),
      'error',
    ],
    [entry('error', 'Crash: KafkaJSNumberOfRetriesExceeded: x', {}, 'Consumer'), 'error'],
    [
      entry('error', 'Response SaslAuthenticate(key: 36, version: 1)', {
        error:
          'Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256',
      }),
      'error',
    ],
    [
      entry('error', 'Response Produce(key: 0, version: 7)', {
        error: 'This server is not the leader for that topic-partition',
      }),
      'error',
    ],
    [entry('warn', 'Could not create topics', { error: 'Topic already exists' }, 'Admin'), 'warn'],
    [entry('debug', 'Request Metadata(key: 3, version: 6)'), 'debug'],
    // The one warning dropped.
    [entry('warn', IDEMPOTENT_RETRIES_WARNING, {}, 'Producer'), null],
  ] as const)('%# %o → %s', (record, level) => {
    expect(projectLevelOf(record)).toBe(level)
  })
})

describe('the kafkajs log adapter', () => {
  function client(level: 'debug' | 'info') {
    const lines: string[] = []
    const logger = createLogger({
      name: 'test',
      level,
      format: 'json',
      stream: { write: (line) => lines.push(line) },
    })
    const kafka = createKafkaClient({ brokers: ['127.0.0.1:1'], logger })
    const records = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    return { kafka, records }
  }

  it('creates the project producer without the bounded-retries warning', () => {
    const { kafka, records } = client('debug')
    createEventProducer(kafka)
    // The same producer options straight on kafkajs show what is dropped.
    kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 5 } })
    expect(records().map((r) => r.msg)).not.toContain(`kafka: ${IDEMPOTENT_RETRIES_WARNING}`)
  })

  it('logs normal broker answers at debug, so an info logger prints nothing of them', () => {
    const verbose = client('debug')
    verbose.kafka.logger().error('Response GroupCoordinator(key: 10, version: 2)', {
      error: 'The group coordinator is not available',
      broker: 'b:9092',
    })
    verbose.kafka.logger().info('Stopped', { groupId: 'g' })
    verbose.kafka.logger().error('Connection error: connect ECONNREFUSED', { broker: 'b:9092' })
    expect(verbose.records()).toMatchObject([
      {
        level: 'debug',
        msg: 'kafka: Response GroupCoordinator(key: 10, version: 2)',
        error: 'The group coordinator is not available',
        broker: 'b:9092',
      },
      { level: 'debug', msg: 'kafka: Stopped', groupId: 'g' },
      { level: 'error', msg: 'kafka: Connection error: connect ECONNREFUSED' },
    ])

    const quiet = client('info')
    quiet.kafka.logger().error('Response JoinGroup(key: 11, version: 5)', {
      error: "The coordinator is loading and hence can't process requests for this group",
    })
    quiet.kafka.logger().info('Consumer has joined the group', { groupId: 'g' })
    quiet.kafka.logger().error('Connection error: connect ECONNREFUSED', { broker: 'b:9092' })
    expect(quiet.records().map((r) => [r.level, r.msg])).toEqual([
      ['error', 'kafka: Connection error: connect ECONNREFUSED'],
    ])
  })
})
