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
  securedNodeProperties,
  serverProperties,
  startKafkaBroker,
  type KafkaBroker,
  type KafkaBrokerOptions,
  type KafkaNodeIdentity,
  type KafkaNodeSecurity,
  type LocalKafka,
  type StopSignal,
} from './kafka-broker.js'
export {
  brokersFromArgs,
  CLUSTER_PROBE_TOPIC,
  clusterProperties,
  kafkaNodesFromEnv,
  kafkaSecureFromEnv,
  MAX_CLUSTER_NODES,
  secureFromArgs,
  startKafkaCluster,
  type KafkaCluster,
  type KafkaClusterOptions,
  type KafkaClusterSecurity,
} from './kafka-cluster.js'
export {
  ADMIN_USER,
  CLIENT_CERT_CN,
  NODE_CERT_CN,
  NODE_PRINCIPAL,
  PRODUCT_USERS,
  clientEnv,
  createClusterTls,
  type ClusterTls,
} from './kafka-security.js'
export {
  aclEntries,
  consumerServiceAcls,
  grantAcls,
  pollerAcls,
  productAcls,
  READER_GROUP_PREFIX,
  renderAclTable,
  type AclEntry,
  type AclGrant,
  type AclOperationName,
  type PrincipalAcls,
} from './kafka-acls.js'
export { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.js'
export {
  MAX_REDIS_CLUSTER_MASTERS,
  MAX_REDIS_REPLICAS_PER_MASTER,
  PRODUCT_REDIS_ACL,
  startRedisCluster,
  type RedisCluster,
  type RedisClusterNode,
  type RedisClusterOptions,
} from './redis-cluster.js'
export {
  CCOMPAT_PATH,
  chooseJava,
  DEFAULT_SCHEMA_REGISTRY_VERSION,
  ensureSchemaRegistryDistribution,
  findJava,
  javaMajorFromVersionOutput,
  registryJavaMajor,
  schemaRegistryVersionFromEnv,
  startSchemaRegistry,
  type JavaInstall,
  type SchemaRegistry,
  type SchemaRegistryOptions,
} from './schema-registry.js'
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
  redisClusterFromArgs,
  schemaRegistryFromArgs,
  stackKafkaEnv,
  stackRedisEnv,
  stackSchemaRegistryEnv,
  STACK_REDIS_USER,
  type PrivateRedisClusterStack,
  type PrivateStack,
  type PrivateStackBase,
  type PrivateStackOptions,
  type StackRedisClusterOptions,
  type StackSecurity,
  type StackState,
} from './stack.js'
