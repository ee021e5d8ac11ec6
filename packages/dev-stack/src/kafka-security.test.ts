import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, createServer, type TLSSocket } from 'node:tls'
import { afterAll, describe, expect, it } from 'vitest'
import { redact, serverProperties } from './kafka-broker.js'
import { kafkaSecureFromEnv, secureFromArgs } from './kafka-cluster.js'
import {
  clientConnection,
  clientEnv,
  clusterUsers,
  createClusterTls,
  writeUserPasswords,
} from './kafka-security.js'

const parse = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/su).slice(0, 2) as [string, string]),
  )

const security = {
  keystoreFile: '/w/tls/node.keystore.p12',
  truststoreFile: '/w/tls/truststore.p12',
  storePassword: 'store-pw',
  nodePrincipal: 'User:CN=wolkvox-kafka-node',
  adminUser: 'admin',
  scramUsers: [
    { name: 'admin', password: 'admin-pw' },
    { name: 'poller', password: 'poller-pw' },
  ],
}

describe('a secured node’s server.properties', () => {
  const voters = [1, 2, 3].map((nodeId) => ({ nodeId, controllerPort: 19000 + nodeId }))
  const props = parse(
    serverProperties({
      port: 9094,
      controllerPort: 19002,
      dataDir: '/d2',
      node: { nodeId: 2, voters },
      security,
    }),
  )

  it('has SASL_SSL for clients and between brokers, SSL for the controllers', () => {
    expect(props).toMatchObject({
      listeners: 'SASL_SSL://127.0.0.1:9094,CONTROLLER://127.0.0.1:19002',
      'advertised.listeners': 'SASL_SSL://127.0.0.1:9094',
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'SASL_SSL',
      'listener.security.protocol.map': 'CONTROLLER:SSL,SASL_SSL:SASL_SSL',
      'controller.quorum.voters': '1@127.0.0.1:19001,2@127.0.0.1:19002,3@127.0.0.1:19003',
    })
  })

  it('requires a client certificate on both listeners and verifies hostnames', () => {
    expect(props).toMatchObject({
      'listener.name.sasl_ssl.ssl.client.auth': 'required',
      'listener.name.controller.ssl.client.auth': 'required',
      'ssl.endpoint.identification.algorithm': 'https',
      'ssl.keystore.type': 'PKCS12',
      'ssl.keystore.location': '/w/tls/node.keystore.p12',
      'ssl.truststore.type': 'PKCS12',
      'ssl.truststore.location': '/w/tls/truststore.p12',
      'ssl.keystore.password': 'store-pw',
      'ssl.truststore.password': 'store-pw',
    })
  })

  it('authenticates with SCRAM-SHA-512, the nodes as admin', () => {
    expect(props).toMatchObject({
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="admin-pw";',
    })
  })

  it('allows nothing without an ACL but to admin and the nodes', () => {
    expect(props).toMatchObject({
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': 'User:admin;User:CN=wolkvox-kafka-node',
      'allow.everyone.if.no.acl.found': 'false',
    })
    expect(Object.values(props)).not.toContain('PLAINTEXT')
    expect(JSON.stringify(props)).not.toContain('poller-pw')
  })

  it('refuses an admin without a SCRAM credential', () => {
    expect(() =>
      serverProperties({
        port: 1,
        controllerPort: 2,
        dataDir: '/d',
        security: { ...security, scramUsers: [] },
      }),
    ).toThrow(/no SCRAM credential for its inter-broker user admin/)
  })
})

describe('secured mode’s users, variables and switches', () => {
  it('has admin, the product users and the extra ones, each once', () => {
    expect(clusterUsers()).toEqual([
      'admin',
      'poller',
      'sentiment-aggregator',
      'tramite-classifier',
      'chat-quality',
    ])
    expect(clusterUsers(['extra-1', 'poller'])).toEqual([
      'admin',
      'poller',
      'sentiment-aggregator',
      'tramite-classifier',
      'chat-quality',
      'extra-1',
    ])
    expect(() => clusterUsers(['bad user'])).toThrow(RangeError)
    expect(() => clusterUsers(['../x'])).toThrow(RangeError)
  })

  it('gives a service its variables with the password as a file', () => {
    expect(
      clientEnv({
        brokers: 'b1:1,b2:2',
        caFile: '/t/ca.pem',
        clientCertFile: '/t/client.pem',
        clientKeyFile: '/t/client-key.pem',
        user: 'poller',
        passwordFile: '/s/poller.password',
        replicationFactor: 3,
      }),
    ).toEqual({
      KAFKA_BROKERS: 'b1:1,b2:2',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: '/t/ca.pem',
      KAFKA_SSL_CERT_FILE: '/t/client.pem',
      KAFKA_SSL_KEY_FILE: '/t/client-key.pem',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'poller',
      KAFKA_SASL_PASSWORD_FILE: '/s/poller.password',
    })
  })

  it('is on with --secure or KAFKA_SECURE=true', () => {
    expect(secureFromArgs([], {})).toBe(false)
    expect(secureFromArgs(['--brokers', '3', '--secure'], {})).toBe(true)
    expect(secureFromArgs([], { KAFKA_SECURE: 'true' })).toBe(true)
    expect(kafkaSecureFromEnv({ KAFKA_SECURE: 'false' })).toBe(false)
    expect(() => kafkaSecureFromEnv({ KAFKA_SECURE: 'maybe' })).toThrow(/KAFKA_SECURE/)
  })

  it('redacts every secret from a text', () => {
    expect(redact('a pw1 b pw2 pw1', ['pw1', 'pw2', ''])).toBe(
      'a [redacted] b [redacted] [redacted]',
    )
  })
})

describe('the files of a secured cluster', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wolkvox-tls-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('writes a random password per user, 0600, without a newline', () => {
    const files = writeUserPasswords(join(dir, 'secrets'), ['admin', 'poller'])
    const admin = readFileSync(files.get('admin')!, 'utf8')
    const poller = readFileSync(files.get('poller')!, 'utf8')
    expect(admin).toMatch(/^[A-Za-z0-9_-]{32}$/)
    expect(poller).not.toBe(admin)
    expect(statSync(files.get('poller')!).mode & 0o777).toBe(0o600)
  })

  it('makes a CA, a node certificate for 127.0.0.1 and a client certificate that pass mutual TLS', async () => {
    const tls = await createClusterTls(join(dir, 'tls'))
    for (const key of [tls.clientKeyFile, tls.nodeKeyFile, tls.keystoreFile]) {
      expect(statSync(key).mode & 0o777, key).toBe(0o600)
    }
    const ca = new X509Certificate(readFileSync(tls.caFile))
    const node = new X509Certificate(readFileSync(tls.nodeCertFile))
    const client = new X509Certificate(readFileSync(tls.clientCertFile))
    expect(ca.ca).toBe(true)
    expect(node.subject).toBe('CN=wolkvox-kafka-node')
    expect(node.subjectAltName).toBe('IP Address:127.0.0.1, DNS:localhost')
    expect(node.checkIssued(ca) && node.verify(ca.publicKey)).toBe(true)
    expect(client.subject).toBe('CN=wolkvox-client')
    expect(client.verify(ca.publicKey)).toBe(true)

    // A TLS server with the node's certificate that requires a client certificate, and the
    // connection a service would make: the handshake verifies both sides and the address.
    const server = createServer({
      cert: readFileSync(tls.nodeCertFile),
      key: readFileSync(tls.nodeKeyFile),
      ca: readFileSync(tls.caFile),
      requestCert: true,
      rejectUnauthorized: true,
    })
    const peers: string[] = []
    server.on('secureConnection', (socket: TLSSocket) => {
      peers.push(String(socket.getPeerCertificate().subject.CN))
      socket.end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    try {
      const connection = clientConnection({
        brokers: [`127.0.0.1:${port}`],
        ...tls,
        user: 'u',
        passwordFile: join(dir, 'secrets', 'poller.password'),
      })
      expect(JSON.stringify(connection)).not.toContain('PRIVATE KEY')
      const key = connection.tls!.key
      const handshake = (options: { ca?: string; cert?: string; key?: string }) =>
        new Promise<string>((resolve) => {
          const socket = connect({ host: '127.0.0.1', port, ...options }, () => {
            resolve(socket.authorized ? 'authorized' : String(socket.authorizationError))
            socket.end()
          })
          socket.on('error', (error: Error) => resolve(error.message))
        })
      expect(
        await handshake({
          ca: connection.tls!.ca!,
          cert: connection.tls!.cert!,
          key: typeof key === 'string' ? key : key!.reveal(),
        }),
      ).toBe('authorized')
      expect(await handshake({})).toMatch(/self[- ]signed certificate in certificate chain/i)
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
    expect(peers).toContain('wolkvox-client')
  }, 60_000)
})
