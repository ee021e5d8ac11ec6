import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs'

/** What the adapter needs to reach a cluster; services build it from their configuration. */
export interface KafkaConnection {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[]
  clientId?: string
  ssl?: boolean
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
    username: string
    password: string
  }
  /** Receives kafkajs's own log records; by default they are dropped below `warn`. */
  log?: (entry: KafkaLogEntry) => void
  connectionTimeoutMs?: number
  requestTimeoutMs?: number
}

/** One kafkajs log record, reshaped for the project logger. */
export interface KafkaLogEntry {
  level: 'error' | 'warn' | 'info' | 'debug'
  namespace: string
  message: string
  fields: Record<string, unknown>
}

const LEVELS: Record<number, KafkaLogEntry['level']> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
}

/**
 * Builds the kafkajs client. The returned object is the raw kafkajs `Kafka`: services use the
 * adapter's helpers, while benchmarks use it directly as their baseline.
 */
export function createKafkaClient(connection: KafkaConnection): Kafka {
  // kafkajs prints a notice about its default partitioner on every producer unless told not to.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'
  const log = connection.log
  const config: KafkaConfig = {
    clientId: connection.clientId ?? 'wolkvox-chat-stream',
    brokers: [...connection.brokers],
    ssl: connection.ssl ?? false,
    connectionTimeout: connection.connectionTimeoutMs ?? 3_000,
    requestTimeout: connection.requestTimeoutMs ?? 30_000,
    logLevel: log ? logLevel.INFO : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return
      const { message, ...fields } = entry.log
      log({ level: LEVELS[entry.level] ?? 'info', namespace: entry.namespace, message, fields })
    },
  }
  if (connection.sasl) {
    config.sasl = {
      mechanism: connection.sasl.mechanism,
      username: connection.sasl.username,
      password: connection.sasl.password,
    } as SASLOptions
  }
  return new Kafka(config)
}
