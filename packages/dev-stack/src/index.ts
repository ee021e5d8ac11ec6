export { devStackHome } from './paths.js'
export { freePort, isPortFree } from './ports.js'
export {
  assertPrerequisites,
  findMissingPrerequisites,
  javaMajorVersion,
  type Prerequisite,
} from './prerequisites.js'
export { ensureKafkaJars, DEFAULT_KAFKA_VERSION, kafkaMajor, kafkaVersionFromEnv } from './jars.js'
export {
  startKafkaBroker,
  type KafkaBroker,
  type KafkaBrokerOptions,
  type KafkaNodeIdentity,
  type LocalKafka,
  type StopSignal,
} from './kafka-broker.js'
export {
  brokersFromArgs,
  CLUSTER_PROBE_TOPIC,
  clusterProperties,
  kafkaNodesFromEnv,
  MAX_CLUSTER_NODES,
  startKafkaCluster,
  type KafkaCluster,
  type KafkaClusterOptions,
} from './kafka-cluster.js'
export { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.js'
export {
  cleanupOrphans,
  listProcesses,
  isAlive,
  registerProcess,
  type ProcessRecord,
} from './process-registry.js'
export {
  startPrivateStack,
  stackUp,
  stackDown,
  readStackState,
  type PrivateStack,
  type StackState,
} from './stack.js'
