import { readConfig, type Env, type EnvReader, type Secret } from '@wolkvox-chat-stream/config'

/** The Kafka part of a service's configuration (ARCHITECTURE.md: Configuration). */
export interface KafkaSettings {
  /** `KAFKA_BROKERS`: bootstrap brokers, `host:port`, comma-separated. */
  brokers: string[]
  /** `KAFKA_CLIENT_ID`; the service name by default. */
  clientId: string
  /** `KAFKA_SSL`: TLS to the brokers, certificates verified. */
  ssl: boolean
  /** `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`. */
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
  const password = reader.secret('KAFKA_SASL_PASSWORD')
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
    if (password === undefined) reader.report('KAFKA_SASL_PASSWORD', `is required with SASL`)
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
