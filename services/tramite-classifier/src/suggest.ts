/*
 * `npm run classifier -- suggest`: helps rule authors. Reads the message topic over a range and
 * lists (1) the frequent words and phrases of customers in chats that got no trámite and (2) per
 * trámite, the words and phrases that come with it and its rules do not cover yet, with a lift.
 * `--check FILE` scores a draft rules file against the rules in force, on the labelled sets and
 * on the chats of the topic (which chats would change primary trámite). README: Suggest.
 *
 * The counting, tokenising, coverage and tables are pure functions (tested in suggest.test.ts);
 * `readChats` reads the topic as reclassify does; `suggestCommand` is the command line.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { AppError } from '@wolkvox-chat-stream/errors'
import { decodeChatMessage, topics } from '@wolkvox-chat-stream/events'
import {
  createConsumer,
  createKafkaClient,
  runBatches,
  toKafkaError,
} from '@wolkvox-chat-stream/kafka'
import {
  classifyConversation,
  classifyMessage,
  compileRules,
  loadEvalSet,
  loadRules,
  normalizeText,
  type CompiledRules,
  type LabelledMessage,
  type Sender,
  type TramiteRule,
} from '@wolkvox-chat-stream/keyword-rules'
import { createLogger, type Logger } from '@wolkvox-chat-stream/observability'
import { createSchemaRegistry } from '@wolkvox-chat-stream/schema-registry'
import {
  memberOf,
  readConsumerConfig,
  type ConsumerServiceConfig,
} from '@wolkvox-chat-stream/service-kit'
import { readClassifierConfig } from './config.js'
import { parseRangeBound } from './reclassify.js'

// ---------------------------------------------------------------------------------------------
// Terms: words and 2- and 3-word phrases of a message, folded as the engine folds.

/**
 * Words that say nothing about a trámite: Spanish articles, prepositions, pronouns, conjunctions,
 * auxiliary and request verbs, greetings and courtesies, and the words of links and markup.
 * Folded (no accents, lower case), as the text is compared after folding.
 */
export const stopWords: ReadonlySet<string> = new Set(
  `
  a al algo algun alguna algunas alguno algunos alli ante antes aqui asi aun aunque bajo cada casi
  como con contra cual cuales cualquier cuando cuyo de del desde donde dos durante e el ella ellas
  ellos en entonces entre era eran eres es esa esas ese eso esos esta estaba estaban estamos
  estan estar estas este esto estos estoy fue fueron ha hace hacer hacia han has hasta hay haya he
  hemos la las le les lo los mas me mi mia mias mio mios mis mucho muchos muy nada ni no nos
  nosotros nuestra nuestro o os otra otras otro otros para pero poco por porque pues que quien
  quienes se sea sean ser si sido sin sino sobre sois somos son soy su sus tal tambien tan tanto te
  tenemos tener tenga tengo tenia ti tiene tienen toda todas todo todos tras tu tus u un una unas
  uno unos usted ustedes vez vosotros y ya yo
  puede pueden puedo podria podrian podemos quiero queria quisiera quisieramos necesito necesitaba
  necesita necesitamos deseo desea deseamos saber hola buen buena buenas buenos dia dias tarde
  tardes noche noches gracias muchas favor porfa porfavor xfa saludo saludos cordial cordialmente
  senor senora senorita senores atento atenta atentamente amable gusto bendiciones feliz ok okay
  listo bueno vale perfecto claro disculpe disculpa perdon ayuda ayudar ayudarme ayudeme colaborar
  http https www com href src img html
`
    .split(/\s+/u)
    .filter((w) => w !== ''),
)

/** Words longer than this are not words a customer types: links, encoded images, ids. */
export const maxWordLength = 30
/** Example messages are cut to this many characters (the last one then `…`). */
export const exampleLength = 120

const digitsOnly = /^\p{N}+$/u

/** A folded word that may be a term, or begin or end a phrase. */
export function isTermWord(word: string): boolean {
  return (
    word.length >= 3 &&
    word.length <= maxWordLength &&
    !digitsOnly.test(word) &&
    !stopWords.has(word)
  )
}

/**
 * The distinct terms of a message, in order of first appearance: its words (folded with the
 * engine's `normalizeText`) that are {@link isTermWord}, and its runs of 2 and 3 words within
 * one clause (a term never spans `. , ; : ! ?` or a line break, as no rule term can) whose first
 * and last words are {@link isTermWord}; a stop word may sit inside (`paz y salvo`).
 */
export function messageTerms(text: string): string[] {
  const normalized = normalizeText(text)
  if (normalized.text === '') return []
  const words = normalized.text.split(' ')
  const clauses = normalized.wordClauses
  const out = new Set<string>()
  for (let i = 0; i < words.length; i++) {
    if (!isTermWord(words[i]!)) continue
    out.add(words[i]!)
    for (let j = i + 1; j < i + 3 && j < words.length; j++) {
      if (clauses[j] !== clauses[i] || words[j]!.length > maxWordLength) break
      if (isTermWord(words[j]!)) out.add(words.slice(i, j + 1).join(' '))
    }
  }
  return [...out]
}

/**
 * A rule term as folded words, a prefix word keeping its `*`: `Cancel* la Factura` →
 * `['cancel*', 'la', 'factura']`. The rules were validated by the loader, so no checks here.
 */
export function termWords(raw: string): string[] {
  const normalized = normalizeText(raw)
  if (normalized.text === '') return []
  let at = 0
  return normalized.text.split(' ').map((word) => {
    at += word.length
    // The original offset right after the word's last unit: a `*` there makes it a prefix.
    const prefix = raw[normalized.end[at - 1]!] === '*'
    at += 1
    return prefix ? `${word}*` : word
  })
}

/** The terms that give a trámite (phrases, keywords, allOf terms; not exclusions), folded. */
export function ruleTerms(rule: Pick<TramiteRule, 'phrases' | 'keywords' | 'allOf'>): string[][] {
  return [...rule.phrases, ...rule.keywords, ...rule.allOf.flat()].map(termWords)
}

const wordMatches = (word: string, ruleWord: string): boolean =>
  ruleWord.endsWith('*') ? word.startsWith(ruleWord.slice(0, -1)) : word === ruleWord

/** `inner` matches `outer` from word `at` on, word by word. */
const matchesAt = (
  inner: readonly string[],
  outer: readonly string[],
  at: number,
  innerIsRule: boolean,
): boolean =>
  inner.every((w, k) =>
    innerIsRule ? wordMatches(outer[at + k]!, w) : wordMatches(w, outer[at + k]!),
  )

/**
 * Whether a term (space-separated folded words) is covered by a trámite's rule terms, as words
 * (accents and case folded, no spelling variants):
 * some rule term matches a run of its words (`certificado` and `certificado laboral` by
 * `certificad*`, `carta laboral urgente` by `carta laboral`), or it is a run of the words of a
 * multi-word rule term (`salvo` and `paz y salvo` of `paz y salvo`).
 */
export function isCovered(term: string, terms: readonly (readonly string[])[]): boolean {
  const words = term.split(' ')
  for (const rule of terms) {
    if (rule.length === 0) continue
    for (let i = 0; i + rule.length <= words.length; i++)
      if (matchesAt(rule, words, i, true)) return true
    if (rule.length >= 2)
      for (let i = 0; i + words.length <= rule.length; i++)
        if (matchesAt(words, rule, i, false)) return true
  }
  return false
}

/**
 * Which trámites already cover a term: those one of whose rule terms (phrases, keywords, allOf
 * terms; not exclusions) the engine finds in the term's text (`certificado laboral` by
 * `certificad*`, `sertificado` by it too, as the engine reads spellings and slips), or whose
 * multi-word rule terms hold it ({@link isCovered}). Returns the ids in rules order; memoised.
 */
export function createCoverage(tramites: readonly TramiteRule[]): (term: string) => string[] {
  const terms = tramites.map(ruleTerms)
  // Each trámite's terms, every one alone enough to find it, whatever the sender.
  const engine = compileRules({
    version: 'coverage',
    tramites: tramites.map((t) => ({
      id: t.id,
      label: t.label,
      phrases: [...t.phrases, ...t.keywords, ...t.allOf.flat()],
      keywords: [],
      allOf: [],
      exclusions: [],
      senders: ['customer'],
      priority: 0,
    })),
  })
  const memo = new Map<string, string[]>()
  return (term) => {
    let ids = memo.get(term)
    if (ids === undefined) {
      const found = new Set(classifyMessage(engine, term).labels.map((l) => l.id))
      ids = tramites
        .filter((t, i) => found.has(t.id) || isCovered(term, terms[i]!))
        .map((t) => t.id)
      memo.set(term, ids)
    }
    return ids
  }
}

/** `text` cut to `max` characters (code points), the last one `…` when cut. */
export function truncate(text: string, max = exampleLength): string {
  const chars = Array.from(text)
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`
}

// ---------------------------------------------------------------------------------------------
// Counting over chats.

/** A chat as the suggestions read it: its primary trámite and its customer messages' texts. */
export interface ChatTexts {
  server: string
  connId: string
  /** The primary trámite under the rules in force, `null` when none was found. */
  primary: string | null
  /** The customer messages' texts, in conversation order. */
  customer: readonly string[]
}

/** A frequent term of the customers of chats with no trámite. */
export interface UnclassifiedTerm {
  term: string
  /** Chats with no trámite whose customer messages hold it. */
  chats: number
  /** Customer messages of those chats that hold it. */
  messages: number
  /** Up to K distinct messages holding it (original text, cut to 120 characters). */
  examples: string[]
  /** Trámites whose rule terms already cover it (an allOf term alone, an excluded match…). */
  in_rules: string[]
}

/** A term that comes with a trámite and is not covered by its rule terms. */
export interface CooccurringTerm {
  term: string
  /** Chats of the trámite (their primary) whose customer messages hold it. */
  chats: number
  /** Chats of any classification (or none) whose customer messages hold it. */
  all_chats: number
  /** (chats / the trámite's chats) / (all_chats / all chats), 3 decimals: > 1 when it goes with the trámite. */
  lift: number
}

export interface TramiteSuggestions {
  id: string
  label: string
  /** Chats whose primary trámite it is. */
  chats: number
  terms: CooccurringTerm[]
}

export interface TermSuggestions {
  chats: number
  unclassified_chats: number
  unclassified: UnclassifiedTerm[]
  tramites: TramiteSuggestions[]
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The suggestions of a set of chats: for chats with no trámite, the terms of their customer
 * messages by chats (then messages, then term), the top `top`, with up to `examples` messages
 * each; per trámite (in rules order), the terms of its chats' customer messages in at least 2 of
 * them and not covered by its rule terms ({@link createCoverage}), by chats (then lift, then term), the top `top`.
 */
export function suggestTerms(
  chats: readonly ChatTexts[],
  tramites: readonly TramiteRule[],
  options: { top: number; examples: number },
): TermSuggestions {
  // Chats per term, per primary (null: none), and the details of the unclassified ones.
  const perGroup = new Map<string | null, Map<string, number>>()
  const groupChats = new Map<string | null, number>()
  const unclassified = new Map<string, { chats: number; messages: number; examples: string[] }>()
  for (const chat of chats) {
    groupChats.set(chat.primary, (groupChats.get(chat.primary) ?? 0) + 1)
    let counts = perGroup.get(chat.primary)
    if (counts === undefined) perGroup.set(chat.primary, (counts = new Map<string, number>()))
    const seen = new Set<string>()
    for (const text of chat.customer) {
      for (const term of messageTerms(text)) {
        seen.add(term)
        if (chat.primary !== null) continue
        let stat = unclassified.get(term)
        if (stat === undefined)
          unclassified.set(term, (stat = { chats: 0, messages: 0, examples: [] }))
        stat.messages++
        const example = truncate(text)
        if (stat.examples.length < options.examples && !stat.examples.includes(example))
          stat.examples.push(example)
      }
    }
    for (const term of seen) {
      counts.set(term, (counts.get(term) ?? 0) + 1)
      if (chat.primary === null) unclassified.get(term)!.chats++
    }
  }
  const allChats = (term: string): number => {
    let n = 0
    for (const counts of perGroup.values()) n += counts.get(term) ?? 0
    return n
  }
  const coveredBy = createCoverage(tramites)
  const top = [...unclassified]
    .sort(([ta, a], [tb, b]) => b.chats - a.chats || b.messages - a.messages || byText(ta, tb))
    .slice(0, options.top)
    .map(([term, stat]) => ({
      term,
      ...stat,
      in_rules: coveredBy(term),
    }))
  const total = chats.length
  return {
    chats: total,
    unclassified_chats: groupChats.get(null) ?? 0,
    unclassified: top,
    tramites: tramites.map((t) => {
      const own = groupChats.get(t.id) ?? 0
      const terms: CooccurringTerm[] = []
      for (const [term, n] of perGroup.get(t.id) ?? []) {
        if (n < 2 || coveredBy(term).includes(t.id)) continue
        const all = allChats(term)
        terms.push({ term, chats: n, all_chats: all, lift: round3(n / own / (all / total)) })
      }
      terms.sort((a, b) => b.chats - a.chats || b.lift - a.lift || byText(a.term, b.term))
      return { id: t.id, label: t.label, chats: own, terms: terms.slice(0, options.top) }
    }),
  }
}

// ---------------------------------------------------------------------------------------------
// Checking a draft.

/** A chat whose primary trámite is `from` under the rules in force and `to` under the draft. */
export interface ChatChange {
  server: string
  connId: string
  from: string | null
  to: string | null
  /** The chat's first customer message, `null` when it has none. */
  message: string | null
}

export interface Transition {
  from: string | null
  to: string | null
  chats: number
  examples: { server: string; conn_id: string; message: string | null }[]
}

/**
 * The transitions of the chats whose primary trámite changes (`from !== to`; others are
 * ignored), by chats (then from, then to; none first), with the first `examples` chats of each
 * in the order given, their message cut to 120 characters.
 */
export function transitionTable(changes: readonly ChatChange[], examples: number): Transition[] {
  const table = new Map<string, Transition>()
  for (const c of changes) {
    if (c.from === c.to) continue
    const key = JSON.stringify([c.from, c.to])
    let t = table.get(key)
    if (t === undefined) table.set(key, (t = { from: c.from, to: c.to, chats: 0, examples: [] }))
    t.chats++
    if (t.examples.length < examples)
      t.examples.push({
        server: c.server,
        conn_id: c.connId,
        message: c.message === null ? null : truncate(c.message),
      })
  }
  return [...table.values()].sort(
    (a, b) =>
      b.chats - a.chats || byText(a.from ?? '', b.from ?? '') || byText(a.to ?? '', b.to ?? ''),
  )
}

/** Micro figures and exact match of predicted label sets against expected ones. */
export interface LabelScores {
  true_positives: number
  false_positives: number
  false_negatives: number
  precision: number
  recall: number
  f1: number
  /** Share of messages whose predicted set equals the expected one. */
  exact_match: number
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b)

/**
 * Pools the counts of every trámite over messages, as `eval`'s micro line: a trámite found and
 * expected is a true positive, found and not expected a false positive, expected and not found a
 * false negative (a label the rules do not have is one too). Unrounded.
 */
export function scoreLabelSets(
  pairs: readonly { expected: readonly string[]; predicted: readonly string[] }[],
): LabelScores {
  let tp = 0
  let fp = 0
  let fn = 0
  let exact = 0
  for (const { expected, predicted } of pairs) {
    const want = new Set(expected)
    const got = new Set(predicted)
    let hits = 0
    for (const id of got) if (want.has(id)) hits++
    tp += hits
    fp += got.size - hits
    fn += want.size - hits
    if (hits === want.size && hits === got.size) exact++
  }
  const precision = ratio(tp, tp + fp)
  const recall = ratio(tp, tp + fn)
  return {
    true_positives: tp,
    false_positives: fp,
    false_negatives: fn,
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    exact_match: ratio(exact, pairs.length),
  }
}

export interface SplitComparison {
  /** `tuned` (the set the rules were written on) or `heldout`. */
  split: string
  file: string
  messages: number
  current: LabelScores
  draft: LabelScores
  /** Messages whose predicted label set differs between the two rule sets. */
  changed: number
}

const labelsOf = (rules: CompiledRules, m: LabelledMessage): string[] =>
  classifyMessage(rules, m.text, m.sender)
    .labels.map((l) => l.id)
    .sort()

/**
 * Scores both rule sets on one labelled split.
 *
 * @throws AppError `TRAMITE_EVAL_SET_INVALID` when a label is a trámite of neither rule set.
 */
export function compareOnSplit(
  split: string,
  file: string,
  messages: readonly LabelledMessage[],
  current: CompiledRules,
  draft: CompiledRules,
): SplitComparison {
  const known = new Set([...current.tramites, ...draft.tramites].map((t) => t.id))
  for (const m of messages)
    for (const id of m.labels)
      if (!known.has(id))
        throw new AppError(
          'TRAMITE_EVAL_SET_INVALID',
          `Evaluation set ${file}, line ${m.line}: label "${id}" is a trámite of neither rules ${current.version} nor ${draft.version}`,
          { details: { file, line: m.line } },
        )
  const before = messages.map((m) => labelsOf(current, m))
  const after = messages.map((m) => labelsOf(draft, m))
  return {
    split,
    file,
    messages: messages.length,
    current: scoreLabelSets(
      messages.map((m, i) => ({ expected: m.labels, predicted: before[i]! })),
    ),
    draft: scoreLabelSets(messages.map((m, i) => ({ expected: m.labels, predicted: after[i]! }))),
    changed: before.filter((b, i) => b.join('\n') !== after[i]!.join('\n')).length,
  }
}

// ---------------------------------------------------------------------------------------------
// The topic.

/** One message of a chat as read from the topic. */
export interface ReadMessage {
  eventId: string
  text: string
  sender: Sender
  sentAt: number
  position: number
}

/** A chat's messages in the range, de-duplicated by event_id. */
export interface ReadChat {
  server: string
  connId: string
  messages: Map<string, ReadMessage>
}

/** The chat's messages in conversation order: `sent_at`, then `position`, then `event_id`. */
export function conversationOrder(chat: ReadChat): ReadMessage[] {
  return [...chat.messages.values()].sort(
    (a, b) => a.sentAt - b.sentAt || a.position - b.position || byText(a.eventId, b.eventId),
  )
}

/** The primary trámite of a chat's messages (in conversation order) under `rules`. */
export function primaryOf(rules: CompiledRules, messages: readonly ReadMessage[]): string | null {
  return classifyConversation(
    rules,
    messages.map((m) => ({ text: m.text, sender: m.sender, position: m.position })),
  ).primary
}

/**
 * Reads the message topic from its start to its end as of the call, keeping the messages with
 * `sent_at` in `[fromMs, toMs]` (of `server` when given), per chat; undecodable records are
 * skipped (the service dead-letters them). A throwaway consumer group, deleted at the end.
 */
export async function readChats(options: {
  name: string
  config: Readonly<ConsumerServiceConfig>
  fromMs: number
  toMs: number
  server: string | undefined
  logger: Logger
  progress: (read: number, total: number) => void
}): Promise<{ read: number; inRange: number; chats: Map<string, ReadChat> }> {
  const { config, fromMs, toMs, server, logger } = options
  const topic = config.inputTopic
  const kafka = createKafkaClient({
    ...config.kafka,
    clientId: `${options.name}-suggest`,
    logger: logger.child({ kafka: true }),
  })
  const admin = kafka.admin()
  const groupId = `${options.name}-suggest-${randomBytes(4).toString('hex')}`
  const consumer = createConsumer(kafka, { groupId, maxWaitTimeMs: 500 })
  const chats = new Map<string, ReadChat>()
  const schemaRegistry =
    config.schemaRegistry === undefined ? undefined : createSchemaRegistry(config.schemaRegistry)
  let read = 0
  let inRange = 0
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
    if (remaining.size === 0) return { read, inRange, chats }
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
          await schemaRegistry?.prepare(batch.messages.map((m) => m.value))
          for (const message of batch.messages) {
            if (Number(message.offset) >= end) break
            read++
            let event
            try {
              event = decodeChatMessage(message.value ?? Buffer.alloc(0))
            } catch {
              continue
            }
            if (server !== undefined && event.server !== server) continue
            const ms = event.sent_at.getTime()
            if (ms < fromMs || ms > toMs) continue
            const member = memberOf(event.server, event.conn_id)
            let chat = chats.get(member)
            if (chat === undefined)
              chats.set(
                member,
                (chat = { server: event.server, connId: event.conn_id, messages: new Map() }),
              )
            // A revision or a duplicate has the same text, sender and time (its identity).
            if (chat.messages.has(event.event_id)) continue
            inRange++
            chat.messages.set(event.event_id, {
              eventId: event.event_id,
              text: event.message,
              sender: event.sender,
              sentAt: ms,
              position: event.position,
            })
          }
          if (Number(batch.lastOffset()) + 1 >= end) remaining.delete(batch.partition)
          if (Date.now() - lastReport >= 5_000) {
            lastReport = Date.now()
            options.progress(read, total)
          }
          if (remaining.size === 0) resolve()
        },
      }).catch(reject)
    })
    return { read, inRange, chats }
  } finally {
    await consumer.disconnect().catch(() => undefined)
    await schemaRegistry?.close()
    await admin.deleteGroups([groupId]).catch(() => undefined)
    await admin.disconnect().catch(() => undefined)
  }
}

/** Chats in a stable order: by their first message's time, then server and conn_id. */
function ordered(chats: Map<string, ReadChat>): { chat: ReadChat; messages: ReadMessage[] }[] {
  return [...chats.values()]
    .map((chat) => ({ chat, messages: conversationOrder(chat) }))
    .sort(
      (a, b) =>
        a.messages[0]!.sentAt - b.messages[0]!.sentAt ||
        byText(a.chat.server, b.chat.server) ||
        byText(a.chat.connId, b.chat.connId),
    )
}

const customerTexts = (messages: readonly ReadMessage[]): string[] =>
  messages.filter((m) => m.sender === 'customer').map((m) => m.text)

// ---------------------------------------------------------------------------------------------
// The command.

export const suggestUsage =
  'suggest (--from T --to T | --check FILE [--from T --to T | --days N]) [--server S] [--rules FILE] [--top N] [--examples K] [--json]'

const serviceDir = fileURLToPath(new URL('..', import.meta.url))
/** The labelled splits `--check` scores, when they exist (the tuned one must). */
export const labelledSplits = [
  { split: 'tuned', file: resolve(serviceDir, 'eval', 'labelled.es.jsonl'), required: true },
  { split: 'heldout', file: resolve(serviceDir, 'eval', 'heldout.es.jsonl'), required: false },
] as const

const invalid = (message: string): AppError =>
  new AppError(
    'TRAMITE_COMMAND_INVALID',
    `${message}\nUsage: npm run classifier -- ${suggestUsage}`,
  )

function count(value: string | undefined, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (!/^\d+$/u.test(value.trim()) || Number(value) < min)
    throw invalid(
      `--${option} must be a whole number of at least ${min}, not ${JSON.stringify(value)}`,
    )
  return Number(value)
}

/** The report of `suggest` (its JSON document). */
export interface SuggestReport extends TermSuggestions {
  rules: { file: string; version: string }
  from: string
  to: string
  server: string | null
  messages_read: number
  messages_in_range: number
}

/** The report of `suggest --check` (its JSON document). */
export interface CheckReport {
  rules: { file: string; version: string }
  draft: { file: string; version: string }
  labelled: SplitComparison[]
  topic: {
    from: string
    to: string
    server: string | null
    messages_read: number
    messages_in_range: number
    chats: number
    changed: number
    transitions: Transition[]
  }
}

/**
 * `npm run classifier -- suggest …`: parses the options, loads and validates the rules (and the
 * draft and labelled sets with `--check`) before reading the topic, prints the report on stdout
 * (a table on a terminal, JSON otherwise or with `--json`) and progress on stderr. Returns 0.
 *
 * @throws AppError `TRAMITE_COMMAND_INVALID` for bad options, `TRAMITE_RULES_*` for a bad rules
 * or draft file, `TRAMITE_EVAL_SET_INVALID`, Kafka errors.
 */
export async function suggestCommand(args: string[]): Promise<number> {
  let values
  try {
    ;({ values } = parseArgs({
      args,
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        server: { type: 'string' },
        rules: { type: 'string' },
        top: { type: 'string' },
        examples: { type: 'string' },
        json: { type: 'boolean', default: false },
        check: { type: 'string' },
        days: { type: 'string' },
      },
    }))
  } catch (error) {
    throw invalid((error as Error).message)
  }
  const top = count(values.top, 'top', 30, 1)
  const examples = count(values.examples, 'examples', 3, 0)
  if ((values.from === undefined) !== (values.to === undefined))
    throw invalid('give both --from and --to')
  const hasRange = values.from !== undefined
  if (values.check === undefined) {
    if (!hasRange) throw invalid('suggest needs --from and --to (or --check FILE)')
    if (values.days !== undefined) throw invalid('--days goes with --check')
  } else if (hasRange && values.days !== undefined) {
    throw invalid('give --days or --from and --to, not both')
  }
  const days = count(values.days, 'days', 7, 1)

  const env = process.env
  const cwd = env.INIT_CWD ?? process.cwd()
  const userPath = (path: string): string => (isAbsolute(path) ? path : resolve(cwd, path))
  const classifier = readClassifierConfig(env, cwd)
  const config = readConsumerConfig(env, { name: classifier.name, input: topics.chatMessage.name })
  const zone = classifier.zone
  let fromMs: number
  let toMs: number
  if (hasRange) {
    fromMs = parseRangeBound(values.from!, zone, false)
    toMs = parseRangeBound(values.to!, zone, true)
    if (fromMs > toMs) throw invalid('--from is after --to')
  } else {
    toMs = Date.now()
    fromMs = toMs - days * 86_400_000
  }
  const rulesFile = values.rules === undefined ? classifier.rulesFile : userPath(values.rules)
  const rules = compileRules(loadRules(rulesFile))
  const json = values.json || process.stdout.isTTY !== true
  const logger = createLogger({
    name: `${classifier.name}-suggest`,
    level: config.logLevel,
    stream: process.stderr,
  })
  const server = values.server
  const readTopic = async (): Promise<Awaited<ReturnType<typeof readChats>>> => {
    const result = await readChats({
      name: classifier.name,
      config,
      fromMs,
      toMs,
      server,
      logger,
      progress: (read, total) =>
        process.stderr.write(`suggest: read ${read} of ${total} messages\n`),
    })
    process.stderr.write(
      `suggest: read ${result.read} messages, ${result.inRange} in range, ${result.chats.size} chats\n`,
    )
    return result
  }
  const range = {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    server: server ?? null,
  }

  if (values.check !== undefined) {
    // Everything that can fail on files fails before the topic is read.
    const draftFile = userPath(values.check)
    const draft = compileRules(loadRules(draftFile))
    const labelled = labelledSplits
      .filter((s) => s.required || existsSync(s.file))
      .map((s) => compareOnSplit(s.split, s.file, loadEvalSet(s.file), rules, draft))
    const { read, inRange, chats } = await readTopic()
    const changes: ChatChange[] = []
    for (const { chat, messages } of ordered(chats)) {
      changes.push({
        server: chat.server,
        connId: chat.connId,
        from: primaryOf(rules, messages),
        to: primaryOf(draft, messages),
        message: messages.find((m) => m.sender === 'customer')?.text ?? null,
      })
    }
    const transitions = transitionTable(changes, examples)
    const report: CheckReport = {
      rules: { file: rulesFile, version: rules.version },
      draft: { file: draftFile, version: draft.version },
      labelled,
      topic: {
        ...range,
        messages_read: read,
        messages_in_range: inRange,
        chats: chats.size,
        changed: transitions.reduce((n, t) => n + t.chats, 0),
        transitions,
      },
    }
    process.stdout.write(json ? `${JSON.stringify(report)}\n` : renderCheck(report))
    return 0
  }

  const { read, inRange, chats } = await readTopic()
  const texts: ChatTexts[] = ordered(chats).map(({ chat, messages }) => ({
    server: chat.server,
    connId: chat.connId,
    primary: primaryOf(rules, messages),
    customer: customerTexts(messages),
  }))
  const report: SuggestReport = {
    rules: { file: rulesFile, version: rules.version },
    ...range,
    messages_read: read,
    messages_in_range: inRange,
    ...suggestTerms(texts, rules.tramites, { top, examples }),
  }
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : renderSuggest(report))
  return 0
}

// ---------------------------------------------------------------------------------------------
// Tables for a terminal.

/** Rows as aligned columns: the first `left` columns padded right, the others left. */
export function columns(rows: readonly (readonly string[])[], left = 1): string[] {
  const widths: number[] = []
  for (const row of rows)
    row.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, Array.from(cell).length)))
  const pad = (cell: string, c: number): string => {
    const gap = ' '.repeat(widths[c]! - Array.from(cell).length)
    return c < left ? cell + gap : gap + cell
  }
  return rows.map((row) => row.map(pad).join('  ').trimEnd())
}

const none = (id: string | null): string => id ?? '(none)'

export function renderSuggest(report: SuggestReport): string {
  const out = [
    `rules   ${report.rules.file} (version ${report.rules.version})`,
    `range   ${report.from} … ${report.to}${report.server === null ? '' : `, server ${report.server}`}`,
    `read    ${report.messages_read} messages, ${report.messages_in_range} in range; ${report.chats} chats, ${report.unclassified_chats} with no trámite`,
    '',
    'Frequent in the customer messages of chats with no trámite:',
  ]
  if (report.unclassified.length === 0) out.push('  (nothing)')
  else {
    const lines = columns(
      [
        ['term', 'chats', 'messages', 'in rules'],
        ...report.unclassified.map((t) => [
          t.term,
          String(t.chats),
          String(t.messages),
          t.in_rules.join(', '),
        ]),
      ],
      1,
    )
    out.push(`  ${lines[0]}`)
    report.unclassified.forEach((t, i) => {
      out.push(`  ${lines[i + 1]}`)
      for (const e of t.examples) out.push(`      «${e.replace(/\s+/gu, ' ')}»`)
    })
  }
  out.push('', 'Coming with each trámite (its chats, at least 2), not covered by its rule terms:')
  for (const t of report.tramites) {
    if (t.chats === 0) continue
    out.push(`  ${t.id} (${t.chats} chats)`)
    if (t.terms.length === 0) {
      out.push('      (nothing)')
      continue
    }
    for (const line of columns([
      ['term', 'chats', 'all chats', 'lift'],
      ...t.terms.map((s) => [s.term, String(s.chats), String(s.all_chats), s.lift.toFixed(2)]),
    ]))
      out.push(`      ${line}`)
  }
  const idle = report.tramites.filter((t) => t.chats === 0).map((t) => t.id)
  if (idle.length > 0) out.push(`  no chats: ${idle.join(', ')}`)
  return `${out.join('\n')}\n`
}

const f3 = (n: number): string => n.toFixed(3)

export function renderCheck(report: CheckReport): string {
  const out = [
    `rules   ${report.rules.file} (version ${report.rules.version})`,
    `draft   ${report.draft.file} (version ${report.draft.version})`,
    '',
  ]
  const rows: string[][] = [
    ['split', 'rules', 'messages', 'precision', 'recall', 'F1', 'exact', 'changed'],
  ]
  const scores = (sc: LabelScores): string[] =>
    [sc.precision, sc.recall, sc.f1, sc.exact_match].map(f3)
  for (const s of report.labelled) {
    rows.push([s.split, 'current', String(s.messages), ...scores(s.current), ''])
    rows.push(['', 'draft', '', ...scores(s.draft), String(s.changed)])
  }
  out.push(...columns(rows, 2), '')
  const t = report.topic
  out.push(
    `topic   ${t.from} … ${t.to}${t.server === null ? '' : `, server ${t.server}`}: ${t.messages_read} messages read, ${t.messages_in_range} in range`,
    `        ${t.chats} chats, ${t.changed} change primary trámite under the draft`,
  )
  if (t.transitions.length > 0) {
    out.push('')
    const lines = columns([
      ['from → to', 'chats'],
      ...t.transitions.map((x) => [`${none(x.from)} → ${none(x.to)}`, String(x.chats)]),
    ])
    out.push(`  ${lines[0]}`)
    t.transitions.forEach((x, i) => {
      out.push(`  ${lines[i + 1]}`)
      for (const e of x.examples)
        out.push(
          `      ${e.server} ${e.conn_id}: ${e.message === null ? '(no customer message)' : `«${e.message.replace(/\s+/gu, ' ')}»`}`,
        )
    })
  }
  return `${out.join('\n')}\n`
}
