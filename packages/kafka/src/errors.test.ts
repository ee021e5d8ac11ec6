import {
  KafkaJSConnectionError,
  KafkaJSError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
  KafkaJSSASLAuthenticationError,
} from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import { toKafkaError } from './errors.js'

const protocol = (type: string, retriable: boolean): Error =>
  new KafkaJSProtocolError({ message: `${type} happened`, type, code: 1, retriable } as never)

describe('toKafkaError', () => {
  it.each([
    [
      'connection refused',
      new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'),
      'KAFKA_UNAVAILABLE',
      true,
    ],
    [
      'retries exhausted on a connection error',
      new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('closed'), {
        retryCount: 5,
        retryTime: 100,
      }),
      'KAFKA_UNAVAILABLE',
      true,
    ],
    [
      'a stopped broker: retries exhausted inside a nested kafkajs retrier',
      new (KafkaJSNonRetriableError as unknown as new (e: Error, o: { cause: Error }) => Error)(
        new KafkaJSConnectionError('connect ECONNREFUSED'),
        { cause: new KafkaJSConnectionError('connect ECONNREFUSED') },
      ),
      'KAFKA_UNAVAILABLE',
      true,
    ],
    ['no leader', protocol('LEADER_NOT_AVAILABLE', true), 'KAFKA_UNAVAILABLE', true],
    ['unknown topic', protocol('UNKNOWN_TOPIC_OR_PARTITION', true), 'KAFKA_UNAVAILABLE', true],
    ['record too large', protocol('MESSAGE_TOO_LARGE', false), 'KAFKA_RECORD_TOO_LARGE', false],
    ['batch too large', protocol('RECORD_LIST_TOO_LARGE', false), 'KAFKA_RECORD_TOO_LARGE', false],
    ['ACL', protocol('TOPIC_AUTHORIZATION_FAILED', false), 'KAFKA_AUTH_FAILED', false],
    [
      'SASL',
      new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)(
        'SASL SCRAM authentication failed',
      ),
      'KAFKA_AUTH_FAILED',
      false,
    ],
    ['invalid config', protocol('INVALID_CONFIG', false), 'KAFKA_REQUEST_FAILED', false],
    [
      'non-retriable',
      new KafkaJSNonRetriableError('Invalid topics array'),
      'KAFKA_REQUEST_FAILED',
      false,
    ],
    ['retriable kafkajs error', new KafkaJSError('something transient'), 'KAFKA_UNAVAILABLE', true],
    ['a plain error', new TypeError('bug'), 'KAFKA_REQUEST_FAILED', false],
  ])('%s -> %s', (_, error, code, retriable) => {
    const mapped = toKafkaError(error, 'Producing')
    expect(mapped.code).toBe(code)
    expect(mapped.retriable).toBe(retriable)
    expect(mapped.cause).toBe(error)
    expect(mapped.message.startsWith('Producing')).toBe(true)
  })

  it('hints at provisioning for an unknown topic, and keeps AppErrors as they are', () => {
    expect(toKafkaError(protocol('UNKNOWN_TOPIC_OR_PARTITION', true)).message).toContain(
      'is the topic provisioned?',
    )
    const own = new AppError('KAFKA_TOPIC_MISMATCH', 'x')
    expect(toKafkaError(own)).toBe(own)
  })
})
