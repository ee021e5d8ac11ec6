/*
 * What a secured local cluster is made of, made at each start under the cluster's folder: a
 * private CA, one certificate for every node, a client certificate, the JVM's PKCS12 stores, and
 * one random SCRAM-SHA-512 password per user. Nothing here is long-lived: `stop()` removes it all.
 *
 *   <workDir>/tls/ca.pem, ca-key.pem                 the private CA (the key stays here, 0600)
 *   <workDir>/tls/node.pem, node-key.pem             SAN IP:127.0.0.1, DNS:localhost; every node's
 *   <workDir>/tls/node.keystore.p12, truststore.p12  the same as PKCS12 for the JVM
 *   <workDir>/tls/client.pem, client-key.pem         CN=wolkvox-client, for mutual TLS
 *   <workDir>/secrets/<user>.password                 0600, no trailing newline
 *
 * The stores' password is random too; it is only in the nodes' `server.properties`.
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '@wolkvox-chat-stream/errors'
import type { KafkaConnection } from '@wolkvox-chat-stream/kafka'
import { Secret } from '@wolkvox-chat-stream/config'
import { createCa, issueLeaf, LOCALHOST_SAN, runCertTool } from './tls-files.js'

/** The super user the cluster's own checks and the nodes' inter-broker traffic use. */
export const ADMIN_USER = 'admin'

/** The SCRAM users of the product's principals, each with its own ACLs (see `kafka-acls.ts`). */
export const PRODUCT_USERS = [
  'poller',
  'sentiment-aggregator',
  'tramite-classifier',
  'chat-quality',
] as const

/** The common name of the nodes' certificate: on the controller listener they are `User:CN=…`. */
export const NODE_CERT_CN = 'wolkvox-kafka-node'

/** The common name of the client certificate every user presents (SCRAM names the principal). */
export const CLIENT_CERT_CN = 'wolkvox-client'

/** The principal of the nodes on the controller listener (mutual TLS, no SASL). */
export const NODE_PRINCIPAL = `User:CN=${NODE_CERT_CN}`

const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** The files of a secured cluster's TLS. */
export interface ClusterTls {
  /** The private CA's certificate (PEM); the only CA that signs the nodes and the client. */
  caFile: string
  /** The nodes' certificate and key (PEM). */
  nodeCertFile: string
  nodeKeyFile: string
  /** PKCS12: the node key with its chain, and the CA as a trusted certificate. */
  keystoreFile: string
  truststoreFile: string
  /** The client certificate (CN={@link CLIENT_CERT_CN}) and its key (PEM, 0600). */
  clientCertFile: string
  clientKeyFile: string
  /** The PKCS12 stores' password (random; also in each node's `server.properties`). */
  storePassword: string
}

/**
 * A cluster's SCRAM users (lower-case letters, digits, `.`, `_`, `-`), admin first, each once:
 * admin, the product users, then `extra`.
 * @throws RangeError for a name Kafka or a file name could not hold (a programming error).
 */
export function clusterUsers(extra: readonly string[] = []): string[] {
  for (const name of extra) {
    if (!USER_NAME.test(name)) throw new RangeError(`"${name}" is not a valid SCRAM user name`)
  }
  return [...new Set([ADMIN_USER, ...PRODUCT_USERS, ...extra])]
}

/** A random password: 32 characters of base64url, so it needs no quoting in JAAS or `--add-scram`. */
export function newPassword(): string {
  return randomBytes(24).toString('base64url')
}

/**
 * Writes a random password for each user to `<dir>/<user>.password` (0600, no trailing newline)
 * and returns the file of each.
 */
export function writeUserPasswords(dir: string, users: readonly string[]): Map<string, string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const files = new Map<string, string>()
  for (const user of users) {
    const file = join(dir, `${user}.password`)
    writeFileSync(file, newPassword(), { mode: 0o600 })
    chmodSync(file, 0o600)
    files.set(user, file)
  }
  return files
}

/**
 * The variables a service reads to reach a secured cluster as `user` (see packages/kafka's
 * config): TLS with the private CA and the client certificate, SCRAM-SHA-512 with the password
 * in a file. No password is among them.
 */
export function clientEnv(options: {
  brokers: string
  caFile: string
  clientCertFile: string
  clientKeyFile: string
  user: string
  passwordFile: string
  /**
   * The cluster's replication factor, for topics a service creates: a principal with CREATE on its
   * topics but no DESCRIBE_CONFIGS on the cluster cannot read the brokers' default.
   */
  replicationFactor: number
}): Record<string, string> {
  return {
    KAFKA_BROKERS: options.brokers,
    KAFKA_REPLICATION_FACTOR: String(options.replicationFactor),
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: options.caFile,
    KAFKA_SSL_CERT_FILE: options.clientCertFile,
    KAFKA_SSL_KEY_FILE: options.clientKeyFile,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: options.user,
    KAFKA_SASL_PASSWORD_FILE: options.passwordFile,
  }
}

/**
 * The {@link KafkaConnection} of `user` on a secured cluster: the private CA instead of the
 * system's, the client certificate and key for mutual TLS, and SCRAM-SHA-512 with the password
 * read from its file. The key and the password are {@link Secret}s, so the connection can be
 * logged.
 */
export function clientConnection(options: {
  brokers: readonly string[]
  caFile: string
  clientCertFile: string
  clientKeyFile: string
  user: string
  passwordFile: string
}): KafkaConnection {
  return {
    brokers: [...options.brokers],
    tls: {
      ca: readFileSync(options.caFile, 'utf8'),
      cert: readFileSync(options.clientCertFile, 'utf8'),
      key: new Secret(readFileSync(options.clientKeyFile, 'utf8')),
    },
    sasl: {
      mechanism: 'scram-sha-512',
      username: options.user,
      password: new Secret(readFileSync(options.passwordFile, 'utf8')),
    },
  }
}

/** Runs `openssl` or `keytool`; a failure is the broker's start failing (see `tls-files.ts`). */
const run = (command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> =>
  runCertTool(command, args, { code: 'DEV_STACK_BROKER_START_FAILED', env })

/**
 * Makes a secured cluster's TLS in `dir` with `openssl` (and `keytool` for the truststore):
 * a private CA, the nodes' certificate (CN={@link NODE_CERT_CN}, SAN `IP:127.0.0.1, DNS:localhost`,
 * server and client use: the nodes are each other's clients), a client certificate
 * (CN={@link CLIENT_CERT_CN}), a PKCS12 keystore (`openssl pkcs12 -export`) and a PKCS12
 * truststore (`keytool -importcert`: Java ignores a certificate in a PKCS12 that OpenSSL 3.0
 * wrote without a key). Both stores are then listed by `keytool`, so a store Java cannot read
 * fails here rather than in the broker. Private keys are 0600. Takes a second or two.
 * @throws AppError `DEV_STACK_BROKER_START_FAILED` with the failing command's output.
 */
export async function createClusterTls(
  dir: string,
  options: { days?: number } = {},
): Promise<ClusterTls> {
  const days = options.days ?? 365
  const code = 'DEV_STACK_BROKER_START_FAILED'
  const storePassword = newPassword()
  // The password reaches openssl and keytool by variable, never on a command line.
  const withPassword = { ...process.env, WOLKVOX_STORE_PASSWORD: storePassword }
  await createCa(dir, { cn: 'wolkvox-dev-stack-ca', days, code })
  await Promise.all([
    issueLeaf(dir, 'node', {
      cn: NODE_CERT_CN,
      usage: 'serverAuth, clientAuth',
      san: LOCALHOST_SAN,
      days,
      code,
    }),
    issueLeaf(dir, 'client', { cn: CLIENT_CERT_CN, usage: 'clientAuth', days, code }),
  ])

  const tls: ClusterTls = {
    caFile: join(dir, 'ca.pem'),
    nodeCertFile: join(dir, 'node.pem'),
    nodeKeyFile: join(dir, 'node-key.pem'),
    keystoreFile: join(dir, 'node.keystore.p12'),
    truststoreFile: join(dir, 'truststore.p12'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client-key.pem'),
    storePassword,
  }
  await Promise.all([
    run(
      'openssl',
      [
        'pkcs12',
        '-export',
        '-in',
        tls.nodeCertFile,
        '-inkey',
        tls.nodeKeyFile,
        '-certfile',
        tls.caFile,
        '-name',
        'kafka-node',
        '-out',
        tls.keystoreFile,
        '-passout',
        'env:WOLKVOX_STORE_PASSWORD',
      ],
      withPassword,
    ),
    run(
      'keytool',
      [
        '-importcert',
        '-noprompt',
        '-alias',
        'wolkvox-dev-stack-ca',
        '-file',
        tls.caFile,
        '-keystore',
        tls.truststoreFile,
        '-storetype',
        'PKCS12',
        '-storepass:env',
        'WOLKVOX_STORE_PASSWORD',
      ],
      withPassword,
    ),
  ])
  chmodSync(tls.keystoreFile, 0o600)
  chmodSync(tls.truststoreFile, 0o600)

  // Java reads what it will read in the broker: a key entry, and a trusted certificate entry.
  const list = (file: string): Promise<string> =>
    run(
      'keytool',
      [
        '-list',
        '-keystore',
        file,
        '-storetype',
        'PKCS12',
        '-storepass:env',
        'WOLKVOX_STORE_PASSWORD',
      ],
      withPassword,
    )
  const [keystore, truststore] = await Promise.all([
    list(tls.keystoreFile),
    list(tls.truststoreFile),
  ])
  for (const [file, listing, kind] of [
    [tls.keystoreFile, keystore, 'PrivateKeyEntry'],
    [tls.truststoreFile, truststore, 'trustedCertEntry'],
  ] as const) {
    if (!listing.includes(kind)) {
      throw new AppError(
        'DEV_STACK_BROKER_START_FAILED',
        `Java does not see a ${kind} in ${file}; keytool listed:\n${listing.trim().slice(-1_000)}`,
      )
    }
  }
  return tls
}
