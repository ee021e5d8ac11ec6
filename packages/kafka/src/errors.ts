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

// The broker refused the client's SASL credentials or mechanism.
const AUTH = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
])

// The principal is known but an ACL is missing, by the kind of resource it is missing on.
const NOT_AUTHORIZED: Record<string, string> = {
  TOPIC_AUTHORIZATION_FAILED: 'topic',
  GROUP_AUTHORIZATION_FAILED: 'consumer group',
  CLUSTER_AUTHORIZATION_FAILED: 'cluster',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'transactional id',
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 'delegation token',
}

/**
 * Node's codes for a TLS handshake the client refused (the broker's certificate is not trusted, has
 * expired or names another host) or the broker refused (no or a rejected client certificate), and
 * for TLS spoken to a listener that does not speak it.
 */
const TLS_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_REVOKED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])
const isTlsCode = (code: unknown): boolean =>
  typeof code === 'string' &&
  (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))

const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE'])

interface KafkaJsLike {
  name?: string
  message?: string
  type?: string
  /** Node's error code of a connection error (`ECONNREFUSED`, `SELF_SIGNED_CERT_IN_CHAIN`…). */
  code?: unknown
  /** The topic of a per-topic error (kafkajs's create-topics errors carry it). */
  topic?: unknown
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

/** What a request was about, to name in a refusal: the topics and the consumer group. */
export interface KafkaResource {
  topics?: readonly string[]
  group?: string
}

/** The topics named by per-topic errors under `error` (kafkajs aggregates one per topic). */
function topicsIn(error: unknown, type: string | undefined): string[] {
  const found = new Set<string>()
  const visit = (e: unknown, depth: number): void => {
    if (depth > 5 || e === null || typeof e !== 'object') return
    const like = e as KafkaJsLike
    if (typeof like.topic === 'string' && like.type === type) found.add(like.topic)
    for (const inner of like.errors ?? []) visit(inner, depth + 1)
    visit(like.cause, depth + 1)
    visit(like.originalError, depth + 1)
  }
  visit(error, 0)
  return [...found]
}

function refusedResource(
  kind: string,
  root: KafkaJsLike,
  resource: KafkaResource,
  named: readonly string[],
): string {
  if (kind === 'topic') {
    const topics =
      named.length > 0
        ? named
        : typeof root.topic === 'string'
          ? [root.topic]
          : (resource.topics ?? [])
    if (topics.length > 0) return `${topics.length > 1 ? 'topics' : 'topic'} ${topics.join(', ')}`
  }
  if (kind === 'consumer group' && resource.group) return `consumer group ${resource.group}`
  return kind === 'cluster' ? 'the cluster' : `a ${kind}`
}

/**
 * Maps whatever kafkajs rejected with to an AppError, keeping it as the `cause`. None of the first
 * three clears up by retrying, so a service stops at start with one clear error instead of a loop:
 * - `KAFKA_AUTH_FAILED` (not retriable): the broker refused the SASL credentials or mechanism;
 * - `KAFKA_NOT_AUTHORIZED` (not retriable): an ACL is missing; the message names the topic(s) or
 *   group from `resource` (or from the error) and the ACL kind;
 * - `KAFKA_TLS_FAILED` (not retriable): the TLS handshake failed (broker certificate not trusted,
 *   expired or for another host; client certificate missing or refused; TLS to a plain listener);
 * - `KAFKA_RECORD_TOO_LARGE` (not retriable): the broker refused a record or batch as too large;
 * - `KAFKA_UNAVAILABLE` (retriable): connection refused or closed, timeouts, no leader, no
 *   coordinator, an unknown topic or partition (metadata not yet propagated, or not provisioned),
 *   and any protocol error kafkajs marks retriable;
 * - `KAFKA_REQUEST_FAILED` (not retriable): everything else.
 * kafkajs's own retries have already run when this is called, so "retriable" means "retry later
 * (after a backoff)", not "at once". An AppError is returned as is.
 */
export function toKafkaError(
  error: unknown,
  what = 'Kafka request',
  resource: KafkaResource = {},
): AppError {
  if (error instanceof AppError) return error
  const root = rootOf(error)
  const name = root.name ?? 'Error'
  const type = root.type
  const reason = root.message ?? String(error)
  const details: Record<string, unknown> = {
    kafkaError: name,
    ...(type === undefined ? {} : { type }),
    ...(typeof root.code === 'string' ? { code: root.code } : {}),
  }
  if ((type !== undefined && AUTH.has(type)) || name === 'KafkaJSSASLAuthenticationError') {
    return new AppError(
      'KAFKA_AUTH_FAILED',
      `${what} was refused: ${reason}. Check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password (KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE)`,
      { cause: error, details },
    )
  }
  const kind = type === undefined ? undefined : NOT_AUTHORIZED[type]
  if (kind !== undefined) {
    const on = refusedResource(kind, root, resource, topicsIn(error, type))
    return new AppError(
      'KAFKA_NOT_AUTHORIZED',
      `${what} was refused on ${on} (${type}): the client's principal lacks the ACL; grant it (README: Production Kafka)`,
      {
        cause: error,
        details: {
          ...details,
          resource: kind,
          ...(kind === 'topic' ? { topics: on.replace(/^topics? /, '').split(', ') } : {}),
          ...(kind === 'consumer group' && resource.group ? { group: resource.group } : {}),
        },
      },
    )
  }
  if (isTlsCode(root.code)) {
    return new AppError(
      'KAFKA_TLS_FAILED',
      `${what} failed in the TLS handshake (${String(root.code)}): ${reason}. Check KAFKA_SSL_CA_FILE (the CA that signed the brokers' certificates), KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE (a client certificate, where the brokers require one) and that KAFKA_BROKERS names the hosts in the certificates`,
      { cause: error, details },
    )
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
