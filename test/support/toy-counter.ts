/*
 * A toy consumer on the service kit, for the kit's tests and benchmark: per partition, counters of
 * messages and sentiments and a message count per conversation; queries merge the partitions.
 */
import { AppError } from '@wolkvox-chat-stream/errors'
import type { ChatMessage } from '@wolkvox-chat-stream/events'
import type { Logger } from '@wolkvox-chat-stream/observability'
import {
  createConsumerService,
  type ConsumerHooks,
  type ConsumerService,
  type StateReader,
} from '@wolkvox-chat-stream/service-kit'

export interface ToyOptions {
  name: string
  input: string
  brokers: string
  redisUrl: string
  /** Events for which the handler throws CONSUMER_EVENT_REJECTED (an invariant it refuses). */
  refuse?: (event: ChatMessage) => boolean
  /** Slows each event down, to make a rebuild observable. */
  delayPerEventMs?: number
  env?: Record<string, string>
  hooks?: ConsumerHooks
  logger?: Logger
  maxEventsPerScript?: number
}

/** The toy's settings for tests: short sessions and checks, a free port, warnings only. */
export function toyEnv(
  options: Pick<ToyOptions, 'brokers' | 'redisUrl' | 'env'>,
): Record<string, string> {
  return {
    KAFKA_BROKERS: options.brokers,
    REDIS_URL: options.redisUrl,
    HTTP_PORT: '0',
    LOG_LEVEL: 'warn',
    CONSUMER_SESSION_TIMEOUT: '6s',
    CONSUMER_HEARTBEAT_INTERVAL: '1s',
    CONSUMER_EPOCH_CHECK_INTERVAL: '300ms',
    CONSUMER_RETRY_MAX_BACKOFF: '1s',
    CONSUMER_SHUTDOWN_TIMEOUT: '10s',
    ...options.env,
  }
}

export function createToyCounter(options: ToyOptions): ConsumerService {
  return createConsumerService({
    name: options.name,
    input: options.input,
    env: toyEnv(options),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.hooks ? { hooks: options.hooks } : {}),
    ...(options.maxEventsPerScript ? { maxEventsPerScript: options.maxEventsPerScript } : {}),
    async handle(event, ctx) {
      if (options.refuse?.(event)) {
        throw new AppError('CONSUMER_EVENT_REJECTED', `the toy refuses event ${event.event_id}`)
      }
      if (options.delayPerEventMs) await new Promise((r) => setTimeout(r, options.delayPerEventMs))
      ctx.state.hincrby('counts', 'messages')
      ctx.state.hincrby('counts', `sentiment.${event.sentiment}`)
      ctx.state.hincrby('conversations', event.conn_id)
    },
  })
}

/** The toy's state as a query sees it: every partition merged. */
export interface ToyState {
  counts: Record<string, number>
  conversations: Record<string, number>
}

export async function readToyState(reader: StateReader): Promise<ToyState> {
  const [counts, conversations] = await Promise.all([
    reader.sumHash('counts'),
    reader.sumHash('conversations'),
  ])
  return { counts, conversations }
}

/** What the toy must hold after `events`, each event_id counted once. */
export function expectedToyState(events: readonly ChatMessage[]): ToyState {
  const state: ToyState = { counts: {}, conversations: {} }
  const seen = new Set<string>()
  const add = (map: Record<string, number>, key: string): void =>
    void (map[key] = (map[key] ?? 0) + 1)
  for (const event of events) {
    if (seen.has(event.event_id)) continue
    seen.add(event.event_id)
    add(state.counts, 'messages')
    add(state.counts, `sentiment.${event.sentiment}`)
    add(state.conversations, event.conn_id)
  }
  return state
}
