export {
  clusterOptions,
  connectionProblem,
  createRedis,
  pingRedis,
  redisOptions,
  waitUntilReady,
  type ClusterOptions,
  type CreateRedisOptions,
  type Redis,
  type RedisLogger,
  type RedisOptions,
  type RedisRole,
} from './client.js'
export { ensureEpoch, type Epoch } from './epoch.js'
export { redisKeys, tokenKeyPart } from './keys.js'
export { toRedisError } from './redis-error.js'
export { parseRedisUrl, redactRedisUrl, type RedisConnection } from './url.js'
export { hashTagOf, isCluster, scanKeys, unlinkMatching } from './scan.js'
export {
  describeRedis,
  readRedisTarget,
  redisTarget,
  targetOfUrl,
  type RedisAddress,
  type RedisTarget,
} from './target.js'
export { keySlot, replicasOf } from './slot.js'
