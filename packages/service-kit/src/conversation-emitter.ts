/*
 * Emitting one record per conversation, for a service that keeps a hash per conversation (the
 * trámite classifier, chat quality). The apply script marks each conversation a batch touched in
 * its partition's dirty hash and keeps chats neither complete nor emitted in the pending sorted
 * set. The emitter reads a marked conversation and asks the service what to do with it; when the
 * service plans a record (the chat is due and its result differs from what was emitted), it is
 * produced to the output topic and, after the acknowledgement, the service's record script stores
 * what was emitted, only if the conversation is still as it was read. A conversation that changed
 * meanwhile is read and sent again, so the latest record of a key is never older than the state.
 * A crash or a failed produce leaves the marks: the next drain or sweep emits them.
 */
import type { EventProducer } from '@wolkvox-chat-stream/kafka'
import { toRedisError, type Redis } from '@wolkvox-chat-stream/redis'
import { serviceKeys, type KeyPath } from './keys.js'
import { clearDirtyScript } from './output.js'

/** What a conversation's state says about emitting it, for {@link isDue} and {@link changeOf}. */
export interface EmitState {
  complete: boolean
  /** The latest publish time (record timestamp, ms) of its messages. */
  lastPublishMs: number
  /** What was last emitted: the content fingerprint and the rules version. */
  emitted?: { fingerprint: string; version: string }
}

/**
 * Whether a conversation is due: complete, idle (its latest message published at or before
 * `idleBeforeMs`), or emitted before (then every change is sent).
 */
export const isDue = (state: EmitState, idleBeforeMs: number | undefined): boolean =>
  state.complete ||
  state.emitted !== undefined ||
  (idleBeforeMs !== undefined && state.lastPublishMs <= idleBeforeMs)

/**
 * What a record with content `fingerprint` under rules `version` changes against the last one:
 * `new`, `content`, `version`, or undefined (the same); `resend` when `force` sends the same again.
 */
export function changeOf(
  state: EmitState,
  fingerprint: string,
  version: string,
  force: boolean,
): EmitChange | undefined {
  const last = state.emitted
  if (last === undefined) return 'new'
  if (last.fingerprint !== fingerprint) return 'content'
  if (last.version !== version) return 'version'
  return force ? 'resend' : undefined
}

/** What happened to one conversation. */
export type EmitAction =
  /** Produced and recorded; `change` says what differed from the last record. */
  | 'emitted'
  /** Nothing produced (the record is the same), but what the service keeps beside it stored. */
  | 'stored'
  /** The same as the last record. */
  | 'unchanged'
  /** Neither complete, nor idle, nor emitted before: it waits. */
  | 'waiting'
  /** No state (wiped, or never seen). */
  | 'missing'
  /** Changed while it was emitted: produced, not recorded; send it again. */
  | 'stale'

/** What a record changes against the last one of its key. */
export type EmitChange = 'new' | 'content' | 'version' | 'resend'

export interface EmitOutcome {
  member: string
  action: EmitAction
  /**
   * For `emitted`: `new` (its first record), `content`, `version` (the same content under other
   * rules), or `resend` (the same again, after a change raced with the emit).
   */
  change?: EmitChange
}

/**
 * A record the service wants on the output topic, and how to store that it was emitted; or, with
 * no `value`, only what the service keeps beside its records, which changed while the record did
 * not (the record script runs, nothing is produced).
 */
export interface PlannedRecord {
  /** The record's value, encoded; undefined to store without producing. */
  value?: Buffer
  change: EmitChange
  /** Whether the record says the chat is complete: a first record is counted as `complete` or `idle`. */
  complete: boolean
  /**
   * The record script's KEYS, every one in the partition's hash tag; its ARGV. The script returns
   * 1 recorded, 0 changed since read, -1 the partition's state belongs to another epoch.
   */
  keys: string[]
  args: string[]
  /** Called once the record script stored it (returned 1): count what was written. */
  onRecorded?: () => void
}

/** What the emitter asks the service about one conversation it read. */
export interface PlanContext {
  partition: number
  /** The service's epoch, for the record script's check. */
  epoch: string
  /** Chats whose latest message was published at or before this are due even when incomplete. */
  idleBeforeMs: number | undefined
  /** Send even when the result is the same as the last record. */
  force: boolean
  /** The time of emitting (`now()`), the record's computed-at time. */
  nowMs: number
}

/** What the service decides for one conversation. */
export type Plan = PlannedRecord | 'missing' | 'waiting' | 'unchanged'

export interface ConversationEmitter {
  /**
   * Looks at `members` of `partition` and emits those due whose result differs from the last
   * record (or all of them with `force`). `idleBeforeMs`: chats whose latest message was published
   * at or before it are due even when incomplete.
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

export interface ConversationEmitterOptions {
  /** The service's name (its keys). */
  name: string
  redis: Redis
  producer: EventProducer
  topic: string
  /** The state paths: a conversation's hash (by member), the dirty hash and the pending set. */
  paths: { conversation: (member: string) => KeyPath; dirty: KeyPath; pending: KeyPath }
  /** Decides what to emit for a conversation read as `hash` (empty when it has no state). */
  plan: (member: string, hash: Readonly<Record<string, string>>, ctx: PlanContext) => Plan
  /** Stores what was emitted; see {@link PlannedRecord}. */
  recordScript: string
  now?: () => number
  /**
   * Counts each recorded emit by its reason: `complete` or `idle` (a first record), `content`,
   * `version` or `resend`.
   */
  onEmitted?: (reason: string) => void
}

const PAGE = 1_000
const MAX_ROUNDS = 5

/** A conversation emitter; see the top of this file. */
export function createConversationEmitter(
  options: ConversationEmitterOptions,
): ConversationEmitter {
  const { redis, producer, topic, paths, plan, recordScript } = options
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
      for (const member of members) read.hgetall(keys.state(partition, paths.conversation(member)))
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
    const due: (PlannedRecord & { member: string })[] = []
    const ctx: PlanContext = { partition, epoch, idleBeforeMs, force, nowMs: now() }
    members.forEach((member, i) => {
      const decided = plan(member, hashes[i]!, ctx)
      if (typeof decided === 'string') outcomes.push({ member, action: decided })
      else due.push({ ...decided, member })
    })
    if (due.length === 0) return outcomes
    const records = due.flatMap((d) =>
      d.value === undefined ? [] : [{ topic, key: d.member, value: d.value }],
    )
    if (records.length > 0) await producer.send(records)
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
      if (result === 1 && d.value === undefined) {
        outcomes.push({ member: d.member, action: 'stored' })
        d.onRecorded?.()
      } else if (result === 1) {
        outcomes.push({ member: d.member, action: 'emitted', change: d.change })
        options.onEmitted?.(d.change === 'new' ? (d.complete ? 'complete' : 'idle') : d.change)
        d.onRecorded?.()
      } else if (result === 0) outcomes.push({ member: d.member, action: 'stale' })
      else outcomes.push({ member: d.member, action: 'missing' })
    })
    return outcomes
  }

  const emit: ConversationEmitter['emit'] = async (partition, members, opts = {}) => {
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
