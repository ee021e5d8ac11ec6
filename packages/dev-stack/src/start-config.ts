import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { MAX_CLUSTER_NODES } from './kafka-cluster.js'

/** The services `npm start` runs, in start order (they stop in the reverse order). */
export const partNames = [
  'simulator',
  'poller',
  'sentiment',
  'classifier',
  'quality',
  'dashboard',
] as const
export type PartName = (typeof partNames)[number]

/** The variable that sets each part's port, and its default (ARCHITECTURE.md: HTTP_PORT). */
export const partPorts: Readonly<Record<PartName, { variable: string; port: number }>> = {
  simulator: { variable: 'SIMULATOR_PORT', port: 8089 },
  poller: { variable: 'POLLER_PORT', port: 8081 },
  sentiment: { variable: 'SENTIMENT_PORT', port: 8082 },
  classifier: { variable: 'CLASSIFIER_PORT', port: 8083 },
  quality: { variable: 'QUALITY_PORT', port: 8084 },
  dashboard: { variable: 'DASHBOARD_PORT', port: 8080 },
}

/** The operation code the poller uses against the simulator (any code works there). */
export const SIMULATOR_SERVER = '0010'
/** The token the simulator accepts by default. */
export const SIMULATOR_TOKEN = 'sim-token'

/** What `npm start` runs, read from the environment once (README: Run it). */
export interface StartConfig {
  /** The simulator, unless a real operation is configured (then the real API is polled). */
  source: 'simulator' | 'wolkvox'
  /** Each part's port: a fixed one, or 0 for a free one. */
  ports: Record<PartName, number>
  /** `KAFKA_BROKERS` when set (used as is); otherwise a local broker is started. */
  kafkaBrokers?: string
  /** `KAFKA_PORT` for the local broker: a port, or `undefined` for 9092 when free. 0: a free one. */
  kafkaPort?: number
  /**
   * `KAFKA_NODES` for the local Kafka: 1 (default) a single broker; more a KRaft cluster of that
   * many nodes (replication factor min(3, n), `min.insync.replicas` 2 from three nodes). Its
   * client ports are `KAFKA_PORT` (or 9092) and the ones after it when free, else free ones.
   */
  kafkaNodes: number
  /** `REDIS_URL` when set (used as is); otherwise a private redis-server is started. */
  redisUrl?: string
  /** `REDIS_PORT` for the private redis-server: as {@link StartConfig.kafkaPort}, 6379 when free. */
  redisPort?: number
  /**
   * `SCHEMA_REGISTRY=true`: a private Apicurio Registry (in memory, free ports) is started beside
   * Kafka and its Confluent-compatible API passed to every service as `SCHEMA_REGISTRY_URL`,
   * unless `SCHEMA_REGISTRY_URL` names one already (then it is used as is, as `KAFKA_BROKERS`).
   * Default false.
   */
  schemaRegistry: boolean
  /** `SCHEMA_REGISTRY_URL` when set: a Confluent-compatible registry, passed on as is. */
  schemaRegistryUrl?: string
  /** `START_RUN_DIR`: where the parts' logs go; default a new folder under the dev-stack home. */
  runDir?: string
  /** Given to the poller: `POLL_START` (default 1d, so a day of history flows at once). */
  pollStart: string
  /** `POLL_INTERVAL` for the poller: default 30s against the simulator, 5m against Wolkvox. */
  pollInterval: string
}

/**
 * Reads `npm start`'s settings. A real operation is configured by `WOLKVOX_OPERATIONS_FILE`, or by
 * `WOLKVOX_SERVER` with `WOLKVOX_TOKEN` or `WOLKVOX_TOKEN_FILE`; half of one is an error rather
 * than a silent fall back to the simulator.
 * @throws AppError `CONFIG_INVALID` listing every problem.
 */
export function readStartConfig(env: Env): Readonly<StartConfig> {
  return readConfig(env, (r) => {
    const server = r.string('WOLKVOX_SERVER')
    const token = r.string('WOLKVOX_TOKEN') ?? r.string('WOLKVOX_TOKEN_FILE')
    const file = r.string('WOLKVOX_OPERATIONS_FILE')
    if (file === undefined && server !== undefined && token === undefined) {
      r.report(
        'WOLKVOX_SERVER',
        'is set without WOLKVOX_TOKEN or WOLKVOX_TOKEN_FILE: set one to poll that operation, or unset WOLKVOX_SERVER to use the simulator',
      )
    }
    if (file === undefined && server === undefined && token !== undefined) {
      r.report(
        'WOLKVOX_TOKEN',
        'is set without WOLKVOX_SERVER: set the operation code too, or unset the token to use the simulator',
      )
    }
    const source = file !== undefined || (server !== undefined && token !== undefined)
    const ports = Object.fromEntries(
      Object.entries(partPorts).map(([name, { variable, port }]) => [
        name,
        r.integer(variable, port, { min: 0, max: 65_535 }),
      ]),
    ) as Record<PartName, number>
    const chosen = Object.entries(ports).filter(([, port]) => port !== 0)
    for (const [name, port] of chosen) {
      const other = chosen.find(([n, p]) => p === port && n < name)
      if (other)
        r.report(partPorts[name as PartName].variable, `${port} is also the ${other[0]}'s port`)
    }
    const optionalPort = (name: string): number | undefined =>
      r.string(name) === undefined ? undefined : r.integer(name, 0, { min: 0, max: 65_535 })
    const kafkaBrokers = r.string('KAFKA_BROKERS')
    const redisUrl = r.string('REDIS_URL')
    const runDir = r.string('START_RUN_DIR')
    const kafkaPort = optionalPort('KAFKA_PORT')
    const kafkaNodes = r.integer('KAFKA_NODES', 1, { min: 1, max: MAX_CLUSTER_NODES })
    const redisPort = optionalPort('REDIS_PORT')
    const schemaRegistry = r.boolean('SCHEMA_REGISTRY', false)
    const schemaRegistryUrl = r.string('SCHEMA_REGISTRY_URL')
    return {
      source: source ? 'wolkvox' : 'simulator',
      ports,
      ...(kafkaBrokers === undefined ? {} : { kafkaBrokers }),
      ...(kafkaPort === undefined ? {} : { kafkaPort }),
      kafkaNodes,
      ...(redisUrl === undefined ? {} : { redisUrl }),
      ...(redisPort === undefined ? {} : { redisPort }),
      schemaRegistry,
      ...(schemaRegistryUrl === undefined ? {} : { schemaRegistryUrl }),
      ...(runDir === undefined ? {} : { runDir }),
      pollStart: r.string('POLL_START', '1d'),
      pollInterval: r.string('POLL_INTERVAL', source ? '5m' : '30s'),
    }
  })
}
