/**
 * Every error code the project can raise, in one place. The README's "Error codes" table is
 * generated from this list and a test keeps the two in step.
 *
 * `retriable` says whether the same operation may succeed if simply tried again later
 * (a broker or Redis briefly away); non-retriable errors need a change of input or configuration.
 */
export const errorCodes = {
  // configuration (packages/config)
  CONFIG_INVALID: {
    retriable: false,
    summary: 'One or more configuration values are missing or malformed; the message lists each.',
  },
  CONFIG_DURATION_INVALID: {
    retriable: false,
    summary: 'A duration is not of the form 500ms, 30s, 5m, 1h or 1d.',
  },
  // local services (packages/dev-stack)
  DEV_STACK_PREREQUISITE_MISSING: {
    retriable: false,
    summary: 'Java 17+, Maven or redis-server is missing; the message says how to install it.',
  },
  DEV_STACK_JARS_FETCH_FAILED: {
    retriable: true,
    summary: 'Maven could not fetch the Kafka jars (network or repository problem).',
  },
  DEV_STACK_BROKER_START_FAILED: {
    retriable: false,
    summary: 'The local Kafka broker exited or never became ready; the message points at its log.',
  },
  DEV_STACK_REDIS_START_FAILED: {
    retriable: false,
    summary: 'The local redis-server exited or never answered PING.',
  },
  DEV_STACK_NOT_RUNNING: {
    retriable: false,
    summary: 'stack:down found no stack started by stack:up.',
  },
  // Redis (packages/redis)
  REDIS_UNAVAILABLE: {
    retriable: true,
    summary: 'Redis did not answer (connection refused, timeout, or closed).',
  },
  REDIS_URL_INVALID: {
    retriable: false,
    summary: 'REDIS_URL is not a redis:// or rediss:// URL.',
  },
  REDIS_KEY_INVALID: {
    retriable: false,
    summary: 'A Redis key part is empty or holds {, }, whitespace or a control character.',
  },
  REDIS_COMMAND_FAILED: {
    retriable: false,
    summary: 'Redis refused a command (wrong type, script error, bad password); do not retry.',
  },
  // token lock (packages/token-lock)
  LOCK_LEASE_LOST: {
    retriable: true,
    summary:
      'The token lease ended before the work did (expired, taken over, Redis lost it, or renewal unconfirmed); the work was aborted.',
  },
  // Kafka (packages/kafka)
  KAFKA_UNAVAILABLE: {
    retriable: true,
    summary: 'The Kafka cluster could not be reached or had no leader for a partition.',
  },
  KAFKA_REQUEST_FAILED: {
    retriable: false,
    summary: 'Kafka refused a request for a reason that retrying will not fix.',
  },
  // metrics and HTTP server (packages/observability)
  METRICS_NAME_INVALID: {
    retriable: false,
    summary: 'A metric or label name is malformed (^wolkvox_[a-z0-9_]+$) or already registered.',
  },
  HTTP_LISTEN_FAILED: {
    retriable: false,
    summary: 'The health/metrics HTTP server could not bind its port (in use, or no permission).',
  },
} as const satisfies Record<string, { retriable: boolean; summary: string }>

/** A code from the project's registry. */
export type ErrorCode = keyof typeof errorCodes
