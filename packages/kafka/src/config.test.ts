import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll } from 'vitest'
import { describe, expect, it } from 'vitest'
import { readConfig } from '@wolkvox-chat-stream/config'
import { readKafkaConfig, readKafkaSettings } from './config.js'

describe('readKafkaConfig', () => {
  it('has the documented defaults', () => {
    expect(readKafkaConfig({}, 'poller')).toEqual({
      brokers: ['127.0.0.1:9092'],
      clientId: 'poller',
      ssl: false,
      createTopics: true,
    })
  })

  it('reads production settings, keeping the password secret', () => {
    const config = readKafkaConfig({
      KAFKA_BROKERS: 'b1.example:9093, b2.example:9093,[::1]:9094',
      KAFKA_CLIENT_ID: 'poller-eu',
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'canary-password-93f1',
      KAFKA_CREATE_TOPICS: 'false',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_MIN_INSYNC_REPLICAS: '2',
    })
    expect(config).toMatchObject({
      brokers: ['b1.example:9093', 'b2.example:9093', '[::1]:9094'],
      clientId: 'poller-eu',
      ssl: true,
      createTopics: false,
      replicationFactor: 3,
      minInsyncReplicas: 2,
      sasl: { mechanism: 'scram-sha-512', username: 'svc' },
    })
    expect(config.sasl?.password.reveal()).toBe('canary-password-93f1')
    expect(JSON.stringify(config)).not.toContain('canary')
    expect(inspect(config, { depth: 5 })).not.toContain('canary')
  })

  it('reports every problem at once, without the password', () => {
    let message = ''
    try {
      readKafkaConfig({
        KAFKA_BROKERS: 'no-port,host:99999',
        KAFKA_SSL: 'maybe',
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_SASL_PASSWORD: 'canary-password-93f1',
        KAFKA_REPLICATION_FACTOR: '0',
        KAFKA_CREATE_TOPICS: 'sometimes',
      })
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
      message = (error as Error).message
    }
    for (const text of [
      '"no-port" is not host:port',
      '"host:99999" is not host:port',
      'KAFKA_SSL',
      '"gssapi" is not one of plain, scram-sha-256, scram-sha-512',
      'KAFKA_REPLICATION_FACTOR',
      'KAFKA_CREATE_TOPICS',
    ]) {
      expect(message).toContain(text)
    }
    expect(message).not.toContain('canary')
  })

  it.each([
    [{ KAFKA_MIN_INSYNC_REPLICAS: '0' }, 'KAFKA_MIN_INSYNC_REPLICAS'],
    [{ KAFKA_MIN_INSYNC_REPLICAS: 'two' }, 'KAFKA_MIN_INSYNC_REPLICAS'],
    [
      { KAFKA_REPLICATION_FACTOR: '2', KAFKA_MIN_INSYNC_REPLICAS: '3' },
      'more than KAFKA_REPLICATION_FACTOR (2)',
    ],
  ])('refuses a minimum of in-sync replicas that cannot work: %j', (env, text) => {
    expect(() => readKafkaConfig(env)).toThrow(text)
  })

  it('takes a minimum without a replication factor (checked against each topic)', () => {
    expect(readKafkaConfig({ KAFKA_MIN_INSYNC_REPLICAS: '2' }).minInsyncReplicas).toBe(2)
  })

  it.each([
    [{ KAFKA_SASL_USERNAME: 'svc' }, 'KAFKA_SASL_MECHANISM'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'x' }, 'KAFKA_SASL_USERNAME'],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc' }, 'KAFKA_SASL_PASSWORD'],
  ])('asks for the rest of a SASL setting: %j', (env, missing) => {
    expect(() => readKafkaConfig(env)).toThrow(missing)
  })

  it('composes with a service reader so all problems come in one error', () => {
    expect(() =>
      readConfig({ KAFKA_BROKERS: 'x', PORT: 'y' }, (reader) => ({
        kafka: readKafkaSettings(reader, 'svc'),
        port: reader.integer('PORT', 1),
      })),
    ).toThrow(/2 problems/)
  })

  describe('TLS and SASL material from files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kafka-config-'))
    afterAll(() => rmSync(dir, { recursive: true, force: true }))
    const file = (name: string, text: string): string => {
      const path = join(dir, name)
      writeFileSync(path, text)
      chmodSync(path, 0o600)
      return path
    }
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
    const key = '-----BEGIN PRIVATE KEY-----\ncanary-key-77\n-----END PRIVATE KEY-----\n'

    it('reads a private CA, a client certificate and key, and a password file; TLS is on', () => {
      const config = readKafkaConfig({
        KAFKA_SSL_CA_FILE: file('ca.pem', cert),
        KAFKA_SSL_CERT_FILE: file('client.pem', cert),
        KAFKA_SSL_KEY_FILE: file('client-key.pem', key),
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        KAFKA_SASL_USERNAME: 'poller',
        KAFKA_SASL_PASSWORD_FILE: file('password', 'canary-password-93f1\n'),
      })
      expect(config.ssl).toBe(true)
      expect(config.tls?.ca).toBe(cert)
      expect(config.tls?.cert).toBe(cert)
      expect(config.tls?.key?.reveal()).toBe(key)
      expect(config.tls?.files).toEqual({
        ca: join(dir, 'ca.pem'),
        cert: join(dir, 'client.pem'),
        key: join(dir, 'client-key.pem'),
      })
      // Trimmed: a file written by `echo` has a newline the broker would not accept.
      expect(config.sasl?.password.reveal()).toBe('canary-password-93f1')
      for (const shown of [JSON.stringify(config), inspect(config, { depth: 6 })]) {
        expect(shown).not.toContain('canary')
      }
    })

    it('reports unreadable, empty, wrong-kind and half-given files, never their content', () => {
      let message = ''
      try {
        readKafkaConfig({
          KAFKA_SSL_CA_FILE: join(dir, 'nope.pem'),
          KAFKA_SSL_CERT_FILE: file('not-a-cert.pem', 'canary-not-pem'),
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'poller',
          KAFKA_SASL_PASSWORD: 'canary-inline',
          KAFKA_SASL_PASSWORD_FILE: file('empty', '\n'),
        })
      } catch (error) {
        expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
        message = (error as Error).message
      }
      for (const text of [
        `KAFKA_SSL_CA_FILE: ${join(dir, 'nope.pem')} cannot be read`,
        'KAFKA_SSL_CERT_FILE: ' + join(dir, 'not-a-cert.pem') + ' holds no PEM certificate',
        'KAFKA_SSL_KEY_FILE: is required with the other half of the client certificate',
        'set only one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE',
      ]) {
        expect(message).toContain(text)
      }
      expect(message).not.toContain('canary')
    })

    it('refuses an empty password file', () => {
      expect(() =>
        readKafkaConfig({
          KAFKA_SASL_MECHANISM: 'scram-sha-512',
          KAFKA_SASL_USERNAME: 'poller',
          KAFKA_SASL_PASSWORD_FILE: file('empty', '\n'),
        }),
      ).toThrow(`KAFKA_SASL_PASSWORD_FILE: ${join(dir, 'empty')} is empty`)
    })

    it('refuses an encrypted key (the services have no passphrase to open it)', () => {
      const encrypted = file(
        'enc.pem',
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\nx\n-----END ENCRYPTED PRIVATE KEY-----\n',
      )
      expect(() =>
        readKafkaConfig({
          KAFKA_SSL_CERT_FILE: file('c.pem', cert),
          KAFKA_SSL_KEY_FILE: encrypted,
        }),
      ).toThrow('is an encrypted key')
    })
  })
})
