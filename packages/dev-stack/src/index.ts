export { devStackHome } from './paths.js'
export { freePort, isPortFree } from './ports.js'
export {
  assertPrerequisites,
  findMissingPrerequisites,
  javaMajorVersion,
  type Prerequisite,
} from './prerequisites.js'
export { ensureKafkaJars, DEFAULT_KAFKA_VERSION, kafkaMajor, kafkaVersionFromEnv } from './jars.js'
export { startKafkaBroker, type KafkaBroker, type KafkaBrokerOptions } from './kafka-broker.js'
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
