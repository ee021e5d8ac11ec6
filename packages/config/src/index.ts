export { parseDuration, formatDuration } from './duration.js'
export { Secret, isSecret, readSecretFile } from './secret.js'
export { EnvReader, readConfig, type Env, type ConfigProblem } from './env.js'
export { readPemFile } from './pem.js'
