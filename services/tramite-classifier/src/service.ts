/*
 * The trámite classifier on the service kit: each message matched with the rules in force and its
 * matches stored with the conversation, atomically with the partition's offset (idempotent by
 * offset and event_id); due classifications emitted to the output topic beside consumption; the
 * HTTP API; the rules reloaded on change.
 */
import type { Env } from '@wolkvox-chat-stream/config'
import {
  decodeChatMessage,
  topics,
  tramiteClassificationCodec,
  type ChatMessage,
  type TopicSpec,
} from '@wolkvox-chat-stream/events'
import type { Logger } from '@wolkvox-chat-stream/observability'
import {
  createConversationService,
  recordConversations,
  type BatchContext,
  type ConsumerHooks,
  type ConsumerService,
  type ConsumerServiceConfig,
  type ConversationEmitter,
  type Delivered,
} from '@wolkvox-chat-stream/service-kit'
import { readClassifierConfig, type ClassifierConfig } from './config.js'
import { matchMessage } from './conversation.js'
import { createEmitter } from './emitter.js'
import { classifierRoutes } from './http.js'
import { paths } from './queries.js'
import {
  createRulesHolder,
  type LoadedRules,
  type RulesHolder,
} from '@wolkvox-chat-stream/keyword-rules'

/** The consumer group, DLQ prefix and Redis hash tag of the classifier. */
export const SERVICE_NAME = 'tramite-classifier'

export interface TramiteClassifierOptions {
  /** Default `CLASSIFIER_NAME` (`tramite-classifier`); tests give a unique one. */
  name?: string
  /** Default `process.env`. */
  env?: Env
  /** Overrides of the kit's configuration (tests). */
  config?: Partial<ConsumerServiceConfig>
  /** Overrides of the classifier's own configuration. */
  classifier?: Partial<ClassifierConfig>
  logger?: Logger
  hooks?: ConsumerHooks
  maxEventsPerScript?: number
}

/** The classifier: a consumer service with its rules and output topic. */
export interface TramiteClassifier extends ConsumerService {
  readonly outputTopic: string
  readonly rules: RulesHolder
  readonly classifierConfig: Readonly<ClassifierConfig>
}

/** Records what a batch of fresh events changes, per conversation (pure apart from `ctx.state`). */
export function recordBatch(
  events: readonly Delivered<ChatMessage>[],
  ctx: Pick<BatchContext, 'state'>,
  rules: LoadedRules,
): void {
  recordConversations(events, ctx.state, paths, {
    first: (event) => event.channel_normalized,
    message(event) {
      const found = matchMessage(rules.compiled, event)
      return found === undefined ? undefined : JSON.stringify(found)
    },
    version: rules.version,
  })
}

/**
 * Creates the classifier: a {@link ConsumerService} whose start also connects the output producer
 * (provisioning the output topic) and starts watching the rules, and whose stop emits what is due
 * and closes them.
 *
 * @throws AppError `CONFIG_INVALID` for bad variables, `TRAMITE_RULES_FILE_UNREADABLE` or
 * `TRAMITE_RULES_INVALID` for a bad rules file.
 */
export function createTramiteClassifier(options: TramiteClassifierOptions = {}): TramiteClassifier {
  const env = options.env ?? process.env
  // A relative rules path is read from where npm was run, as `eval` reads its files.
  const own: Readonly<ClassifierConfig> = {
    ...readClassifierConfig(env, env.INIT_CWD ?? process.cwd()),
    ...options.classifier,
  }
  const outputSpec: TopicSpec = { ...topics.chatTramite, name: own.outputTopic }

  const service: ConsumerService = createConversationService<ChatMessage>({
    name: options.name ?? own.name,
    input: topics.chatMessage,
    env,
    httpPort: 8083,
    ...(options.config ? { config: options.config } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.maxEventsPerScript ? { maxEventsPerScript: options.maxEventsPerScript } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
    decode: decodeChatMessage,
    // The text is part of the identity, so a newer revision keeps its matches; what it may change
    // is the channel of the conversation's first message.
    revisions: {
      of: (event) => ({ revision: event.revision, order: event.polled_at.getTime() }),
      summary: () => '',
    },
    // One rules reference per batch: a reload between batches never splits one.
    handleBatch: (events, ctx) => recordBatch(events, ctx, holder.current),
    routes: (req, res, kit) => routes(req, res, kit),
    output: { spec: outputSpec, codec: tramiteClassificationCodec },
    idleTimeoutMs: own.idleTimeoutMs,
    sweepIntervalMs: own.sweepIntervalMs,
    what: 'classifications',
    metricPrefix: 'wolkvox_classifier',
    emitter: ({ producer, redis, encoding }, emitted): ConversationEmitter =>
      createEmitter({
        name: service.name,
        redis,
        producer,
        topic: outputSpec.name,
        zone: own.zone,
        emitted,
        encoding,
      }),
    beforeStart: () => {
      if (own.watchRules) holder.watch()
    },
    afterStart: () =>
      service.logger.info('classifying', {
        rulesVersion: holder.current.version,
        rulesFile: own.rulesFile,
        output: outputSpec.name,
        idleTimeoutMs: own.idleTimeoutMs,
      }),
    beforeStop: () => holder.close(),
  })
  const holder: RulesHolder = createRulesHolder({
    file: own.rulesFile,
    logger: service.logger,
    metrics: service.metrics,
  })
  const routes = classifierRoutes({ rules: holder, zone: own.zone })

  return Object.create(service, {
    outputTopic: { value: outputSpec.name },
    rules: { value: holder },
    classifierConfig: { value: own },
  }) as TramiteClassifier
}
