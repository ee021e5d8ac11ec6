export {
  createRedis,
  pingRedis,
  redisOptions,
  waitUntilReady,
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
