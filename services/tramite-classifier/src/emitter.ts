/*
 * Emits classifications through the kit's conversation emitter (packages/service-kit:
 * conversation-emitter.ts): a marked conversation is merged into its classification and, when
 * the chat is due (complete, idle, or emitted before) and the result differs from what was
 * emitted, produced; the record script then stores what was emitted and moves the conversation's
 * count, only if the conversation is still as it was read.
 */
import { encodeTramiteClassification, type EncodeOptions } from '@wolkvox-chat-stream/events'
import type { EventProducer } from '@wolkvox-chat-stream/kafka'
import type { Counter } from '@wolkvox-chat-stream/observability'
import type { Redis } from '@wolkvox-chat-stream/redis'
import {
  changeOf,
  createConversationEmitter,
  isDue,
  serviceKeys,
  type ConversationEmitter,
  type Plan,
} from '@wolkvox-chat-stream/service-kit'
import {
  classify,
  countField,
  fingerprint,
  parseConversation,
  parseMember,
  recordOf,
} from './conversation.js'
import { paths } from './queries.js'
import { recordScript, recordScriptKeys } from './scripts.js'

export type { EmitAction, EmitOutcome } from '@wolkvox-chat-stream/service-kit'

/** The classifier's emitter. */
export type Emitter = ConversationEmitter

/** An emitter of service `name` writing to `topic`. */
export function createEmitter(options: {
  name: string
  redis: Redis
  producer: EventProducer
  topic: string
  zone: string
  now?: () => number
  /** `wolkvox_classifier_emitted_total{reason}`, when the service counts. */
  emitted?: Counter<'reason'>
  /** The output's encoding (registry mode: `{ registryId }`). */
  encoding?: EncodeOptions
}): Emitter {
  const encoding = options.encoding ?? {}
  const { zone } = options
  const keys = serviceKeys(options.name)
  return createConversationEmitter({
    name: options.name,
    redis: options.redis,
    producer: options.producer,
    topic: options.topic,
    ...(options.now ? { now: options.now } : {}),
    paths: {
      conversation(member) {
        const { server, connId } = parseMember(member)
        return paths.conversation(server, connId)
      },
      dirty: paths.dirty,
      pending: paths.pending,
    },
    recordScript,
    onEmitted: (reason) => options.emitted?.inc({ reason }),
    plan(member, hash, { partition, epoch, idleBeforeMs, force, nowMs }): Plan {
      const state = parseConversation(member, hash)
      if (state === undefined) return 'missing'
      if (!isDue(state, idleBeforeMs)) return 'waiting'
      const classified = classify(state)
      const print = fingerprint(classified)
      const last = state.emitted
      const change = changeOf(state, print, classified.rule_set_version, force)
      if (change === undefined) return 'unchanged'
      const record = recordOf(classified, nowMs)
      return {
        value: encodeTramiteClassification(record, encoding),
        change,
        complete: record.complete,
        keys: recordScriptKeys(
          keys,
          partition,
          member,
          classified.rule_set_version,
          last?.version ?? classified.rule_set_version,
        ),
        args: [
          member,
          state.changes,
          last?.version ?? '',
          print,
          String(nowMs),
          classified.rule_set_version,
          countField(classified, zone),
          epoch,
        ],
      }
    },
  })
}
