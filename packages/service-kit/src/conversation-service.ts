/*
 * A consumer service that writes one record per conversation (the trámite classifier, chat
 * quality): the kit's consumer service, plus its output (topic provisioned, producer, the
 * emitter's own Redis connection), the conversation emitter run by the emit loop after each
 * stored chunk and every sweep, and the `<metricPrefix>_emitted_total{reason}` counter. A
 * service gives what is its own: how a batch is recorded (`recordConversations`), how a
 * conversation becomes a record (its emitter), its routes, and what to do around start and stop
 * (its rules file watched and closed).
 */
import type { EventCodec, TopicSpec } from '@wolkvox-chat-stream/events'
import type { Counter } from '@wolkvox-chat-stream/observability'
import { createConsumerService, type ConsumerService } from './consumer-service.js'
import type { ConversationEmitter } from './conversation-emitter.js'
import { conversationScript } from './conversation-state.js'
import { createEmitLoop } from './emit-loop.js'
import type { ConsumerServiceOptions } from './options.js'
import { openServiceOutput, type ServiceOutput } from './output.js'
import { Stopped } from './retry.js'

/** The reasons an emitted record is counted under. */
export const emitReasons = ['complete', 'idle', 'content', 'version', 'resend'] as const

export interface ConversationServiceOptions<T> extends Omit<
  ConsumerServiceOptions<T>,
  'scripts' | 'decode'
> {
  /** Bytes to event (`chatMessageCodec.decodeFields(…)`); see ConsumerServiceOptions.decode. */
  decode: (bytes: Buffer) => T
  /** The output topic (provisioned, or verified) and the codec of its records. */
  output: { spec: TopicSpec; codec: EventCodec<unknown> }
  /** A chat never seen complete is emitted this long after its last message was published. */
  idleTimeoutMs: number
  /** How often idle chats are looked for and failed emits retried. */
  sweepIntervalMs: number
  /** What the records are, for the logs and the counter's help ("classifications"). */
  what: string
  /** The emitted counter is `<metricPrefix>_emitted_total` (`wolkvox_classifier`). */
  metricPrefix: string
  /** The emitter, once the output is open; `emitted` counts by reason. */
  emitter: (output: ServiceOutput, emitted: Counter<'reason'>) => ConversationEmitter
  /** Before the consumer starts (after the output is open): watch a rules file. */
  beforeStart?: () => void
  /** Once it consumes and emits: log what it does. */
  afterStart?: () => void
  /** When it stops, before the consumer does: stop watching. */
  beforeStop?: () => void
}

/**
 * Creates a conversation service: a {@link ConsumerService} whose start also opens the output and
 * starts emitting, and whose stop emits what is due and closes the output. Its apply script has
 * the kit's `conversation` function (conversation-state.ts).
 */
export function createConversationService<T>(
  options: ConversationServiceOptions<T>,
): ConsumerService {
  const {
    output: { spec, codec },
    idleTimeoutMs,
    sweepIntervalMs,
    what,
    metricPrefix,
    emitter,
    beforeStart,
    afterStart,
    beforeStop,
    ...consumer
  } = options
  let output: ServiceOutput | undefined

  const service = createConsumerService<T>({
    ...consumer,
    scripts: { conversation: conversationScript },
    hooks: {
      ...consumer.hooks,
      async afterStateStored(info) {
        await consumer.hooks?.afterStateStored?.(info)
        // Not awaited: emitting runs beside consumption; the dirty marks make it crash-safe.
        loop.stored(info.partition)
      },
    },
  })
  const emitted = service.metrics.counter({
    name: `${metricPrefix}_emitted_total`,
    help: `${what[0]!.toUpperCase()}${what.slice(1)} written to the output topic, by reason: complete, idle (first record), content, version (changed later), resend (after a race).`,
    labelNames: ['reason'],
  })
  for (const reason of emitReasons) emitted.inc({ reason }, 0)
  const loop = createEmitLoop({ service, idleTimeoutMs, sweepIntervalMs, what })

  // Aborted by a stop that comes while the output waits for Kafka or Redis at start.
  const opening = new AbortController()
  const start = async (): Promise<void> => {
    try {
      output = await openServiceOutput(service, spec, codec, { signal: opening.signal })
    } catch (error) {
      if (error instanceof Stopped) return
      throw error
    }
    beforeStart?.()
    await service.start()
    const running = emitter(output, emitted)
    afterStart?.()
    loop.start(running)
  }

  const stop = async (): Promise<void> => {
    opening.abort()
    loop.pause()
    beforeStop?.()
    try {
      await service.stop()
    } finally {
      // What the last chunks made due; marks left (a failure) are emitted after the next start.
      await loop.finish()
      await output?.close()
      output = undefined
    }
  }

  return Object.create(service, {
    start: { value: start },
    stop: { value: stop },
  }) as ConsumerService
}
