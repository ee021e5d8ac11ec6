/*
 * Fault: the dev stack's secured cluster, as a managed Kafka looks from a client. Three KRaft
 * nodes with TLS from a private CA made at start, mutual TLS required, SCRAM-SHA-512 users created
 * at format time and ACLs enforced (nothing without one). The admin user sees the whole cluster;
 * the poller user writes its topics once granted and is refused the others; a wrong password, a
 * client that does not trust the CA and a client without a certificate are all turned away; and
 * no password is ever written to the nodes' logs or to the start's progress lines.
 *
 * Its own cluster (no Redis needed), one file at a time like every fault test.
 */
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  grantAcls,
  isAlive,
  consumerServiceAcls,
  pollerAcls,
  startKafkaCluster,
  type KafkaCluster,
} from '@wolkvox-chat-stream/dev-stack'
import { productTopics, topics } from '@wolkvox-chat-stream/events'
import {
  createConsumer,
  createEventProducer,
  createKafkaClient,
  provisionTopics,
  runBatches,
  type KafkaConnection,
} from '@wolkvox-chat-stream/kafka'
import { uniqueName, waitFor } from '../support/wait-for.js'

const NODES = 3

/** The error and every error it wraps (`cause`, kafkajs's `originalError`), outermost first. */
function chain(error: unknown): { name: string; type?: string; message: string }[] {
  const out: { name: string; type?: string; message: string }[] = []
  let current: unknown = error
  while (current instanceof Error && out.length < 10) {
    const e = current as Error & { type?: string; originalError?: unknown }
    out.push({ name: e.name, message: e.message, ...(e.type ? { type: e.type } : {}) })
    current = e.cause ?? e.originalError
  }
  return out
}

/** How connecting an admin with `connection` fails (once, no retries), or `'connected'`. */
async function connectOutcome(connection: KafkaConnection): Promise<unknown> {
  const admin = createKafkaClient({
    ...connection,
    clientId: 'secure-test-refused',
    connectionTimeoutMs: 5_000,
    requestTimeoutMs: 10_000,
  }).admin({ retry: { retries: 0 } })
  try {
    await admin.connect()
    // TLS 1.3 settles the client certificate after the client's side of the handshake: a request
    // is what meets the server's refusal.
    await admin.describeCluster()
    return 'connected'
  } catch (error) {
    return error
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}

describe('a secured three-node KRaft cluster (TLS, mutual TLS, SCRAM-SHA-512, ACLs)', () => {
  let cluster: KafkaCluster
  const progress: string[] = []
  const closers: (() => Promise<void>)[] = []

  beforeAll(async () => {
    const started = Date.now()
    cluster = await startKafkaCluster({
      nodes: NODES,
      secure: true,
      users: ['secure-test-extra'],
      onProgress: (line) => progress.push(line),
    })
    process.stderr.write(
      `[dev-stack-secure] Kafka ${cluster.version}, ${NODES} secured nodes at ${cluster.brokers}: ` +
        `cluster ready in ${cluster.readyMs()} ms (${Date.now() - started} ms with the CA, certificates and users)\n`,
    )
  }, 240_000)

  afterAll(async () => {
    for (const close of closers) await close().catch(() => undefined)
    const pids = cluster?.pids() ?? []
    await cluster?.stop()
    // Every node's JVM is gone, even after a failed test.
    for (const pid of pids) expect(isAlive(pid)).toBe(false)
  }, 120_000)

  const security = () => {
    const s = cluster.security
    if (!s) throw new Error('startKafkaCluster({ secure: true }) returned no security')
    return s
  }

  it('lists every broker over SASL_SSL to the admin user, and keeps its secrets in 0600 files', async () => {
    const admin = createKafkaClient(security().connection('admin')).admin()
    await admin.connect()
    try {
      const described = await admin.describeCluster()
      expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3])
    } finally {
      await admin.disconnect()
    }
    expect(security().users).toEqual([
      'admin',
      'poller',
      'sentiment-aggregator',
      'tramite-classifier',
      'chat-quality',
      'secure-test-extra',
    ])
    for (const user of security().users) {
      const file = security().passwordFile(user)
      expect(file.startsWith(join(cluster.workDir, 'secrets'))).toBe(true)
      expect(statSync(file).mode & 0o777, file).toBe(0o600)
      expect(readFileSync(file, 'utf8')).toMatch(/^[A-Za-z0-9_-]{24,}$/)
    }
    expect(statSync(security().clientKeyFile).mode & 0o777).toBe(0o600)
    expect(security().env('poller')).toMatchObject({
      KAFKA_BROKERS: cluster.brokers,
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'poller',
      KAFKA_SASL_PASSWORD_FILE: security().passwordFile('poller'),
    })
    expect(() => security().connection('nobody')).toThrow(RangeError)
  })

  it('lets the poller write its topics once granted, and refuses it the others', async () => {
    const admin = createKafkaClient(security().connection('admin'))
    await provisionTopics(admin, productTopics, { create: true })
    await grantAcls(security().connection('admin'), [pollerAcls()])

    const poller = createKafkaClient(security().connection('poller'))
    // Each broker applies the new ACLs from the metadata log within moments; until the one asked
    // has, the producer's start (its idempotent producer id needs WRITE on some topic) or its
    // write is refused, so both are tried again with a new producer.
    const written = await waitFor(
      async () => {
        const producer = createEventProducer(poller)
        closers.push(() => producer.disconnect())
        try {
          await producer.connect()
          const metadata = await producer.send([
            { topic: topics.chatMessage.name, key: 'conn-1', value: 'hello' },
          ])
          return metadata.length > 0
        } finally {
          await producer.disconnect().catch(() => undefined)
        }
      },
      { what: 'the poller to write wolkvox.chat.message.v1', timeoutMs: 30_000, intervalMs: 250 },
    )
    expect(written).toBe(true)

    const raw = poller.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } })
    closers.push(() => raw.disconnect())
    await raw.connect()
    const refused = await raw
      .send({ topic: topics.agentSentiment.name, messages: [{ key: 'k', value: 'v' }] })
      .then(
        () => 'written',
        (error: unknown) => error,
      )
    expect(
      chain(refused).map((e) => e.type),
      JSON.stringify(chain(refused)),
    ).toContain('TOPIC_AUTHORIZATION_FAILED')
  })

  it('lets a consumer service read its input only in its own group', async () => {
    const name = uniqueName('secure-svc')
    const output = uniqueName('secure-out')
    await provisionTopics(
      createKafkaClient(security().connection('admin')),
      [{ name: output, partitions: 1, cleanupPolicy: 'delete', maxMessageBytes: 1_048_588 }],
      { create: true },
    )
    await grantAcls(security().connection('admin'), [
      consumerServiceAcls({
        name,
        user: 'secure-test-extra',
        outputs: [output],
        dlq: `${name}-dlq`,
      }),
    ])
    const kafka = createKafkaClient(security().connection('secure-test-extra'))

    const seen: string[] = []
    // Each broker applies the new ACLs from the metadata log within moments: until the one asked
    // has, the start is refused (KAFKA_NOT_AUTHORIZED), so it is tried again with a new consumer.
    await waitFor(
      async () => {
        const consumer = createConsumer(kafka, { groupId: name })
        closers.push(() => consumer.disconnect())
        try {
          await runBatches(consumer, {
            topics: [topics.chatMessage.name],
            fromBeginning: true,
            groupId: name,
            eachBatch: ({ batch }) => {
              for (const m of batch.messages) seen.push(m.key?.toString() ?? '')
              return Promise.resolve()
            },
          })
          return true
        } catch (error) {
          await consumer.disconnect().catch(() => undefined)
          throw error
        }
      },
      { what: 'the service to start consuming in its group', timeoutMs: 30_000, intervalMs: 250 },
    )
    await waitFor(() => seen.includes('conn-1'), {
      what: 'the poller’s record read in the service’s group',
      timeoutMs: 90_000,
    })

    // In any other group the same user is refused. kafkajs reports it as a crash of the consumer,
    // and loses the broker's GROUP_AUTHORIZATION_FAILED on the way ("Failed to find group
    // coordinator"): the brokers' authorizer log names the refusal.
    const other = `${name}-other`
    const elsewhere = createConsumer(kafka, { groupId: other, retries: 0 })
    closers.push(() => elsewhere.disconnect())
    let readElsewhere = 0
    const crashed = new Promise<unknown>((resolve) => {
      runBatches(elsewhere, {
        topics: [topics.chatMessage.name],
        groupId: other,
        eachBatch: ({ batch }) => {
          readElsewhere += batch.messages.length
          return Promise.resolve()
        },
        onCrash: (error) => resolve(error),
      }).catch(resolve)
    })
    const refused = await Promise.race([
      crashed,
      new Promise((resolve) => setTimeout(() => resolve('no refusal within 60 s'), 60_000)),
    ])
    expect(readElsewhere).toBe(0)
    expect(
      chain(refused)
        .map((e) => `${e.type ?? ''} ${e.message}`)
        .join(' | '),
    ).toMatch(/GROUP_AUTHORIZATION_FAILED|Failed to find group coordinator/)
    const denial = await waitFor(
      () =>
        cluster.nodes
          .map((node) => readFileSync(node.logFile, 'utf8'))
          .join('\n')
          .split('\n')
          .find((line) => line.includes('Denied') && line.includes(other)),
      { what: `a denial of group ${other} in the nodes' logs`, timeoutMs: 15_000, intervalMs: 250 },
    )
    expect(denial).toContain('User:secure-test-extra')
  })

  it('refuses a wrong password, a client that does not trust the CA, and one without a client certificate', async () => {
    const poller = security().connection('poller')

    const timed = async (connection: KafkaConnection): Promise<[unknown, number]> => {
      const began = Date.now()
      const outcome = await connectOutcome(connection)
      return [outcome, Date.now() - began]
    }
    const [wrongPassword, wrongMs] = await timed({
      ...poller,
      sasl: { mechanism: 'scram-sha-512', username: 'poller', password: 'not-the-password' },
    })
    expect(chain(wrongPassword).map((e) => e.name)).toContain('KafkaJSSASLAuthenticationError')

    const { ca: _ca, ...withoutCa } = poller.tls!
    const [untrusted, untrustedMs] = await timed({ ...poller, tls: withoutCa })
    expect(
      chain(untrusted)
        .map((e) => e.message)
        .join(' | '),
    ).toMatch(/self[- ]signed certificate in certificate chain|SELF_SIGNED_CERT_IN_CHAIN/i)

    const [withoutCertificate, withoutMs] = await timed({
      ...security().connection('admin'),
      tls: { ca: poller.tls!.ca! },
    })
    expect(withoutCertificate).not.toBe('connected')
    expect(chain(withoutCertificate).map((e) => e.name)).not.toContain(
      'KafkaJSSASLAuthenticationError',
    )
    process.stderr.write(
      `[dev-stack-secure] refused: wrong password in ${wrongMs} ms ("${chain(wrongPassword)[0]?.message}"); ` +
        `no CA in ${untrustedMs} ms ("${chain(untrusted).at(-1)?.message}"); ` +
        `no client certificate in ${withoutMs} ms ("${chain(withoutCertificate).at(-1)?.message.trim()}")\n`,
    )
  })

  it('never writes a password to the nodes’ logs or its progress lines', () => {
    const secrets = security().users.map((user) =>
      readFileSync(security().passwordFile(user), 'utf8'),
    )
    for (const node of cluster.nodes) {
      const properties = readFileSync(join(node.workDir, 'server.properties'), 'utf8')
      const store = /^ssl\.keystore\.password=(.*)$/m.exec(properties)?.[1]
      expect(store, 'the stores’ password in server.properties').toBeTruthy()
      secrets.push(store!)
    }
    const texts: [string, string][] = [['progress', progress.join('\n')]]
    for (const node of cluster.nodes) {
      texts.push([node.logFile, readFileSync(node.logFile, 'utf8')])
      texts.push([
        join(node.workDir, 'stdout.log'),
        readFileSync(join(node.workDir, 'stdout.log'), 'utf8'),
      ])
    }
    // The logs are real: the start and the refused logins above are in them.
    expect(
      texts.some(
        ([, text]) =>
          text.includes('Kafka Server started') || text.includes('started (kafka.server'),
      ),
    ).toBe(true)
    for (const [file, text] of texts) {
      for (const secret of secrets)
        expect(text.includes(secret), `a password in ${file}`).toBe(false)
    }
  })
})
