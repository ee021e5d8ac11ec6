/*
 * The chat-quality service on the service kit: each message kept with its conversation (time,
 * position, sender, the protocol matches of the rules in force), atomically with the partition's
 * offset (idempotent by offset and event_id); due ChatQuality records emitted to the output topic
 * beside consumption, each moving its conversation's counters in its agent's hour, day and totals;
 * the HTTP API; the rules reloaded on change.
 */
import type { Env } from '@wolkvox-chat-stream/config'
import {
  chatMessageCodec,
  chatQualityCodec,
  topics,
  tramiteClassificationCodec,
  type TopicSpec,
  type TramiteClassification,
} from '@wolkvox-chat-stream/events'
import {
  createRulesHolder,
  type LoadedRules,
  type RulesHolder,
} from '@wolkvox-chat-stream/keyword-rules'
import { createMetricsRegistry, type Logger } from '@wolkvox-chat-stream/observability'
import {
  createConsumerService,
  createConversationService,
  recordConversations,
  type BatchContext,
  type ConsumerHooks,
  type ConsumerService,
  type ConsumerServiceConfig,
  type ConversationEmitter,
  type Delivered,
} from '@wolkvox-chat-stream/service-kit'
import { readQualityConfig, type QualityConfig } from './config.js'
import { eventFields, keepFirst, keepMessage, type QualityEvent } from './conversation.js'
import { createQualityEmitter } from './emitter.js'
import { tramitePaths } from './fcr-queries.js'
import { qualityRoutes } from './http.js'
import { createQualityMetrics } from './quality-metrics.js'
import { paths } from './queries.js'

/** The consumer group, DLQ prefix and Redis hash tag of the service. */
export const SERVICE_NAME = 'chat-quality'

export interface ChatQualityOptions {
  /** Default `QUALITY_NAME` (`chat-quality`); tests give a unique one. */
  name?: string
  /** Default `process.env`. */
  env?: Env
  /** Overrides of the kit's configuration (tests). */
  config?: Partial<ConsumerServiceConfig>
  /** Overrides of the service's own configuration. */
  quality?: Partial<QualityConfig>
  logger?: Logger
  hooks?: ConsumerHooks
  maxEventsPerScript?: number
}

/** The quality service: a consumer service with its rules and output topic. */
export interface ChatQualityService extends ConsumerService {
  readonly outputTopic: string
  readonly rules: RulesHolder
  readonly qualityConfig: Readonly<QualityConfig>
  /** The companion consumer of trámite classifications (`<name>-tramites`), for FCR. */
  readonly tramites: ConsumerService
}

/** The fields of a classification the companion reads. */
type TramiteRow = Pick<TramiteClassification, 'server' | 'conn_id' | 'primary_tramite'>

/**
 * The companion consumer: each conversation's primary trámite from the classification topic (the
 * latest record of its key wins, as on the compacted topic), '' when the classifier found none.
 */
function createTramiteConsumer(
  name: string,
  own: Readonly<QualityConfig>,
  env: Env,
  options: ChatQualityOptions,
): ConsumerService {
  const { inputTopic: _input, httpPort: _port, ...config } = options.config ?? {}
  return createConsumerService<TramiteRow>({
    name,
    input: { ...topics.chatTramite, name: own.tramiteTopic },
    env,
    http: false,
    config: { ...config, inputTopic: own.tramiteTopic },
    ...(options.logger ? { logger: options.logger.child({ consumer: name }) } : {}),
    metrics: createMetricsRegistry({
      defaultLabels: { service: name },
      collectDefaultMetrics: false,
    }),
    decode: tramiteClassificationCodec.decodeFields(['server', 'conn_id', 'primary_tramite']),
    // Not an event stream: no event_id; the offset alone makes redelivery harmless.
    eventId: () => undefined,
    handleBatch(events, ctx) {
      for (const { event } of events)
        ctx.state.hset(tramitePaths.tramites(event.server), {
          [event.conn_id]: event.primary_tramite ?? '',
        })
    },
  })
}

/** Records what a batch of fresh events changes, per conversation (pure apart from `ctx.state`). */
export function recordBatch(
  events: readonly Delivered<QualityEvent>[],
  ctx: Pick<BatchContext, 'state'>,
  rules: LoadedRules,
): void {
  recordConversations(events, ctx.state, paths, {
    first: keepFirst,
    message: (event) => keepMessage(rules.compiled, event),
    version: rules.version,
  })
}

/**
 * Creates the quality service: a {@link ConsumerService} whose start also connects the output
 * producer (provisioning the output topic) and starts watching the rules, and whose stop emits
 * what is due and closes them.
 *
 * @throws AppError `CONFIG_INVALID` for bad variables, `TRAMITE_RULES_FILE_UNREADABLE` or
 * `TRAMITE_RULES_INVALID` for a bad rules file.
 */
export function createChatQuality(options: ChatQualityOptions = {}): ChatQualityService {
  const env = options.env ?? process.env
  // A relative rules path is read from where npm was run.
  const own: Readonly<QualityConfig> = {
    ...readQualityConfig(env, env.INIT_CWD ?? process.cwd()),
    ...options.quality,
  }
  const standards = {
    firstResponseTargetMs: own.firstResponseTargetMs,
    responseGapTargetMs: own.responseGapTargetMs,
  }
  const outputSpec: TopicSpec = { ...topics.chatQuality, name: own.outputTopic }
  const name = options.name ?? own.name
  const tramites = createTramiteConsumer(`${name}-tramites`, own, env, options)

  const service: ConsumerService = createConversationService<QualityEvent>({
    name,
    input: topics.chatMessage,
    companions: [tramites],
    env,
    httpPort: 8084,
    ...(options.config ? { config: options.config } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.maxEventsPerScript ? { maxEventsPerScript: options.maxEventsPerScript } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
    // Only the fields the service reads: the others are skipped, not decoded.
    decode: chatMessageCodec.decodeFields(eventFields),
    // Time, sender and text are part of the identity, so a newer revision keeps its matches; what
    // it may change is the channel or agent of the conversation's first message.
    revisions: {
      of: (event) => ({ revision: event.revision, order: event.polled_at.getTime() }),
      summary: () => '',
    },
    // One rules reference per batch: a reload between batches never splits one.
    handleBatch: (events, ctx) => recordBatch(events, ctx, holder.current),
    routes: (req, res, kit) => routes(req, res, kit),
    output: { spec: outputSpec, codec: chatQualityCodec },
    idleTimeoutMs: own.idleTimeoutMs,
    sweepIntervalMs: own.sweepIntervalMs,
    what: 'quality records',
    metricPrefix: 'wolkvox_quality',
    emitter: ({ producer, redis, encoding }, emitted): ConversationEmitter =>
      createQualityEmitter({
        name: service.name,
        redis,
        producer,
        topic: outputSpec.name,
        zone: own.zone,
        standards,
        checks: () => holder.current.ruleSet.tramites,
        emitted,
        quality,
        encoding,
      }),
    beforeStart: () => {
      if (own.watchRules) holder.watch()
    },
    afterStart: () =>
      service.logger.info('checking quality', {
        rulesVersion: holder.current.version,
        rulesFile: own.rulesFile,
        output: outputSpec.name,
        idleTimeoutMs: own.idleTimeoutMs,
        firstResponseTargetMs: own.firstResponseTargetMs,
        responseGapTargetMs: own.responseGapTargetMs,
        tramites: own.tramiteTopic,
        fcrWindowMs: own.fcrWindowMs,
      }),
    beforeStop: () => holder.close(),
  })
  const holder: RulesHolder = createRulesHolder({
    file: own.rulesFile,
    logger: service.logger,
    metrics: service.metrics,
    metricPrefix: 'wolkvox_quality',
  })
  const routes = qualityRoutes({
    rules: holder,
    zone: own.zone,
    standards,
    fcrWindowMs: own.fcrWindowMs,
    tramites: () => tramites.state,
  })
  const quality = createQualityMetrics(service.metrics)

  return Object.create(service, {
    outputTopic: { value: outputSpec.name },
    rules: { value: holder },
    qualityConfig: { value: own },
    tramites: { value: tramites },
  }) as ChatQualityService
}
