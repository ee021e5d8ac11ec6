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
    ['ACL', protocol('TOPIC_AUTHORIZATION_FAILED', false), 'KAFKA_NOT_AUTHORIZED', false],
    ['group ACL', protocol('GROUP_AUTHORIZATION_FAILED', false), 'KAFKA_NOT_AUTHORIZED', false],
    [
      'an untrusted broker certificate',
      new KafkaJSNumberOfRetriesExceeded(
        new KafkaJSConnectionError(
          'Connection error: self-signed certificate in certificate chain',
          {
            code: 'SELF_SIGNED_CERT_IN_CHAIN',
          },
        ),
        { retryCount: 5, retryTime: 100 },
      ),
      'KAFKA_TLS_FAILED',
      false,
    ],
    [
      'a certificate for another host',
      new KafkaJSConnectionError('Connection error: Hostname/IP does not match', {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      }),
      'KAFKA_TLS_FAILED',
      false,
    ],
    [
      'the broker wants a client certificate',
      new KafkaJSConnectionError('Connection error: certificate required', {
        code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
      }),
      'KAFKA_TLS_FAILED',
      false,
    ],
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

  it('names the topics or the group an ACL is missing on', () => {
    const topic = toKafkaError(
      protocol('TOPIC_AUTHORIZATION_FAILED', false),
      'Producing 5 records',
      {
        topics: ['wolkvox.chat.message.v1'],
      },
    )
    expect(topic.message).toContain('refused on topic wolkvox.chat.message.v1')
    expect(topic.details).toMatchObject({ resource: 'topic', topics: ['wolkvox.chat.message.v1'] })
    const group = toKafkaError(protocol('GROUP_AUTHORIZATION_FAILED', false), 'Consuming', {
      topics: ['in'],
      group: 'sentiment-aggregator',
    })
    expect(group.message).toContain('refused on consumer group sentiment-aggregator')
    // kafkajs's create-topics errors carry their topic.
    const created = Object.assign(protocol('TOPIC_AUTHORIZATION_FAILED', false), { topic: 't1' })
    const both = Object.assign(new Error('aggregate'), {
      name: 'KafkaJSAggregateError',
      errors: [
        created,
        Object.assign(protocol('TOPIC_AUTHORIZATION_FAILED', false), { topic: 't2' }),
      ],
    })
    expect(toKafkaError(both, 'Provisioning topics').message).toContain('refused on topics t1, t2 ')
    expect(
      toKafkaError(created, 'Provisioning topics', { topics: ['t1', 't2'] }).message,
    ).toContain('refused on topic t1 ')
  })

  it('says what to check for a refused password and a failed handshake', () => {
    const sasl = toKafkaError(
      new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)('SASL failed'),
    )
    expect(sasl.message).toContain('KAFKA_SASL_PASSWORD_FILE')
    const tls = toKafkaError(new KafkaJSConnectionError('x', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))
    expect(tls.message).toContain('KAFKA_SSL_CA_FILE')
    expect(tls.details).toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' })
  })
})
