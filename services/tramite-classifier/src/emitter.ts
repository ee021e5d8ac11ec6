/*
 * Emits classifications. The apply script marks each conversation a batch touched in its
 * partition's dirty hash and keeps chats neither complete nor emitted in the pending sorted set.
 * The emitter reads a marked conversation, merges its classification and, when the chat is due
 * (complete, idle, or emitted before) and the result differs from what was emitted, produces it to
 * the output topic; after the acknowledgement one script records what was emitted and moves the
 * conversation's count, only if the conversation is still as it was read. A conversation that
 * changed meanwhile is read and sent again, so the latest record of a key is never older than the
 * state. A crash or a failed produce leaves the marks: the next drain or sweep emits them.
 */
import { encodeTramiteClassification, type EncodeOptions } from '@wolkvox-chat-stream/events'
import type { EventProducer } from '@wolkvox-chat-stream/kafka'
import type { Counter } from '@wolkvox-chat-stream/observability'
import { toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import { serviceKeys, clearDirtyScript } from '@wolkvox-chat-stream/service-kit'
import { classify, countField, fingerprint, parseConversation, recordOf } from './conversation.js'
import { paths } from './queries.js'
import { conversationKey, recordScript, recordScriptKeys } from './scripts.js'

/** What happened to one conversation. */
export type EmitAction =
  /** Produced and recorded; `change` says what differed from the last record. */
  | 'emitted'
  /** The same as the last record. */
  | 'unchanged'
  /** Neither complete, nor idle, nor emitted before: it waits. */
  | 'waiting'
  /** No state (wiped, or never seen). */
  | 'missing'
  /** Changed while it was emitted: produced, not recorded; send it again. */
  | 'stale'

export interface EmitOutcome {
  member: string
  action: EmitAction
  /**
   * For `emitted`: `new` (its first record), `content`, `version` (the same content under other
   * rules), or `resend` (the same again, after a change raced with the emit).
   */
  change?: 'new' | 'content' | 'version' | 'resend'
}

export interface Emitter {
  /**
   * Looks at `members` of `partition` and emits those due whose classification differs from the
   * last record (or all of them with `force`). `idleBeforeMs`: chats whose latest message was
   * published at or before it are due even when incomplete.
   */
  emit(
    partition: number,
    members: readonly string[],
    options?: { idleBeforeMs?: number; force?: boolean },
  ): Promise<EmitOutcome[]>
  /** Emits what the dirty marks of `partition` point at; resolves once recorded and cleared. */
  drain(partition: number): Promise<number>
  /** Emits the chats of `partition` idle since `idleBeforeMs` (publish time). */
  sweepIdle(partition: number, idleBeforeMs: number): Promise<number>
}

const PAGE = 1_000
const MAX_ROUNDS = 5

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
  const { redis, producer, topic, zone } = options
  const now = options.now ?? Date.now
  const keys = serviceKeys(options.name)

  const once = async (
    partition: number,
    members: readonly string[],
    idleBeforeMs: number | undefined,
    force: boolean,
  ): Promise<EmitOutcome[]> => {
    if (members.length === 0) return []
    let hashes: Record<string, string>[]
    let epoch: string | null
    try {
      // The conversations share the partition's hash tag, the epoch key has the service's (another
      // slot on a cluster): one pipeline for the first, the epoch read beside it, in parallel.
      const read = redis.pipeline()
      for (const member of members) read.hgetall(conversationKey(keys, partition, member))
      const [results, current] = await Promise.all([read.exec(), redis.get(keys.epoch)])
      hashes = (results ?? []).map(([error, value]) => {
        if (error) throw error
        return value as Record<string, string>
      })
      epoch = current
    } catch (error) {
      throw toRedisError(error)
    }
    if (epoch === null) return members.map((member) => ({ member, action: 'missing' }))
    const outcomes: EmitOutcome[] = []
    const due: {
      member: string
      change: NonNullable<EmitOutcome['change']>
      classifiedAtMs: number
      record: ReturnType<typeof recordOf>
      args: string[]
      keys: string[]
    }[] = []
    members.forEach((member, i) => {
      const state = parseConversation(member, hashes[i]!)
      if (state === undefined) {
        outcomes.push({ member, action: 'missing' })
        return
      }
      const idle = idleBeforeMs !== undefined && state.lastPublishMs <= idleBeforeMs
      if (!state.complete && !idle && state.emitted === undefined) {
        outcomes.push({ member, action: 'waiting' })
        return
      }
      const classified = classify(state)
      const print = fingerprint(classified)
      const last = state.emitted
      const change =
        last === undefined
          ? 'new'
          : last.fingerprint !== print
            ? 'content'
            : last.version !== classified.rule_set_version
              ? 'version'
              : undefined
      if (change === undefined && !force) {
        outcomes.push({ member, action: 'unchanged' })
        return
      }
      const at = now()
      due.push({
        member,
        change: change ?? 'resend',
        classifiedAtMs: at,
        record: recordOf(classified, at),
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
          String(at),
          classified.rule_set_version,
          countField(classified, zone),
          epoch,
        ],
      })
    })
    if (due.length === 0) return outcomes
    await producer.send(
      due.map((d) => ({
        topic,
        key: d.member,
        value: encodeTramiteClassification(d.record, encoding),
      })),
    )
    let results: unknown[]
    try {
      // Every key of every script is in the partition's hash tag: one slot, one pipeline.
      const pipeline = redis.pipeline()
      for (const d of due) pipeline.eval(recordScript, d.keys.length, ...d.keys, ...d.args)
      const replies = (await pipeline.exec()) ?? []
      for (const [error] of replies) if (error) throw error
      results = replies.map(([, value]) => value)
    } catch (error) {
      throw toRedisError(error)
    }
    due.forEach((d, i) => {
      const result = Number(results[i])
      if (result === 1) {
        outcomes.push({ member: d.member, action: 'emitted', change: d.change })
        const reason = d.change === 'new' ? (d.record.complete ? 'complete' : 'idle') : d.change
        options.emitted?.inc({ reason })
      } else if (result === 0) outcomes.push({ member: d.member, action: 'stale' })
      else outcomes.push({ member: d.member, action: 'missing' })
    })
    return outcomes
  }

  const emit: Emitter['emit'] = async (partition, members, opts = {}) => {
    let outcomes = await once(partition, members, opts.idleBeforeMs, opts.force ?? false)
    const done = outcomes.filter((o) => o.action !== 'stale')
    // Changed while being emitted: the record sent may be older than the state; send it again.
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const stale = outcomes.filter((o) => o.action === 'stale').map((o) => o.member)
      if (stale.length === 0) break
      outcomes = await once(partition, stale, opts.idleBeforeMs, true)
      done.push(...outcomes.filter((o) => o.action !== 'stale'))
    }
    done.push(...outcomes.filter((o) => o.action === 'stale'))
    return done
  }

  const drain = async (partition: number): Promise<number> => {
    const dirty = keys.state(partition, paths.dirty)
    let total = 0
    // Bounded: marks that keep changing are left to the next drain.
    for (let pass = 0; pass < 20; pass++) {
      let flat: string[]
      try {
        ;[, flat] = await redis.hscan(dirty, '0', 'COUNT', PAGE)
      } catch (error) {
        throw toRedisError(error)
      }
      if (flat.length === 0) return total
      const members: string[] = []
      for (let i = 0; i < flat.length; i += 2) members.push(flat[i]!)
      const outcomes = await emit(partition, members)
      total += outcomes.filter((o) => o.action === 'emitted').length
      try {
        await redis.eval(clearDirtyScript, 1, dirty, ...flat)
        if (flat.length < 2 * PAGE && (await redis.hlen(dirty)) === 0) return total
      } catch (error) {
        throw toRedisError(error)
      }
    }
    return total
  }

  const sweepIdle = async (partition: number, idleBeforeMs: number): Promise<number> => {
    const pending = keys.state(partition, paths.pending)
    let total = 0
    for (let pass = 0; pass < 20; pass++) {
      let members: string[]
      try {
        members = await redis.zrangebyscore(pending, '-inf', idleBeforeMs, 'LIMIT', 0, PAGE)
      } catch (error) {
        throw toRedisError(error)
      }
      if (members.length === 0) return total
      const outcomes = await emit(partition, members, { idleBeforeMs })
      total += outcomes.filter((o) => o.action === 'emitted').length
      const gone = outcomes.filter((o) => o.action === 'missing').map((o) => o.member)
      if (gone.length > 0) await redis.zrem(pending, ...gone).catch(() => undefined)
      if (members.length < PAGE) return total
    }
    return total
  }

  return { emit, drain, sweepIdle }
}
