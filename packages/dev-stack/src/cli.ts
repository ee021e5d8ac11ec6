import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { tail } from './child.js'
import { isAlive } from './process-registry.js'
import { kafkaVersionFromEnv } from './jars.js'
import { brokersFromArgs, secureFromArgs } from './kafka-cluster.js'
import {
  deadKafkaLogs,
  readStackState,
  redisClusterFromArgs,
  schemaRegistryFromArgs,
  stackDown,
  stackKafkaEnv,
  stackRedisEnv,
  stackSchemaRegistryEnv,
  stackUp,
  STACK_REDIS_USER,
  type StackState,
} from './stack.js'

/*
 * `npm run stack:up [-- --brokers N] [--secure] [--redis-cluster [--redis-tls]] [--registry]` /
 * `npm run stack:down` / `... cli.ts status`.
 * `--brokers 3` (or `KAFKA_NODES=3`) starts a three-node KRaft cluster instead of one broker;
 * `--secure` (or `KAFKA_SECURE=true`) secures it (TLS, mutual TLS, SCRAM-SHA-512, ACLs) and prints
 * the poller's variables, its password as a file path.
 * Redis: exactly the one `REDIS_URL` names when it is set (it must answer), else a redis-server of
 * the stack's own (6379 when free, else a free port; whatever answers on 6379 is never used),
 * printed as REDIS_URL and stopped by `down`.
 * `--redis-cluster` (or `REDIS_CLUSTER=true`) starts a Redis Cluster (3 masters, 3 replicas, ACL
 * user wcs) instead of using or starting one Redis, and prints REDIS_CLUSTER_NODES, REDIS_USERNAME
 * and REDIS_PASSWORD_FILE instead of REDIS_URL; `--redis-tls` (or `REDIS_TLS=true`) puts it on TLS
 * (REDIS_TLS, REDIS_TLS_CA_FILE).
 * `--registry` (or `SCHEMA_REGISTRY=true`) also starts an Apicurio Registry (in memory) and prints
 * SCHEMA_REGISTRY_URL, its Confluent-compatible API (`…/apis/ccompat/v7`).
 * The variables go to stdout (so `eval "$(npm run -s stack:up)"` works); progress goes to stderr.
 */
const progress = (line: string): void => {
  process.stderr.write(`${line}\n`)
}

/** `value` as one shell word: as is when plain, else in single quotes. */
const shellWord = (value: string): string =>
  /^[A-Za-z0-9_./:,@%+=-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`

/** The stack's variables for the poller, as `NAME=value` lines. */
function variables(state: StackState): string {
  const env = {
    ...stackKafkaEnv(state, 'poller'),
    ...stackRedisEnv(state),
    ...stackSchemaRegistryEnv(state),
  }
  return Object.entries(env)
    .map(([name, value]) => `${name}=${shellWord(value)}\n`)
    .join('')
}

async function main(command: string | undefined, args: readonly string[]): Promise<number> {
  switch (command) {
    case 'up': {
      const redisCluster = redisClusterFromArgs(args, process.env)
      const schemaRegistry = schemaRegistryFromArgs(args, process.env)
      const state = await stackUp({
        redisUrl: process.env.REDIS_URL,
        kafkaVersion: kafkaVersionFromEnv(),
        brokers: brokersFromArgs(args, process.env),
        secure: secureFromArgs(args, process.env),
        redisCluster,
        schemaRegistry,
        onProgress: progress,
      })
      if (state.reused) progress('The local stack is already running.')
      if (state.reused && (redisCluster !== undefined) !== (state.redisCluster !== undefined)) {
        progress(
          `It runs ${state.redisCluster ? 'a Redis Cluster' : 'no Redis Cluster'}: stack:down first to change that.`,
        )
      }
      if (state.reused && schemaRegistry && !state.schemaRegistry) {
        progress('It runs no schema registry: stack:down first, then stack:up --registry.')
      }
      process.stdout.write(variables(state))
      if (state.kafka.security) {
        progress(
          `Secured: the variables above are the poller's (SCRAM user poller; its password is in KAFKA_SASL_PASSWORD_FILE). ` +
            `Users: ${state.kafka.security.users.join(', ')}; password files in ${dirname(state.kafka.security.passwordFiles.admin ?? '')}.`,
        )
      }
      if (state.redisCluster) {
        progress(
          `Redis Cluster: the variables above are user ${STACK_REDIS_USER}'s (its password is in REDIS_PASSWORD_FILE).`,
        )
      }
      progress('Stop it with: npm run stack:down')
      return 0
    }
    case 'down': {
      try {
        const state = await stackDown()
        progress(
          `Stopped Kafka${state.kafka.nodes ? ` (${state.kafka.nodes.length} nodes)` : ''} at ${state.kafkaBrokers}` +
            `${state.redis ? ` and redis-server at ${state.redisUrl}` : ''}` +
            `${state.redisCluster ? ` and the Redis Cluster (${state.redisCluster.nodes.length} nodes) at ${state.redisCluster.env.REDIS_CLUSTER_NODES ?? ''}` : ''}` +
            `${state.schemaRegistry ? ` and the Apicurio Registry at ${state.schemaRegistry.url}` : ''}.`,
        )
      } catch (error) {
        if (!isAppError(error, 'DEV_STACK_NOT_RUNNING')) throw error
        progress('Nothing to stop: no stack started by `npm run stack:up` is running.')
      }
      return 0
    }
    case 'status': {
      const state = readStackState()
      if (!state) {
        progress('No local stack is running.')
        return 1
      }
      const pids = state.kafka.nodes?.map((n) => n.pid) ?? [state.kafka.pid]
      const down = state.kafka.nodes?.filter((n) => !isAlive(n.pid)).map((n) => n.nodeId) ?? []
      const redisDown =
        state.redisCluster?.nodes.filter((n) => !isAlive(n.pid)).map((n) => `:${n.port}`) ?? []
      const up = pids.some(isAlive)
      const registryDown = state.schemaRegistry !== undefined && !isAlive(state.schemaRegistry.pid)
      const downParts = [
        ...(down.length > 0 ? [`node(s) ${down.join(', ')}`] : []),
        ...(redisDown.length > 0 ? [`Redis Cluster node(s) ${redisDown.join(', ')}`] : []),
      ]
      process.stdout.write(variables(state))
      progress(
        !up
          ? 'The recorded broker is not running; run stack:down then stack:up.'
          : downParts.length > 0
            ? `Running since ${state.startedAt}, but ${downParts.join(' and ')} are down.`
            : `Running since ${state.startedAt}.`,
      )
      // Why a broker or node ended is in its log (kept: only stack:down removes the folder).
      for (const { who, logFile } of deadKafkaLogs(state, isAlive)) {
        if (existsSync(logFile))
          progress(`The log of ${who} (${logFile}) ends:\n${tail(logFile, 8).trim()}`)
      }
      if (registryDown) {
        progress(
          `The schema registry (pid ${state.schemaRegistry!.pid}) is not running; run stack:down then stack:up --registry.`,
        )
      }
      return up ? 0 : 1
    }
    default:
      progress(
        'Usage: stack up [--brokers N] [--secure] [--redis-cluster [--redis-tls]] [--registry] | down | status',
      )
      return 2
  }
}

main(process.argv[2], process.argv.slice(3)).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    const code = isAppError(error) ? `${error.code}: ` : ''
    process.stderr.write(`${code}${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 1
  },
)
