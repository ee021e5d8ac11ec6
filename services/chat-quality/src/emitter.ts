/*
 * Emits ChatQuality records through the kit's conversation emitter (packages/service-kit:
 * conversation-emitter.ts): a marked conversation's figures are computed and, when the chat is
 * due (complete, idle, or emitted before) and they differ from what was emitted, produced; the
 * record script then stores what was emitted and moves the conversation's counters to its agent's
 * hour, day and totals, only if the conversation is still as it was read.
 */
import { chatQualityCodec, type EncodeOptions } from '@wolkvox-chat-stream/events'
import type { EventProducer } from '@wolkvox-chat-stream/kafka'
import type { Counter } from '@wolkvox-chat-stream/observability'
import type { Redis } from '@wolkvox-chat-stream/redis'
import {
  changeOf,
  createConversationEmitter,
  isDue,
  parseMember,
  serviceKeys,
  type ConversationEmitter,
  type Plan,
} from '@wolkvox-chat-stream/service-kit'
import type { TramiteRule } from '@wolkvox-chat-stream/keyword-rules'
import {
  contributionOf,
  fcrEntryOf,
  fingerprint,
  parseState,
  qualityOf,
  recordOf,
} from './conversation.js'
import { paths } from './queries.js'
import { recordScript, recordScriptKeys } from './scripts.js'
import type { QualityMetrics } from './quality-metrics.js'
import type { QualityStandards } from './timings.js'

/** An emitter of service `name` writing to `topic`. */
export function createQualityEmitter(options: {
  name: string
  redis: Redis
  producer: EventProducer
  topic: string
  zone: string
  standards: QualityStandards
  /** The checks in force (the rules file's rules, in order), read at every emit. */
  checks: () => readonly Pick<TramiteRule, 'id'>[]
  now?: () => number
  /** `wolkvox_quality_emitted_total{reason}`, when the service counts. */
  emitted?: Counter<'reason'>
  /** The quality metrics (quality-metrics.ts), when the service counts. */
  quality?: QualityMetrics
  /** The output's encoding (registry mode: `{ registryId }`). */
  encoding?: EncodeOptions
}): ConversationEmitter {
  const encoding = options.encoding ?? {}
  const { zone, standards } = options
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
      const state = parseState(member, hash)
      if (state === undefined || state.messages.length === 0) return 'missing'
      if (!isDue(state, idleBeforeMs)) return 'waiting'
      const computed = qualityOf(state, options.checks(), standards)
      const print = fingerprint(computed)
      const last = state.emitted
      const change = changeOf(state, print, computed.rule_set_version, force)
      const entry = fcrEntryOf(state, computed)
      // The record is the same, but the customer's identity changed (a corrected message): only
      // the FCR entry is stored.
      const storeOnly = change === undefined && last !== undefined && state.fcrEntry !== entry
      if (change === undefined && !storeOnly) return 'unchanged'
      const record = recordOf(computed, storeOnly ? last.computedAtMs : nowMs)
      const counted = contributionOf(computed, zone)
      return {
        ...(storeOnly
          ? {}
          : {
              onRecorded: () => options.quality?.observe(record, change!),
              value: chatQualityCodec.encode(record, encoding),
            }),
        change: change ?? 'resend',
        complete: record.complete,
        keys: recordScriptKeys(
          keys,
          partition,
          member,
          counted.agentKey,
          last === undefined ? counted.agentKey : last.agentKey,
        ),
        args: [
          member,
          state.changes,
          last?.fields ?? '',
          print,
          String(record.computed_at.getTime()),
          computed.rule_set_version,
          counted.agentKey,
          counted.fields.join(' '),
          epoch,
          computed.agent_name,
          String(computed.started_at.getTime()),
          entry,
          computed.conn_id,
        ],
      }
    },
  })
}
