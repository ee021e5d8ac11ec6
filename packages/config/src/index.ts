export { parseDuration, formatDuration } from './duration.js'
export { Secret, isSecret, readSecretFile } from './secret.js'
export { EnvReader, readConfig, type Env, type ConfigProblem } from './env.js'
export { readPemFile } from './pem.js'
export {
  isLoopbackAddress,
  MIN_TOKEN_LENGTH,
  parseTokenFile,
  readHttpHost,
  readHttpSecurity,
  readTokenFile,
  type HttpAuthSettings,
  type HttpSecurity,
} from './http.js'
export { optional } from './optional.js'
export {
  agentKeyOf,
  hasControlCharacter,
  isConnId,
  MAX_AGENT_KEY_LENGTH,
  MAX_CONN_ID_LENGTH,
  serverCodePattern,
} from './identifiers.js'
export { nestedDeeperThan } from './json-depth.js'
