import { AppError } from '@wolkvox-chat-stream/errors'

// Failures that mean "the cluster is briefly away or moving": a retry later can succeed.
const TRANSIENT = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
])

const AUTH = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
])

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'])

interface KafkaJsLike {
  name?: string
  message?: string
  type?: string
  retriable?: boolean
  cause?: unknown
  originalError?: unknown
  errors?: unknown[]
}

/** The error that really happened under kafkajs's retry and aggregate wrappers. */
function rootOf(error: unknown): KafkaJsLike {
  let current = error as KafkaJsLike
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    // Nested kafkajs retriers wrap an inner one's exhausted retries (a stopped broker's refused
    // connections) in a KafkaJSNonRetriableError whose cause is what really happened.
    if (
      (current.name === 'KafkaJSNumberOfRetriesExceeded' ||
        current.name === 'KafkaJSNonRetriableError') &&
      current.cause
    ) {
      current = current.cause
    } else if (current.name === 'KafkaJSAggregateError' && current.errors?.[0]) {
      current = current.errors[0]
    } else if (current.originalError) {
      current = current.originalError
    } else {
      break
    }
  }
  return current ?? {}
}

/**
 * Maps whatever kafkajs rejected with to an AppError, keeping it as the `cause`:
 * - `KAFKA_AUTH_FAILED` (not retriable): SASL refused, or an ACL denies the topic, group or cluster;
 * - `KAFKA_RECORD_TOO_LARGE` (not retriable): the broker refused a record or batch as too large;
 * - `KAFKA_UNAVAILABLE` (retriable): connection refused or closed, timeouts, no leader, no
 *   coordinator, an unknown topic or partition (metadata not yet propagated, or not provisioned),
 *   and any protocol error kafkajs marks retriable;
 * - `KAFKA_REQUEST_FAILED` (not retriable): everything else.
 * kafkajs's own retries have already run when this is called, so "retriable" means "retry later
 * (after a backoff)", not "at once". An AppError is returned as is.
 */
export function toKafkaError(error: unknown, what = 'Kafka request'): AppError {
  if (error instanceof AppError) return error
  const root = rootOf(error)
  const name = root.name ?? 'Error'
  const type = root.type
  const reason = root.message ?? String(error)
  const details = { kafkaError: name, ...(type === undefined ? {} : { type }) }
  if ((type !== undefined && AUTH.has(type)) || name === 'KafkaJSSASLAuthenticationError') {
    return new AppError('KAFKA_AUTH_FAILED', `${what} was refused: ${reason}`, {
      cause: error,
      details,
    })
  }
  if (type !== undefined && TOO_LARGE.has(type)) {
    return new AppError(
      'KAFKA_RECORD_TOO_LARGE',
      `${what}: the broker refused a record as too large (${type})`,
      {
        cause: error,
        details,
      },
    )
  }
  if (TRANSIENT.has(name) || root.retriable === true) {
    const hint = type === 'UNKNOWN_TOPIC_OR_PARTITION' ? ' (is the topic provisioned?)' : ''
    return new AppError('KAFKA_UNAVAILABLE', `${what} failed: ${reason}${hint}`, {
      cause: error,
      details,
    })
  }
  return new AppError('KAFKA_REQUEST_FAILED', `${what} failed: ${reason}`, {
    cause: error,
    details,
  })
}
