/*
 * `npm run classifier -- reclassify --from T --to T [--server S]`: reads the input topic from its
 * start to its end as of now, matches every message of the conversations with a message in the
 * range again with the rules in force, replaces their matches in the running service's state, and
 * emits through the service's emitter only what changed: the same records, counts and checks as
 * the service's own emits. README: Reclassify.
 */
import { randomBytes } from 'node:crypto'
import { AppError } from '@wolkvox-chat-stream/errors'
import { decodeChatMessage, topics, tramiteClassificationCodec } from '@wolkvox-chat-stream/events'
import { createSchemaRegistry, registryEncoding } from '@wolkvox-chat-stream/schema-registry'
import {
  createConsumer,
  createEventProducer,
  createKafkaClient,
  provisionTopics,
  runBatches,
  toKafkaError,
  provisionOptionsOf,
} from '@wolkvox-chat-stream/kafka'
import type { Logger } from '@wolkvox-chat-stream/observability'
import { createRedis, toRedisError, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import {
  createStateReader,
  serviceKeys,
  type ConsumerServiceConfig,
  type ServiceKeys,
} from '@wolkvox-chat-stream/service-kit'
import { parseTimeBound } from '@wolkvox-chat-stream/zoned-time'
import type { ClassifierConfig } from './config.js'
import { matchMessage, memberOf } from './conversation.js'
import { compileRules, loadRules, type CompiledRules } from '@wolkvox-chat-stream/keyword-rules'
import { createEmitter, type EmitOutcome } from './emitter.js'
import { conversationKey, rematchScript, rematchScriptKeys } from './scripts.js'

/** What reclassify did, printed as its last line. */
export interface ReclassifySummary {
  event: 'summary'
  rules_version: string
  from: string
  to: string
  server: string | null
  /** Messages read from the input topic (all of it, as far as its end at the start). */
  messages_read: number
  /** Conversations with a message in the range (of `server`). */
  conversations: number
  /** Emitted with another classification than their last record (or their first record). */
  changed: number
  /** Emitted with the same classification under the rules in force (a new version). */
  restamped: number
  /** Records produced: changed + restamped. */
  emitted: number
  unchanged: number
  /** Neither complete nor idle: their matches were replaced, the service emits them when due. */
  waiting: number
  /** Not in the service's state (not consumed yet, or a partition being rebuilt): left alone. */
  missing: number
}

/**
 * A bound of reclassify's and suggest's `--from`/`--to` (README: Times and ranges), in `zone`. Their
 * range is closed, `[from, to]`: a bare date is its local day's start as `from` and its last
 * millisecond as `to` (`end`), so `--from 2026-11-01 --to 2026-11-24` is 24 whole days.
 * @throws AppError `TRAMITE_COMMAND_INVALID` naming the text and the accepted forms.
 */
export function parseRangeBound(
  text: string,
  zone: string,
  end: boolean,
  nowMs: number = Date.now(),
): number {
  const parsed = parseTimeBound(text, zone, { nowMs, bound: end ? 'through' : 'from' })
  if (!parsed.ok) throw invalid(parsed.error)
  return parsed.ms
}

const invalid = (message: string): AppError => new AppError('TRAMITE_COMMAND_INVALID', message)

interface Seen {
  partition: number
  inRange: boolean
  /** event_id -> the message's matches (JSON), '' when none counted. */
  matches: Map<string, string>
}

/** Reads the whole input topic up to its current end, keeping what reclassify needs. */
async function readInput(options: {
  name: string
  config: Readonly<ConsumerServiceConfig>
  rules: CompiledRules
  fromMs: number
  toMs: number
  server: string | undefined
  logger: Logger
  progress: (line: Record<string, unknown>) => void
}): Promise<{ read: number; conversations: Map<string, Seen> }> {
  const { config, rules, fromMs, toMs, server, logger } = options
  const topic = config.inputTopic
  const kafka = createKafkaClient({
    ...config.kafka,
    clientId: `${options.name}-reclassify`,
    logger: logger.child({ kafka: true }),
  })
  const admin = kafka.admin()
  // A throwaway group: it commits nothing and is deleted at the end.
  const groupId = `${options.name}-reclassify-${randomBytes(4).toString('hex')}`
  const consumer = createConsumer(kafka, { groupId, maxWaitTimeMs: 500 })
  const conversations = new Map<string, Seen>()
  const schemaRegistry =
    config.schemaRegistry === undefined ? undefined : createSchemaRegistry(config.schemaRegistry)
  let read = 0
  try {
    try {
      await admin.connect()
    } catch (error) {
      throw toKafkaError(error, 'Connecting the admin client')
    }
    const ends = await admin.fetchTopicOffsets(topic).catch((error: unknown) => {
      throw toKafkaError(error, `Reading the offsets of ${topic}`)
    })
    const remaining = new Map(
      ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]),
    )
    const total = ends.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)
    if (remaining.size === 0) return { read, conversations }
    let lastReport = Date.now()
    await new Promise<void>((resolve, reject) => {
      runBatches(consumer, {
        topics: [topic],
        fromBeginning: true,
        onCrash: (error, restart) => {
          if (!restart) reject(error)
        },
        eachBatch: async ({ batch }) => {
          const end = remaining.get(batch.partition)
          if (end === undefined) return
          // Registry mode: the batch's schema ids known before decoding.
          await schemaRegistry?.prepare(batch.messages.map((m) => m.value))
          for (const message of batch.messages) {
            if (Number(message.offset) >= end) break
            read++
            let event
            try {
              event = decodeChatMessage(message.value ?? Buffer.alloc(0))
            } catch {
              continue // the service dead-lettered it
            }
            if (server !== undefined && event.server !== server) continue
            const member = memberOf(event.server, event.conn_id)
            let seen = conversations.get(member)
            if (seen === undefined) {
              seen = { partition: batch.partition, inRange: false, matches: new Map() }
              conversations.set(member, seen)
            }
            const ms = event.sent_at.getTime()
            if (ms >= fromMs && ms <= toMs) seen.inRange = true
            const found = matchMessage(rules, event)
            seen.matches.set(event.event_id, found === undefined ? '' : JSON.stringify(found))
          }
          if (Number(batch.lastOffset()) + 1 >= end) remaining.delete(batch.partition)
          if (Date.now() - lastReport >= 5_000) {
            lastReport = Date.now()
            options.progress({ event: 'progress', stage: 'read', read, total })
          }
          if (remaining.size === 0) resolve()
        },
      }).catch(reject)
    })
    return { read, conversations }
  } finally {
    await consumer.disconnect().catch(() => undefined)
    await schemaRegistry?.close()
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect().catch(() => undefined)
  }
}

/**
 * Reclassifies the conversations of service `name` with a message in `[fromMs, toMs]`.
 *
 * @throws AppError `TRAMITE_RULES_*` for a bad rules file, Kafka and Redis errors.
 */
export async function reclassify(options: {
  name: string
  config: Readonly<ConsumerServiceConfig>
  classifier: Readonly<ClassifierConfig>
  from: string
  to: string
  server?: string
  logger: Logger
  progress: (line: Record<string, unknown>) => void
}): Promise<ReclassifySummary> {
  const { name, config, classifier, logger, progress } = options
  const fromMs = parseRangeBound(options.from, classifier.zone, false)
  const toMs = parseRangeBound(options.to, classifier.zone, true)
  if (fromMs > toMs) throw invalid('--from is after --to')
  const rules = compileRules(loadRules(classifier.rulesFile))
  const summary: ReclassifySummary = {
    event: 'summary',
    rules_version: rules.version,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    server: options.server ?? null,
    messages_read: 0,
    conversations: 0,
    changed: 0,
    restamped: 0,
    emitted: 0,
    unchanged: 0,
    waiting: 0,
    missing: 0,
  }
  const { read, conversations } = await readInput({
    name,
    config,
    rules,
    fromMs,
    toMs,
    server: options.server,
    logger,
    progress,
  })
  summary.messages_read = read
  const byPartition = new Map<number, string[]>()
  for (const [member, seen] of conversations) {
    if (!seen.inRange) continue
    summary.conversations++
    byPartition.set(seen.partition, [...(byPartition.get(seen.partition) ?? []), member])
  }
  if (summary.conversations === 0) return summary

  const redis = createRedis(config.redis, { name: `${name}-reclassify`, logger })
  const kafka = createKafkaClient({
    ...config.kafka,
    clientId: `${name}-reclassify`,
    logger: logger.child({ kafka: true }),
  })
  const producer = createEventProducer(kafka)
  try {
    await waitUntilReady(redis, { timeoutMs: 10_000 })
    await provisionTopics(
      kafka,
      [{ ...topics.chatTramite, name: classifier.outputTopic }],
      provisionOptionsOf(config.kafka, logger),
    )
    await producer.connect()
    const emitter = createEmitter({
      name,
      redis,
      producer,
      topic: classifier.outputTopic,
      zone: classifier.zone,
      encoding: await registryEncoding(
        config.schemaRegistry,
        classifier.outputTopic,
        tramiteClassificationCodec,
      ),
    })
    const keys = serviceKeys(name)
    const current = new Set(await createStateReader({ redis, name }).partitions())
    let done = 0
    let lastReport = Date.now()
    for (const [partition, members] of byPartition) {
      if (!current.has(partition)) {
        summary.missing += members.length
        continue
      }
      for (let i = 0; i < members.length; i += 200) {
        const chunk = members.slice(i, i + 200)
        const present = await rematch(redis, keys, partition, chunk, conversations, rules.version)
        summary.missing += chunk.length - present.length
        count(summary, await emitter.emit(partition, present))
        done += chunk.length
        if (Date.now() - lastReport >= 5_000) {
          lastReport = Date.now()
          progress({ event: 'progress', stage: 'reclassify', done, of: summary.conversations })
        }
      }
    }
    summary.emitted = summary.changed + summary.restamped
    return summary
  } finally {
    await producer.disconnect().catch(() => undefined)
    await redis.quit().catch(() => redis.disconnect())
  }
}

function count(summary: ReclassifySummary, outcomes: readonly EmitOutcome[]): void {
  for (const o of outcomes) {
    if (o.action === 'emitted') {
      if (o.change === 'version') summary.restamped++
      else summary.changed++
    } else if (o.action === 'unchanged') summary.unchanged++
    else if (o.action === 'waiting') summary.waiting++
    else if (o.action === 'missing') summary.missing++
    // 'stale' after every retry: a message arrived meanwhile; the service emits it.
    else summary.unchanged++
  }
}

/**
 * Writes the new matches of `members` where they differ from the state; returns the members the
 * state holds. A conversation that changes between the read and the write is read again.
 */
async function rematch(
  redis: Redis,
  keys: ServiceKeys,
  partition: number,
  members: readonly string[],
  seen: ReadonlyMap<string, Seen>,
  version: string,
): Promise<string[]> {
  let todo = [...members]
  const present = new Set<string>()
  try {
    // The epoch key is the service's (its own slot on a cluster): read apart from the pipelines,
    // whose keys all carry the partition's hash tag.
    const epoch = await redis.get(keys.epoch)
    if (epoch === null) return []
    for (let attempt = 0; attempt < 5 && todo.length > 0; attempt++) {
      const read = redis.pipeline()
      for (const member of todo) read.hgetall(conversationKey(keys, partition, member))
      const hashes = ((await read.exec()) ?? []).map(([error, value]) => {
        if (error) throw error
        return value as Record<string, string>
      })
      const writes: { member: string; args: string[] }[] = []
      todo.forEach((member, i) => {
        const hash = hashes[i]!
        if (hash.first === undefined) return
        present.add(member)
        const args: string[] = []
        for (const [eventId, json] of seen.get(member)!.matches) {
          if ((hash[`m:${eventId}`] ?? '') !== json) args.push(`m:${eventId}`, json)
        }
        if (args.length > 0 || hash.v !== version)
          writes.push({ member, args: [epoch, hash.n ?? '', version, ...args] })
      })
      const write = redis.pipeline()
      for (const w of writes) {
        const scriptKeys = rematchScriptKeys(keys, partition, w.member)
        write.eval(rematchScript, scriptKeys.length, ...scriptKeys, ...w.args)
      }
      const results = ((await write.exec()) ?? []).map(([error, value]) => {
        if (error) throw error
        return Number(value)
      })
      todo = writes.filter((_, i) => results[i] === 0).map((w) => w.member)
      for (const [i, w] of writes.entries()) if (results[i] === -1) present.delete(w.member)
    }
  } catch (error) {
    throw toRedisError(error)
  }
  return members.filter((m) => present.has(m))
}
