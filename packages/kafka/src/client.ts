import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs'
import type { Secret } from '@wolkvox-chat-stream/config'
import type { Logger } from '@wolkvox-chat-stream/observability'
import { projectLevelOf } from './kafka-log.js'

/** What the adapter needs to reach a cluster; services build it from their configuration. */
export interface KafkaConnection {
  /** Bootstrap brokers, `host:port`. */
  brokers: readonly string[]
  clientId?: string
  /** TLS to the brokers with the system's CAs, hostnames verified. Implied by {@link tls}. */
  ssl?: boolean
  /**
   * TLS material as PEM text: `ca` replaces the system's CAs (a private CA), `cert` and `key` are
   * the client's certificate and key for mutual TLS. Hostname verification stays on.
   */
  tls?: {
    ca?: string
    cert?: string
    /** Revealed only inside the TLS handshake. */
    key?: string | Secret
  }
  sasl?: {
    mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
    username: string
    /** Revealed only inside the SASL handshake. */
    password: string | Secret
  }
  /**
   * Receives kafkajs's own log records, at the project's level for them (kafkajs's `info` and
   * known normal broker answers at `debug`, one warning dropped: see `projectLevelOf`).
   */
  log?: (entry: KafkaLogEntry) => void
  /** Routes kafkajs's log records to the project logger (see {@link kafkaLogToLogger}). */
  logger?: Logger
  /** kafkajs's log level when `log` is given without `logger` (default `info`). */
  logLevel?: KafkaLogEntry['level']
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
 * A `log` function that writes kafkajs's records to `logger` as `kafka: <message>` with the
 * kafkajs namespace in `kafkaNamespace` and kafkajs's fields as they are (broker, topic, error).
 */
export function kafkaLogToLogger(logger: Logger): (entry: KafkaLogEntry) => void {
  return ({ level, namespace, message, fields }) => {
    logger[level](`kafka: ${message}`, { kafkaNamespace: namespace, ...fields })
  }
}

const LEVEL_OF: Record<KafkaLogEntry['level'], logLevel> = {
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
}

function kafkaLevelFor(logger: Logger | undefined, level?: KafkaLogEntry['level']): logLevel {
  if (!logger) return LEVEL_OF[level ?? 'info']
  if (logger.isLevelEnabled('debug')) return logLevel.DEBUG
  if (logger.isLevelEnabled('info')) return logLevel.INFO
  if (logger.isLevelEnabled('warn')) return logLevel.WARN
  if (logger.isLevelEnabled('error')) return logLevel.ERROR
  return logLevel.NOTHING
}

/** kafkajs's `ssl`: `false`, `true` (system CAs), or Node's TLS options for a private CA and mTLS. */
function tlsOptions(connection: KafkaConnection): KafkaConfig['ssl'] {
  const tls = connection.tls
  if (!tls || (tls.ca === undefined && tls.cert === undefined && tls.key === undefined)) {
    return connection.ssl ?? false
  }
  const key =
    tls.key === undefined ? undefined : typeof tls.key === 'string' ? tls.key : tls.key.reveal()
  return {
    rejectUnauthorized: true,
    ...(tls.ca === undefined ? {} : { ca: [tls.ca] }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(key === undefined ? {} : { key }),
  }
}

/**
 * Builds the kafkajs client. The returned object is the raw kafkajs `Kafka`: services use the
 * adapter's helpers, while benchmarks use it directly as their baseline.
 */
export function createKafkaClient(connection: KafkaConnection): Kafka {
  // kafkajs prints a notice about its default partitioner on every producer unless told not to.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1'
  const log =
    connection.log ?? (connection.logger ? kafkaLogToLogger(connection.logger) : undefined)
  const config: KafkaConfig = {
    clientId: connection.clientId ?? 'wolkvox-chat-stream',
    brokers: [...connection.brokers],
    ssl: tlsOptions(connection),
    connectionTimeout: connection.connectionTimeoutMs ?? 3_000,
    requestTimeout: connection.requestTimeoutMs ?? 30_000,
    logLevel: log ? kafkaLevelFor(connection.logger, connection.logLevel) : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!log) return
      // kafkajs adds its own timestamp and logger name; the project logger has both.
      const { message, timestamp: _timestamp, logger: _logger, ...fields } = entry.log
      const record = {
        level: LEVELS[entry.level] ?? 'info',
        namespace: entry.namespace,
        message,
        fields,
      }
      // Normal chatter goes to debug and the bounded-retries warning is dropped (kafka-log.ts).
      const level = projectLevelOf(record)
      if (level !== null) log({ ...record, level })
    },
  }
  if (connection.sasl) {
    const { password } = connection.sasl
    config.sasl = {
      mechanism: connection.sasl.mechanism,
      username: connection.sasl.username,
      password: typeof password === 'string' ? password : password.reveal(),
    } as SASLOptions
  }
  return new Kafka(config)
}
