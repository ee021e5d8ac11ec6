/*
 * The trámite classifier on the service kit: each message matched with the rules in force and its
 * matches stored with the conversation, atomically with the partition's offset (idempotent by
 * offset and event_id); due classifications emitted to the output topic beside consumption; the
 * HTTP API; the rules reloaded on change.
 */
import type { Env } from '@wolkvox-chat-stream/config'
import {
  topics,
  tramiteClassificationCodec,
  type ChatMessage,
  type TopicSpec,
} from '@wolkvox-chat-stream/events'
import type { Logger } from '@wolkvox-chat-stream/observability'
import {
  createConsumerService,
  type BatchContext,
  type ConsumerHooks,
  type ConsumerService,
  type ConsumerServiceConfig,
  type Delivered,
  openServiceOutput,
  type ServiceOutput,
} from '@wolkvox-chat-stream/service-kit'
import { readClassifierConfig, type ClassifierConfig } from './config.js'
import { matchMessage, memberOf } from './conversation.js'
import { createEmitter, type Emitter } from './emitter.js'
import { classifierRoutes } from './http.js'
import { paths } from './queries.js'
import { createRulesHolder, type LoadedRules, type RulesHolder } from './rules-holder.js'
import { conversationScript } from './scripts.js'

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
  const conversations = new Map<
    string,
    {
      server: string
      connId: string
      firstMs: number
      firstPosition: number
      channel: string
      /** The first message is a newer revision of one applied before: its channel replaces. */
      firstCorrected: boolean
      publishedMs: number
      complete: boolean
      matches: string[]
    }
  >()
  for (const { event, timestamp, previous } of events) {
    const member = memberOf(event.server, event.conn_id)
    const ms = event.sent_at.getTime()
    let c = conversations.get(member)
    if (c === undefined) {
      c = {
        server: event.server,
        connId: event.conn_id,
        firstMs: ms,
        firstPosition: event.position,
        channel: event.channel_normalized,
        firstCorrected: previous !== undefined,
        publishedMs: 0,
        complete: false,
        matches: [],
      }
      conversations.set(member, c)
    } else if (ms < c.firstMs || (ms === c.firstMs && event.position < c.firstPosition)) {
      c.firstMs = ms
      c.firstPosition = event.position
      c.channel = event.channel_normalized
      c.firstCorrected = previous !== undefined
    }
    c.publishedMs = Math.max(c.publishedMs, Number(timestamp) || 0)
    if (event.position === event.conversation_length - 1) c.complete = true
    const found = matchMessage(rules.compiled, event)
    if (found !== undefined) c.matches.push(`m:${event.event_id}`, JSON.stringify(found))
  }
  for (const [member, c] of conversations) {
    ctx.state.lua(
      'conversation',
      [paths.conversation(c.server, c.connId), paths.dirty, paths.pending],
      [
        member,
        c.firstMs,
        c.firstPosition,
        c.channel,
        c.publishedMs,
        c.complete ? '1' : '0',
        rules.version,
        c.firstCorrected ? '1' : '0',
        ...c.matches,
      ],
    )
  }
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
  let emitter: Emitter | undefined
  let output: ServiceOutput | undefined
  let sweeper: NodeJS.Timeout | undefined

  const service = createConsumerService({
    name: options.name ?? own.name,
    input: topics.chatMessage,
    env,
    httpPort: 8083,
    ...(options.config ? { config: options.config } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.maxEventsPerScript ? { maxEventsPerScript: options.maxEventsPerScript } : {}),
    scripts: { conversation: conversationScript },
    // The text is part of the identity, so a newer revision keeps its matches; what it may change
    // is the channel of the conversation's first message.
    revisions: {
      of: (event) => ({ revision: event.revision, order: event.polled_at.getTime() }),
      summary: () => '',
    },
    // One rules reference per batch: a reload between batches never splits one.
    handleBatch: (events, ctx) => recordBatch(events, ctx, holder.current),
    routes: (req, res, kit) => routes(req, res, kit),
    hooks: {
      async afterStateStored(info) {
        await options.hooks?.afterStateStored?.(info)
        // Not awaited: emitting runs beside consumption; the dirty marks make it crash-safe.
        if (!owned.includes(info.partition)) owned = [...owned, info.partition]
        schedule([info.partition], false)
      },
    },
  })
  const holder: RulesHolder = createRulesHolder({
    file: own.rulesFile,
    logger: service.logger,
    metrics: service.metrics,
  })
  const routes = classifierRoutes({ rules: holder, zone: own.zone })
  const emitted = service.metrics.counter({
    name: 'wolkvox_classifier_emitted_total',
    help: 'Classifications written to the output topic, by reason: complete, idle (first record), content, version (changed later), resend (after a race).',
    labelNames: ['reason'],
  })
  for (const reason of ['complete', 'idle', 'content', 'version', 'resend'])
    emitted.inc({ reason }, 0)

  // Emitting: at most one loop at a time over the partitions asked for; chunks stored meanwhile
  // join the next round.
  const wanted = new Set<number>()
  let idleWanted = false
  let loop: Promise<void> | undefined
  let owned: number[] = []
  const run = async (): Promise<void> => {
    while (emitter !== undefined && (wanted.size > 0 || idleWanted)) {
      const targets = [...wanted]
      const idle = idleWanted
      wanted.clear()
      idleWanted = false
      const rebuilding = new Set(service.status().rebuilding)
      for (const partition of targets) {
        // Half-replayed state is not emitted: the end of the rebuild emits it.
        if (rebuilding.has(partition)) continue
        try {
          await emitter.drain(partition)
          if (idle) await emitter.sweepIdle(partition, Date.now() - own.idleTimeoutMs)
        } catch (error) {
          service.logger.warn('emitting classifications failed; retried by the next sweep', {
            err: error,
            partition,
          })
        }
      }
    }
  }
  const schedule = (partitions: Iterable<number>, idle: boolean): void => {
    for (const partition of partitions) wanted.add(partition)
    if (idle) idleWanted = true
    loop ??= run().finally(() => {
      loop = undefined
      if (emitter !== undefined && (wanted.size > 0 || idleWanted)) schedule([], false)
    })
  }
  const sweep = (): void => {
    const { assigned } = service.status()
    if (assigned.length > 0) owned = assigned
    schedule(owned, true)
  }

  const start = async (): Promise<void> => {
    output = await openServiceOutput(service, outputSpec, tramiteClassificationCodec)
    const { producer, redis, encoding } = output
    const { logger } = service
    if (own.watchRules) holder.watch()
    await service.start()
    emitter = createEmitter({
      name: service.name,
      redis,
      producer,
      topic: outputSpec.name,
      zone: own.zone,
      emitted,
      encoding,
    })
    logger.info('classifying', {
      rulesVersion: holder.current.version,
      rulesFile: own.rulesFile,
      output: outputSpec.name,
      idleTimeoutMs: own.idleTimeoutMs,
    })
    sweep()
    sweeper = setInterval(sweep, own.sweepIntervalMs)
  }

  const stop = async (): Promise<void> => {
    clearInterval(sweeper)
    holder.close()
    try {
      await service.stop()
    } finally {
      const last = emitter
      await loop
      emitter = undefined
      // What the last chunks made due; marks left (a failure) are emitted after the next start.
      for (const partition of owned) await last?.drain(partition).catch(() => undefined)
      await output?.close()
      output = undefined
    }
  }

  return Object.create(service, {
    start: { value: start },
    stop: { value: stop },
    outputTopic: { value: outputSpec.name },
    rules: { value: holder },
    classifierConfig: { value: own },
  }) as TramiteClassifier
}
