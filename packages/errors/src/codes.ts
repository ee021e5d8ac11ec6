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
  DEV_STACK_REDIS_CLUSTER_FAILED: {
    retriable: false,
    summary:
      "The local Redis Cluster could not be made (a node exited or never answered, the cluster was not created, or it never reached cluster_state:ok); the message has the tail of the node's log.",
  },
  DEV_STACK_REGISTRY_START_FAILED: {
    retriable: false,
    summary:
      'The local Apicurio Registry exited or never became ready (its Confluent API and health check); the message has the tail of its log.',
  },
  DEV_STACK_NOT_RUNNING: {
    retriable: false,
    summary: 'stack:down found no stack started by stack:up.',
  },
  DEV_STACK_CLUSTER_DEGRADED: {
    retriable: true,
    summary:
      'The local Kafka cluster still had a partition without a leader or a replica out of sync when the wait ran out; the message lists them.',
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
  REDIS_AUTH_FAILED: {
    retriable: false,
    summary:
      'Redis refused the credentials (WRONGPASS, NOAUTH): check REDIS_USERNAME, REDIS_PASSWORD_FILE or the user and password in REDIS_URL.',
  },
  REDIS_TLS_FAILED: {
    retriable: false,
    summary:
      "The TLS handshake with Redis failed: its certificate is not signed by REDIS_TLS_CA_FILE's CA (or the system's), is expired or names another host, or the server does not speak TLS.",
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
  // poller (services/poller)
  POLL_WATERMARK_REJECTED: {
    retriable: true,
    summary:
      'The fenced watermark write was refused (lease lost or a newer writer); the window is polled again.',
  },
  POLL_LOCK_BUSY: {
    retriable: true,
    summary: 'Another poll or backfill held the token for the whole wait; nothing was fetched.',
  },
  POLL_WINDOW_UNSPLITTABLE: {
    retriable: false,
    summary:
      'A one-second window still hits the upstream row or size cap; it cannot be split and stays unpolled.',
  },
  // poller service: schedule, quota, pauses, backfill, shutdown (services/poller `run`,
  // `backfill`, `status`)
  POLL_OPERATION_PAUSED: {
    retriable: false,
    summary:
      'The operation is paused after WOLKVOX_TOKEN_INVALID (an hour, or until its token changes) or WOLKVOX_QUOTA_EXCEEDED (until the next local day); nothing was fetched.',
  },
  POLL_QUOTA_BUDGET_EXHAUSTED: {
    retriable: false,
    summary:
      "The operation used its whole daily budget (POLL_DAILY_QUOTA or the file's dailyQuota); polling resumes on the next local day.",
  },
  POLL_QUOTA_RESERVE_REACHED: {
    retriable: false,
    summary:
      'A backfill reached the calls kept for live polls (POLL_QUOTA_RESERVE) and stopped; run the same command again tomorrow to resume.',
  },
  POLL_BACKFILL_RUNNING: {
    retriable: false,
    summary:
      'Another backfill of the same operation and range is running (its runner key is held); this one did not start.',
  },
  POLL_STOPPED: {
    retriable: true,
    summary:
      'The poller is stopping (SIGTERM or SIGINT): the poll was not started, or stopped between two windows; nothing is lost.',
  },
  POLL_WORKER_STALLED: {
    retriable: true,
    summary:
      'The schedule worker let a due job wait 30 s while it had a free slot (its Redis connection left broken, e.g. after a Redis Cluster failover): it was replaced by a new one; logged as a warning and counted in wolkvox_poller_worker_restarts_total.',
  },
  POLL_SHUTDOWN_ABANDONED: {
    retriable: true,
    summary:
      'After SIGTERM the window in flight did not finish within POLL_SHUTDOWN_TIMEOUT; its call was aborted (the token kept busy for the upstream limit) and it is polled again.',
  },
  // poller and its Kafka log: the watermark bound to the checkpoint topic, explicit ranges
  // (services/poller `run`, `once`, `backfill`, `rebind`)
  POLL_CHECKPOINT_MISSING: {
    retriable: false,
    summary:
      'The checkpoint topic holds no checkpoint at or after the watermark (new cluster, re-created topic): the operation stops; `npm run poller -- rebind` resolves it.',
  },
  POLL_STATUS_QUERY_INVALID: {
    retriable: false,
    summary:
      'HTTP 400: GET /status or /status/servers has an unknown parameter, or a server, state, limit (1 to 500) or offset it cannot read; answered with the reason.',
  },
  POLL_OPERATION_NOT_FOUND: {
    retriable: false,
    summary:
      'HTTP 404: GET /status?server=S names an operation this poller is not configured with.',
  },
  POLL_RANGE_NOT_SETTLED: {
    retriable: false,
    summary:
      'An explicit range (`once` or `backfill` --to) ends after now less POLL_SETTLE_LAG, which the upstream cannot answer yet; nothing was fetched.',
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
  // Kafka adapter: records, topics, authentication (packages/kafka)
  KAFKA_RECORD_TOO_LARGE: {
    retriable: false,
    summary: 'A record is over the 16 MB limit (checked before sending, or refused by the broker).',
  },
  KAFKA_TOPIC_MISMATCH: {
    retriable: false,
    summary:
      'A topic is missing (KAFKA_CREATE_TOPICS=false) or its partitions or settings differ from the contract; the message lists each.',
  },
  KAFKA_AUTH_FAILED: {
    retriable: false,
    summary:
      'Kafka refused the SASL credentials or mechanism (KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD or _FILE); the service stops at start.',
  },
  KAFKA_NOT_AUTHORIZED: {
    retriable: false,
    summary:
      "The client's principal lacks an ACL for a topic, consumer group or the cluster; the message names it. README: Production Kafka lists each service's ACLs.",
  },
  KAFKA_TLS_FAILED: {
    retriable: false,
    summary:
      "The TLS handshake with a broker failed: its certificate is not signed by KAFKA_SSL_CA_FILE's CA (or the system's), is expired or names another host, or the broker refused the client certificate (KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE).",
  },
  // consumer service kit: createConsumerService, its state in Redis, the operator commands
  // (packages/service-kit). Handlers throw CONSUMER_EVENT_REJECTED for an event they must refuse.
  CONSUMER_OPTIONS_INVALID: {
    retriable: false,
    summary:
      'createConsumerService was given a bad name (lower case, a letter first), input, handler or script; a programming error.',
  },
  CONSUMER_EVENT_REJECTED: {
    retriable: false,
    summary:
      "A handler refused an event that breaks its invariant; the event went to the service's dead-letter topic.",
  },
  CONSUMER_HANDLER_FAILED: {
    retriable: false,
    summary:
      'A handler threw something that is not an AppError; treated as not retriable, the event went to the dead-letter topic.',
  },
  CONSUMER_STATE_OP_REJECTED: {
    retriable: false,
    summary:
      "A handler's state operation cannot apply (wrong key type, bad number); nothing of its event was written, the event went to the dead-letter topic.",
  },
  CONSUMER_STATE_LOST: {
    retriable: true,
    summary:
      "A partition's state vanished from Redis or belongs to an older epoch (flush, failover, `consumer rebuild`); the partition is replayed from the beginning.",
  },
  CONSUMER_LOG_REPLACED: {
    retriable: true,
    summary:
      "A partition's state in Redis was built from another Kafka log (another cluster id or topic, an applied offset past the log's end, another record at the applied offset): it is wiped and rebuilt by replay.",
  },
  CONSUMER_RETENTION_GAP: {
    retriable: false,
    summary:
      'Events of the input were deleted (retention) before the consumer applied them: they are missing from its state and nothing can rebuild them; logged, counted, alerted, and consuming goes on.',
  },
  CONSUMER_TOO_MANY_FAILURES: {
    retriable: false,
    summary:
      'Too many messages in a row went to the dead-letter topic (CONSUMER_MAX_CONSECUTIVE_FAILURES); the consumer stopped instead of dead-lettering the whole topic.',
  },
  CONSUMER_SHUTDOWN_TIMEOUT: {
    retriable: false,
    summary:
      'A consumer service did not stop within CONSUMER_SHUTDOWN_TIMEOUT after SIGTERM or SIGINT; the process exited anyway (uncommitted work is redelivered).',
  },
  CONSUMER_COMMAND_INVALID: {
    retriable: false,
    summary:
      'The consumer command line is not `dlq list`, `dlq show`, `dlq redrive` or `rebuild` with a service name (or new:consumer got none); the usage is printed.',
  },
  CONSUMER_SERVICE_UNKNOWN: {
    retriable: false,
    summary:
      'An operator command (`npm run consumer -- dlq …` or `rebuild`) named a consumer service with no dead-letter topic on Kafka (dlq) or no state in Redis (rebuild); the known services are listed.',
  },
  // sentiment aggregator (services/sentiment-aggregator)
  SENTIMENT_EVAL_SET_INVALID: {
    retriable: false,
    summary:
      'The labelled sentiment set cannot be read, or a line is not a valid entry (JSON with a text and one of the five sentiment values).',
  },
  SENTIMENT_QUERY_INVALID: {
    retriable: false,
    summary:
      'An HTTP query of the sentiment aggregator has a bad server code, agent key, granularity, time, range, limit or cursor, or an unknown parameter; answered 400 with the reason.',
  },
  SENTIMENT_AGENT_NOT_FOUND: {
    retriable: false,
    summary: 'HTTP 404: the sentiment aggregator holds no agent of that key in that operation.',
  },
  // dashboard (services/dashboard): its same-origin proxy to the services
  DASHBOARD_UPSTREAM_UNAVAILABLE: {
    retriable: true,
    summary:
      'A service behind the dashboard did not answer (refused, reset, not running); the proxy answered 502 naming it.',
  },
  DASHBOARD_UPSTREAM_TIMEOUT: {
    retriable: true,
    summary:
      'A service behind the dashboard took longer than DASHBOARD_PROXY_TIMEOUT; the proxy answered 504.',
  },
  DASHBOARD_UPSTREAM_TOO_LARGE: {
    retriable: false,
    summary: "A service's answer was larger than the proxy's 8 MB limit; the proxy answered 502.",
  },
  DASHBOARD_PROXY_REFUSED: {
    retriable: false,
    summary:
      'The proxy serves only paths under /api/poller/, /api/sentiment/, /api/classifier/ and /api/quality/, without dot segments; answered 404 or 400.',
  },
  // npm start (packages/dev-stack start.ts)
  START_PORT_IN_USE: {
    retriable: false,
    summary:
      'A port npm start needs is taken; the message names the variable (DASHBOARD_PORT, POLLER_PORT …) to change, 0 for a free one.',
  },
  START_PART_FAILED: {
    retriable: false,
    summary:
      'A part of npm start exited or did not listen in time; everything was stopped and the message shows its log.',
  },
  // metrics and HTTP server (packages/observability)
  METRICS_NAME_INVALID: {
    retriable: false,
    summary:
      'A metric or label name is malformed (^wolkvox_[a-z0-9_]+$), already registered, or a label shadows a default label.',
  },
  HTTP_LISTEN_FAILED: {
    retriable: false,
    summary: 'The health/metrics HTTP server could not bind its port (in use, or no permission).',
  },
  HTTP_REQUEST_INVALID: {
    retriable: false,
    summary:
      'HTTP 400 (431 for headers over 16 KiB, 417 for an Expect other than 100-continue): the request cannot be read (a malformed request line or percent-encoding, a NUL, a path over 2,048 characters).',
  },
  HTTP_REQUEST_TIMEOUT: {
    retriable: true,
    summary:
      'HTTP 408: the request did not arrive in time (headers within 10 s, the whole request within 30 s); the connection is closed.',
  },
  HTTP_UNAUTHORIZED: {
    retriable: false,
    summary:
      'HTTP 401: the route needs Authorization: Bearer <token> with a token of HTTP_AUTH_TOKEN_FILE; none or another was sent.',
  },
  HTTP_CROSS_SITE_REFUSED: {
    retriable: false,
    summary:
      'HTTP 403: a POST without content-type application/json, or from another origin; refused so no web page can trigger it.',
  },
  HTTP_NOT_FOUND: {
    retriable: false,
    summary: 'HTTP 404: no route answers this path.',
  },
  HTTP_METHOD_NOT_ALLOWED: {
    retriable: false,
    summary:
      'HTTP 405: the route does not answer this method; the allow header lists those it does.',
  },
  HTTP_BODY_TOO_LARGE: {
    retriable: false,
    summary: 'HTTP 413: the request body is larger than the route accepts (4 KiB).',
  },
  HTTP_RATE_LIMITED: {
    retriable: true,
    summary:
      'HTTP 429: this client sent more than HTTP_RATE_LIMIT requests a second; retry after the retry-after header.',
  },
  HTTP_INTERNAL_ERROR: {
    retriable: true,
    summary:
      "HTTP 500: the route failed inside the service (Redis unavailable, for one); the service's log has the cause.",
  },
  // Wolkvox client (packages/wolkvox-client): one code per row of the upstream error table, plus
  // local validation and transport failures. Retrying is decided by these flags alone.
  WOLKVOX_SERVER_INVALID: {
    retriable: false,
    summary: 'The Wolkvox server code is not 1 to 6 digits; refused before any request is made.',
  },
  WOLKVOX_BASE_URL_INVALID: {
    retriable: false,
    summary:
      'The base-URL override is not https (or plain http to a loopback host), or has credentials, a query or a fragment.',
  },
  WOLKVOX_REQUEST_INVALID: {
    retriable: false,
    summary:
      'A report request failed local validation (unknown report, bad dates, start after end, over 31 days); nothing was sent.',
  },
  WOLKVOX_API_UNKNOWN: {
    retriable: false,
    summary:
      'Wolkvox answered 400 THE API YOU WANT TO CONSULT DOES NOT EXIST: the report name is wrong.',
  },
  WOLKVOX_BAD_REQUEST: {
    retriable: false,
    summary:
      'Wolkvox refused the parameters (400 SOME PARAMETERS ARE REQUIRED, another 400, or 416).',
  },
  WOLKVOX_TOKEN_MISSING: {
    retriable: false,
    summary: 'Wolkvox answered 401 PLEASE ENTER THE WOLKVOX-TOKEN: no token reached it.',
  },
  WOLKVOX_TOKEN_INVALID: {
    retriable: false,
    summary:
      'Wolkvox answered 403 PLEASE VALIDATE TOKEN: the token is invalid or expired; never retried.',
  },
  WOLKVOX_QUOTA_EXCEEDED: {
    retriable: false,
    summary:
      "Wolkvox answered 403 TOKEN LIMIT EXCEEDED: the operation's daily quota is used up until tomorrow.",
  },
  WOLKVOX_CONCURRENT_LIMIT: {
    retriable: true,
    summary:
      'Wolkvox answered 403 EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN: another call used the token at once.',
  },
  WOLKVOX_MAINTENANCE: {
    retriable: true,
    summary:
      'Wolkvox answered 403 with any other body: upstream maintenance; retried with a long backoff.',
  },
  WOLKVOX_RATE_LIMITED: {
    retriable: true,
    summary: 'Wolkvox answered 429; its Retry-After is honoured.',
  },
  WOLKVOX_SERVER_ERROR: {
    retriable: true,
    summary: 'Wolkvox answered with a 5xx status.',
  },
  WOLKVOX_ENDPOINT_NOT_FOUND: {
    retriable: false,
    summary:
      "A 404 whose body is not the API's JSON: the base URL or path is wrong (not an empty window).",
  },
  WOLKVOX_UNEXPECTED_STATUS: {
    retriable: false,
    summary:
      'Wolkvox answered with a status the contract does not describe (another 4xx, 1xx, 2xx).',
  },
  WOLKVOX_REDIRECT_REFUSED: {
    retriable: false,
    summary:
      'Wolkvox answered with a redirect; redirects are never followed (the token would go along).',
  },
  WOLKVOX_TIMEOUT: {
    retriable: true,
    summary:
      'Connecting, the response headers, a gap in the body, or the whole attempt took too long.',
  },
  WOLKVOX_DEADLINE_EXCEEDED: {
    retriable: true,
    summary:
      "The caller's deadline (a lock lease) arrived before a response; the call was aborted or never started.",
  },
  WOLKVOX_ABORTED: {
    retriable: false,
    summary: "The caller's AbortSignal fired; the call was abandoned.",
  },
  WOLKVOX_NETWORK_ERROR: {
    retriable: true,
    summary: 'The connection failed or broke (refused, reset, DNS, closed mid-body).',
  },
  WOLKVOX_TLS_ERROR: {
    retriable: false,
    summary: "Wolkvox's TLS certificate did not verify; certificates are never skipped.",
  },
  WOLKVOX_RESPONSE_TOO_LARGE: {
    retriable: false,
    summary:
      'The response exceeded maxResponseBytes and was abandoned mid-stream; ask for a smaller window.',
  },
  WOLKVOX_MALFORMED_RESPONSE: {
    retriable: true,
    summary: 'The response body is not the expected JSON (truncated, not JSON, data not an array).',
  },
  // registry mode: a Confluent-compatible schema registry (packages/schema-registry)
  SCHEMA_REGISTRY_UNAVAILABLE: {
    retriable: true,
    summary:
      'The schema registry at SCHEMA_REGISTRY_URL did not answer, or answered with a server error.',
  },
  SCHEMA_REGISTRY_REFUSED: {
    retriable: false,
    summary:
      "The schema registry refused a schema (incompatible with the subject's earlier versions under its compatibility rule, or invalid); the message is the registry's.",
  },
  SCHEMA_REGISTRY_AUTH_FAILED: {
    retriable: false,
    summary:
      'The schema registry refused the credentials (HTTP 401 or 403): check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD_FILE.',
  },
  SCHEMA_REGISTRY_SCHEMA_NOT_FOUND: {
    retriable: false,
    summary:
      'A record names a schema id the schema registry does not have (another registry wrote it, or it was deleted).',
  },
  // event contract: Avro codecs and the ChatMessage builder (packages/events)
  EVENT_NOT_SINGLE_OBJECT: {
    retriable: false,
    summary:
      'The bytes are in neither Avro encoding the product reads: single-object (C3 01 and a fingerprint) or the Confluent wire format (00 and a schema id).',
  },
  EVENT_SCHEMA_ID_UNKNOWN: {
    retriable: false,
    summary:
      'Confluent wire format bytes name a schema id this reader was not told about: set SCHEMA_REGISTRY_URL to the registry that wrote them.',
  },
  EVENT_UNKNOWN_FINGERPRINT: {
    retriable: false,
    summary:
      'The writer schema fingerprint is not one this reader ships; upgrade the reader before the writer.',
  },
  EVENT_BODY_INVALID: {
    retriable: false,
    summary:
      'The Avro body does not decode with its writer schema (truncated, trailing bytes, bad value).',
  },
  EVENT_SCHEMA_MISMATCH: {
    retriable: false,
    summary: 'A record to encode does not fit its schema; the message names each bad field path.',
  },
  EVENT_SCHEMA_INVALID: {
    retriable: false,
    summary:
      'A schema set is unusable: invalid Avro, two versions with one canonical form, or unresolvable.',
  },
  EVENT_UPSTREAM_ROW_INVALID: {
    retriable: false,
    summary:
      'An upstream chat or message cannot become a ChatMessage (a required field absent, bad date).',
  },
  EVENT_TIME_ZONE_INVALID: {
    retriable: false,
    summary: 'The time zone given to read upstream dates is not an IANA zone this runtime knows.',
  },
  // trámite classifier: rules file and evaluation set (packages/keyword-rules)
  TRAMITE_RULES_FILE_UNREADABLE: {
    retriable: false,
    summary: 'The trámite rules file cannot be read (missing, a directory, or no permission).',
  },
  TRAMITE_RULES_INVALID: {
    retriable: false,
    summary:
      'The trámite rules file is not JSON or breaks the rules schema; the message lists each problem with file, trámite and field.',
  },
  TRAMITE_EVAL_SET_INVALID: {
    retriable: false,
    summary:
      'The labelled evaluation set cannot be read, a line is not a valid entry, or a label is not a trámite of the rules.',
  },
  TRAMITE_RULES_VERSION_UNCHANGED: {
    retriable: false,
    summary:
      'A rules reload found other rules under the version in force; the rules in force stay until the edited file has a new version.',
  },
  TRAMITE_QUERY_INVALID: {
    retriable: false,
    summary:
      'An HTTP query of the trámite classifier has a bad server code, conn_id, day, time, range, channel, limit or cursor, or an unknown parameter; answered 400 with the reason.',
  },
  TRAMITE_CONVERSATION_NOT_FOUND: {
    retriable: false,
    summary:
      'The trámite classifier holds no conversation with that server and conn_id; answered 404.',
  },
  TRAMITE_COMMAND_INVALID: {
    retriable: false,
    summary:
      'A classifier command (`npm run classifier -- reclassify` or `suggest`) is missing an option or has a bad one; the usage is printed.',
  },
  // chat quality (services/chat-quality); its protocol rules file gives the TRAMITE_RULES_* codes
  // (the same keyword rules format and loader)
  QUALITY_QUERY_INVALID: {
    retriable: false,
    summary:
      'An HTTP query of the chat-quality service has a bad server code, conn_id, agent key, granularity, FCR grouping (`by`), time, range (an FCR range over 93 days), limit or cursor, or an unknown parameter; answered 400 with the reason.',
  },
  QUALITY_AGENT_NOT_FOUND: {
    retriable: false,
    summary: 'HTTP 404: the chat-quality service holds no agent of that key in that operation.',
  },
  QUALITY_CONVERSATION_NOT_FOUND: {
    retriable: false,
    summary:
      'HTTP 404: the chat-quality service holds no conversation with that server and conn_id.',
  },
} as const satisfies Record<string, { retriable: boolean; summary: string }>

/** A code from the project's registry. */
export type ErrorCode = keyof typeof errorCodes
