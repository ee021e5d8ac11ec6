import {
  readConfig,
  readPemFile,
  type Env,
  type EnvReader,
  Secret,
} from '@wolkvox-chat-stream/config'

/** The Kafka part of a service's configuration (ARCHITECTURE.md: Configuration). */
export interface KafkaSettings {
  /** `KAFKA_BROKERS`: bootstrap brokers, `host:port`, comma-separated. */
  brokers: string[]
  /** `KAFKA_CLIENT_ID`; the service name by default. */
  clientId: string
  /** `KAFKA_SSL`: TLS to the brokers, certificates verified; implied by any `KAFKA_SSL_*_FILE`. */
  ssl: boolean
  /**
   * `KAFKA_SSL_CA_FILE` (a private CA, PEM, replacing the system's), `KAFKA_SSL_CERT_FILE` and
   * `KAFKA_SSL_KEY_FILE` (the client certificate and key for mutual TLS, PEM): read at start, the
   * key kept as a secret. `files` names where each came from.
   */
  tls?: {
    ca?: string
    cert?: string
    key?: Secret
    files: { ca?: string; cert?: string; key?: string }
  }
  /**
   * `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, and `KAFKA_SASL_PASSWORD` or
   * `KAFKA_SASL_PASSWORD_FILE` (the password read from a file, trimmed).
   */
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
    username: string
    password: Secret
  }
  /** `KAFKA_CREATE_TOPICS`: provision topics at start (`true`), or only verify them. */
  createTopics: boolean
  /** `KAFKA_REPLICATION_FACTOR`; `undefined` means the broker's `default.replication.factor`. */
  replicationFactor?: number
  /**
   * `KAFKA_MIN_INSYNC_REPLICAS`: `min.insync.replicas` of created topics and the least every topic
   * must have; `undefined` means 2 for topics of three replicas or more, else the broker's (1).
   */
  minInsyncReplicas?: number
}

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const
function readTls(reader: EnvReader): KafkaSettings['tls'] {
  const files = {
    ca: reader.string('KAFKA_SSL_CA_FILE'),
    cert: reader.string('KAFKA_SSL_CERT_FILE'),
    key: reader.string('KAFKA_SSL_KEY_FILE'),
  }
  if (files.ca === undefined && files.cert === undefined && files.key === undefined)
    return undefined
  if ((files.cert === undefined) !== (files.key === undefined)) {
    const missing = files.cert === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE'
    reader.report(missing, 'is required with the other half of the client certificate (mutual TLS)')
  }
  const tls: NonNullable<KafkaSettings['tls']> = { files: {} }
  if (files.ca !== undefined) {
    tls.files.ca = files.ca
    const ca = readPemFile(reader, 'KAFKA_SSL_CA_FILE', files.ca, 'certificate')
    if (ca !== undefined) tls.ca = ca
  }
  if (files.cert !== undefined) {
    tls.files.cert = files.cert
    const cert = readPemFile(reader, 'KAFKA_SSL_CERT_FILE', files.cert, 'certificate')
    if (cert !== undefined) tls.cert = cert
  }
  if (files.key !== undefined) {
    tls.files.key = files.key
    const key = readPemFile(reader, 'KAFKA_SSL_KEY_FILE', files.key, 'key')
    if (key !== undefined) tls.key = new Secret(key)
  }
  return tls
}

function readPassword(reader: EnvReader): Secret | undefined {
  const inline = reader.secret('KAFKA_SASL_PASSWORD')
  const file = reader.string('KAFKA_SASL_PASSWORD_FILE')
  if (inline !== undefined && file !== undefined) {
    reader.report(
      'KAFKA_SASL_PASSWORD_FILE',
      'set only one of KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE',
    )
  }
  return inline ?? reader.secretFile('KAFKA_SASL_PASSWORD_FILE')
}
const BROKER = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/

/**
 * Reads the Kafka variables through a service's {@link EnvReader}, so that their problems are
 * reported together with the service's others. `clientId` is the default `KAFKA_CLIENT_ID`.
 */
export function readKafkaSettings(reader: EnvReader, clientId: string): KafkaSettings {
  const brokers = reader.list('KAFKA_BROKERS', ['127.0.0.1:9092'])
  if (brokers.length === 0) reader.report('KAFKA_BROKERS', 'lists no broker')
  for (const broker of brokers) {
    const port = Number(BROKER.exec(broker)?.[1] ?? 0)
    if (port < 1 || port > 65535) {
      reader.report('KAFKA_BROKERS', `"${broker}" is not host:port`)
    }
  }
  const settings: KafkaSettings = {
    brokers,
    clientId: reader.string('KAFKA_CLIENT_ID', clientId),
    ssl: reader.boolean('KAFKA_SSL', false),
    createTopics: reader.boolean('KAFKA_CREATE_TOPICS', true),
  }
  const tls = readTls(reader)
  if (tls !== undefined) {
    settings.tls = tls
    // A CA or a client certificate only means anything over TLS.
    settings.ssl = true
  }
  const factor = reader.string('KAFKA_REPLICATION_FACTOR')
  if (factor !== undefined) {
    settings.replicationFactor = reader.integer('KAFKA_REPLICATION_FACTOR', 1, { min: 1, max: 32 })
  }
  if (reader.string('KAFKA_MIN_INSYNC_REPLICAS') !== undefined) {
    const minInsync = reader.integer('KAFKA_MIN_INSYNC_REPLICAS', 1, { min: 1, max: 32 })
    settings.minInsyncReplicas = minInsync
    if (settings.replicationFactor !== undefined && minInsync > settings.replicationFactor) {
      reader.report(
        'KAFKA_MIN_INSYNC_REPLICAS',
        `is ${minInsync}, more than KAFKA_REPLICATION_FACTOR (${settings.replicationFactor}): no write with acks=all could succeed`,
      )
    }
  }

  const mechanismText = reader.string('KAFKA_SASL_MECHANISM')?.toLowerCase()
  const username = reader.string('KAFKA_SASL_USERNAME')
  const password = readPassword(reader)
  if (mechanismText === undefined) {
    if (username !== undefined || password !== undefined) {
      reader.report('KAFKA_SASL_MECHANISM', 'is required when a SASL username or password is set')
    }
  } else if (!(MECHANISMS as readonly string[]).includes(mechanismText)) {
    reader.report(
      'KAFKA_SASL_MECHANISM',
      `"${mechanismText}" is not one of ${MECHANISMS.join(', ')}`,
    )
  } else {
    if (username === undefined) reader.report('KAFKA_SASL_USERNAME', `is required with SASL`)
    if (password === undefined && reader.string('KAFKA_SASL_PASSWORD_FILE') === undefined) {
      reader.report('KAFKA_SASL_PASSWORD', 'or KAFKA_SASL_PASSWORD_FILE is required with SASL')
    }
    if (username !== undefined && password !== undefined) {
      settings.sasl = {
        mechanism: mechanismText as (typeof MECHANISMS)[number],
        username,
        password,
      }
    }
  }
  return settings
}

/**
 * Reads only the Kafka variables (for tools and tests; services use {@link readKafkaSettings}).
 * @throws AppError `CONFIG_INVALID` listing every problem.
 */
export function readKafkaConfig(
  env: Env,
  clientId = 'wolkvox-chat-stream',
): Readonly<KafkaSettings> {
  return readConfig(env, (reader) => readKafkaSettings(reader, clientId))
}
