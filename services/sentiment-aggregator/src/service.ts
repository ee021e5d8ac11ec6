/*
 * The sentiment aggregator on the service kit: per-partition state applied atomically with the
 * offset (idempotent by offset and event_id), changed windows upserted to the output topic after
 * each stored chunk, and the HTTP API.
 */
import type { Env } from '@wolkvox-chat-stream/config'
import {
  agentSentimentCodec,
  chatMessageCodec,
  createEventCodec,
  schemaVersions,
  topics,
  type AgentSentiment,
  type EventCodec,
  type TopicSpec,
} from '@wolkvox-chat-stream/events'
import type { Logger } from '@wolkvox-chat-stream/observability'
import {
  createConsumerService,
  createStateReader,
  type BatchContext,
  type ConsumerHooks,
  type ConsumerService,
  type ConsumerServiceConfig,
  type Delivered,
  type KeyPath,
  openServiceOutput,
  Stopped,
  type ServiceOutput,
} from '@wolkvox-chat-stream/service-kit'
import {
  correctionEvents,
  eventFields,
  nameValue,
  planBatch,
  revisionSummary,
  textSentimentOf,
  type PlannedEvent,
  type SentimentEvent,
} from './aggregation.js'
import { readAggregatorConfig, type AggregatorConfig } from './config.js'
import { createEmitter, type Emitter } from './emitter.js'
import { sentimentRoutes } from './http.js'
import { paths } from './queries.js'
import { batchScript } from './scripts.js'
import { createTextMetrics, type TextScored } from './text-metrics.js'

/** The consumer group, DLQ prefix and Redis hash tag of the aggregator. */
export const SERVICE_NAME = 'sentiment-aggregator'

export interface SentimentAggregatorOptions {
  /** Default `sentiment-aggregator`; tests give a unique one. */
  name?: string
  /** Default `process.env`. */
  env?: Env
  /** Overrides of the kit's configuration (tests). */
  config?: Partial<ConsumerServiceConfig>
  /** Overrides of the aggregator's own configuration. */
  aggregator?: Partial<AggregatorConfig>
  /** The output topic; default `wolkvox.agent.sentiment.v1`. Tests give a unique one. */
  outputTopic?: string
  logger?: Logger
  hooks?: ConsumerHooks
  maxEventsPerScript?: number
}

/**
 * Records what a batch of fresh events changes (pure apart from `ctx.state`), and returns the
 * fresh revisions it counted from their text (for the metric).
 * @throws AppError `CONSUMER_EVENT_REJECTED` for a correction whose stored summary is not one the
 * aggregator writes.
 */
export function recordBatch(
  events: readonly Delivered<SentimentEvent>[],
  ctx: Pick<BatchContext, 'state'>,
  zone: string,
): TextScored[] {
  const planned: PlannedEvent[] = []
  const scored: TextScored[] = []
  for (const d of events) {
    if (d.previous === undefined) planned.push(d.event)
    else planned.push(...correctionEvents(d.event, d.previous.summary))
    const text = textSentimentOf(d.event)
    if (text !== undefined) scored.push({ offset: d.offset, sentiment: text })
  }
  const plan = planBatch(planned, zone)
  // The batch function's keys, each once; its arguments point to them by index.
  const keys: KeyPath[] = [paths.dirty]
  const indexes = new Map<string, string>()
  const keyIndex = (id: string, path: KeyPath): string => {
    let index = indexes.get(id)
    if (index === undefined) {
      index = String(keys.push(path))
      indexes.set(id, index)
    }
    return index
  }
  const agentPaths = new Map<string, KeyPath>()
  for (const [agentId, { server, agentKey, fields }] of plan.increments) {
    // One path per agent: the kit resolves each distinct path once.
    const path = paths.agent(server, agentKey)
    agentPaths.set(agentId, path)
    for (const [field, by] of fields) if (by !== 0) ctx.state.hincrby(path, field, by)
  }
  for (const member of plan.dirty) ctx.state.hincrby(paths.dirty, member)
  const args: (string | number)[] = [plan.names.size]
  for (const { server, agentKey, sentAtMs, name } of plan.names.values()) {
    args.push(keyIndex(`n|${server}`, paths.names(server)), agentKey, nameValue(sentAtMs, name))
  }
  args.push(plan.conversations.size)
  for (const [convId, c] of plan.conversations) {
    const agentId = `${c.server}|${c.agentKey}`
    args.push(
      keyIndex(`c|${convId}`, paths.conversation(c.server, c.connId, c.agentKey)),
      keyIndex(`a|${agentId}`, agentPaths.get(agentId) ?? paths.agent(c.server, c.agentKey)),
      `${agentId}|`,
      c.lastMs,
      c.lastHourMs,
      c.lastDayMs,
      c.lastCustomer?.ms ?? '',
      c.lastCustomer?.position ?? 0,
      c.lastCustomer?.negative ? '1' : '0',
      c.complete ? '1' : '0',
      c.lastCustomer?.corrected ? '1' : '0',
    )
  }
  if (plan.names.size > 0 || plan.conversations.size > 0) ctx.state.lua('batch', keys, args)
  return scored
}

/**
 * The AgentSentiment codec the output is written with: the shipped one (v2) by default; one that
 * writes v1 when `version` is 1 (it still reads every version), so that in registry mode the
 * schema registered under the topic's subject is the one written.
 */
export function outputCodec(version: 1 | 2): EventCodec<AgentSentiment> {
  return version === agentSentimentCodec.writeVersion
    ? agentSentimentCodec
    : createEventCodec<AgentSentiment>({
        reader: schemaVersions.agentSentiment[schemaVersions.agentSentiment.length - 1]!,
        writers: schemaVersions.agentSentiment,
        writeVersion: version,
      })
}

/**
 * Creates the aggregator: a {@link ConsumerService} whose start also connects the output producer
 * (provisioning the output topic) and whose stop closes it.
 *
 * @throws AppError `CONFIG_INVALID` for bad variables.
 */
export function createSentimentAggregator(
  options: SentimentAggregatorOptions = {},
): ConsumerService {
  const env = options.env ?? process.env
  const own: Readonly<AggregatorConfig> = { ...readAggregatorConfig(env), ...options.aggregator }
  const outputSpec: TopicSpec = {
    ...topics.agentSentiment,
    name: options.outputTopic ?? topics.agentSentiment.name,
  }
  let emitter: Emitter | undefined
  let output: ServiceOutput | undefined
  let sweeper: NodeJS.Timeout | undefined
  let sweeping: Promise<unknown> | undefined

  const service = createConsumerService({
    name: options.name ?? SERVICE_NAME,
    input: topics.chatMessage,
    env,
    httpPort: 8082,
    // Two partitions at once: one is decoded and handled while the other's script runs in Redis
    // (measured ~10% faster than one on a backlog; more adds nothing but memory).
    partitionsConcurrently: 2,
    ...(options.config ? { config: options.config } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    // Larger chunks than the kit's default: a window's counts are summed over more events, so
    // Redis does fewer increments and scripts (measured: a third less Redis CPU than 1,000, each
    // script still ~10 ms).
    maxEventsPerScript: options.maxEventsPerScript ?? 2_500,
    // Only the fields the aggregation reads: the others are skipped, not decoded.
    decode: chatMessageCodec.decodeFields(eventFields),
    scripts: { batch: batchScript },
    // A message published again with another revision (a feeling recognised late) moves from the
    // sentiment it was counted with to its new one (and out of the text counts, if it was there).
    revisions: {
      of: (event) => ({ revision: event.revision, order: event.polled_at.getTime() }),
      summary: (event) => revisionSummary(event),
    },
    handleBatch: (events, ctx) => {
      textMetrics.noted(ctx.partition, recordBatch(events, ctx, own.zone))
    },
    routes: sentimentRoutes(own.zone),
    hooks: {
      async afterStateStored(info) {
        textMetrics.stored(info.partition, info.lastOffset)
        await options.hooks?.afterStateStored?.(info)
        // Not awaited: emitting runs beside consumption and coalesces every chunk stored since
        // the last drain; the dirty marks (stored with the chunk) make it crash-safe.
        sweep()
      },
    },
  })

  // On the service's registry, so it needs the service; the handlers above run only after start.
  const textMetrics = createTextMetrics(service.metrics)

  let again = false
  let pause: NodeJS.Timeout | undefined
  /**
   * Drains every partition's dirty windows; a call during a drain runs one more after it, after a
   * pause as long as the drain took (at most 1 s). Live, a drain takes milliseconds; while a
   * backlog is consumed, drains grow and this keeps them to half the time, each coalescing more
   * chunks, instead of re-emitting the same windows back to back.
   */
  const sweep = (): void => {
    if (emitter === undefined) return
    if (sweeping !== undefined || pause !== undefined) {
      again = true
      return
    }
    again = false
    const started = performance.now()
    sweeping = emitter
      .sweep()
      .catch((error: unknown) =>
        service.logger.warn('emitting changed windows failed; retried by the next sweep', {
          err: error,
        }),
      )
      .finally(() => {
        sweeping = undefined
        if (!again) return
        pause = setTimeout(
          () => {
            pause = undefined
            sweep()
          },
          Math.min(1_000, performance.now() - started),
        )
      })
  }

  // Aborted by a stop that comes while the output waits for Kafka or Redis at start.
  const opening = new AbortController()
  const start = async (): Promise<void> => {
    try {
      output = await openServiceOutput(service, outputSpec, outputCodec(own.outputVersion), {
        signal: opening.signal,
      })
    } catch (error) {
      if (error instanceof Stopped) return
      throw error
    }
    const { producer, redis } = output
    // The version written (SENTIMENT_AGENT_SENTIMENT_VERSION), with the registry id if any.
    const encoding = { ...output.encoding, version: own.outputVersion }
    await service.start()
    emitter = createEmitter({
      topic: outputSpec.name,
      producer,
      // Its own reader on its own connection: the last drain runs after the kit has closed.
      reader: createStateReader({ redis, name: service.name }),
      redis,
      zone: own.zone,
      encoding,
    })
    sweep()
    sweeper = setInterval(sweep, own.sweepIntervalMs)
  }

  const stop = async (): Promise<void> => {
    opening.abort()
    clearInterval(sweeper)
    try {
      await service.stop()
    } finally {
      again = false
      clearTimeout(pause)
      pause = undefined
      await sweeping
      // What the last chunks changed; marks left (a failure) are emitted at the next start.
      await emitter?.sweep().catch(() => undefined)
      emitter = undefined
      await output?.close()
      output = undefined
    }
  }

  return Object.create(service, {
    start: { value: start },
    stop: { value: stop },
    /** The output topic the windows are upserted to. */
    outputTopic: { value: outputSpec.name },
  }) as ConsumerService
}
