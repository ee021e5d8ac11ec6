import {
  agentFarewells,
  agentForbidden,
  agentGreetings,
  agentIdentityAsks,
  agentOffers,
  agents,
  botGreetings,
  botSpellings,
  botTransfers,
  channels,
  customerClosings,
  customerIdentityReplies,
  customerRepeats,
  firstNames,
  lastNames,
  scripts,
  tramites,
  type Tramite,
} from './catalog.js'
import { plannedTimings, type ChatExpectation, type PlannedRole } from './expectations.js'
import {
  expectedEvents,
  titleCase,
  type ChatIntent,
  type ExpectedEvent,
  type IntendedFeeling,
} from './expected-events.js'
import { agentProfiles, delays, type AgentProfile, type SecondsRange } from './profiles.js'
import { tramiteIntentOf, type TramiteIntent } from './tramite-intent.js'
import { between, createRandom, hashSeed, pick, pickWeighted, type Random } from './random.js'
import { formatDate, offsetSec, toLocalSec } from './wall-clock.js'

/** How the data is made. Equal options give byte-for-byte equal data, whenever asked. */
export interface DatasetOptions {
  seed: number
  /** About this many chats start in each hour (±15%, fixed per hour by the seed). */
  chatsPerHour: number
  /** The operation's zone: message `date`s and request windows are local times in it. */
  timeZone: string
  /** No chat starts before this instant (epoch ms). */
  historyStartMs: number
  /**
   * Late data: a read before this long after a late chat closed gets its messages with `feeling`
   * empty (where the final data has one) and, for about half of the late chats, `customer_id`
   * (and `customer_phone`) empty; later reads get the final values. Default 0: no late data.
   */
  lateDataMs?: number
  /** The share of chats whose data comes late, picked per chat by the seed. Default 1. */
  lateShare?: number
}

/** Which chats a window returns. */
export type Selection = 'closing' | 'message'

/** The plan of one chat, cheap to compute: enough to select it without writing its messages. */
export interface ChatHeader {
  /** The UTC hour (since the epoch) it starts in, and its index among that hour's chats. */
  hour: number
  index: number
  seed: number
  /** UTC seconds of the first and last message, and of the chat's closing. */
  startSec: number
  lastSec: number
  closeSec: number
  messageCount: number
  hasBot: boolean
  /** Customer question and agent answer pairs (0–4). */
  pairs: number
  duplicate: boolean
  image: boolean
  /** Index in `catalog.agents` (and `agentProfiles`). */
  agent: number
  /** Index in `catalog.tramites`: what the chat is about. */
  tramite: number
  /** The protocol steps the agent takes: greet, ask for identity, offer more help, say goodbye. */
  greeting: boolean
  identity: boolean
  offer: boolean
  farewell: boolean
  /** One answer is a forbidden expression. */
  forbidden: boolean
  /** The earlier chat whose customer this one is a return of (README: Returning customers). */
  returnOf: ReturnPlan | null
}

/** The earlier chat a returning chat comes back to: enough to name it and know its end. */
export interface ReturnPlan {
  hour: number
  index: number
  seed: number
  /** UTC seconds of its first and last message. */
  startSec: number
  lastSec: number
}

/** One message: when it was sent, and its JSON text exactly as served. */
export interface SimMessage {
  utcSec: number
  localSec: number
  /** Kept as text, not as an object: serving is then a join, and the cache costs less memory. */
  text: string
  /** Late chats only: the JSON text a read gets before the late values are filled, when it differs. */
  pendingText?: string
  /** Set on a message selected with its pending text (see {@link WindowQuery.lateAtSec}). */
  pending?: true
}

/** A whole chat. */
export interface SimChat {
  header: ChatHeader
  /** `conn_id`, `agent_name`, `customer_name` and any chat-level extra field, in order. */
  fields: Readonly<Record<string, string>>
  /** The JSON text of `fields` without its closing brace, ready for `,"conversation":[…]}`. */
  head: string
  messages: readonly SimMessage[]
  /** Whether its data comes late (see {@link DatasetOptions.lateDataMs}). */
  late: boolean
  /** The trámites its customer's lines name (tramite-intent.ts), from the lines it chose. */
  tramites: TramiteIntent
}

/** A chat as one window returns it: all its messages (closing time) or those in the window. */
export interface SelectedChat {
  chat: SimChat
  messages: readonly SimMessage[]
}

/** A window in local seconds (see wall-clock.ts), both ends inclusive. */
export interface WindowQuery {
  fromLocalSec: number
  toLocalSec: number
  selection: Selection
  /** Nothing after this UTC second is visible yet (now minus the visibility lag). */
  visibleUntilSec: number
  /**
   * Serve late data as it stands at this UTC second (the reading's clock): a late chat that closed
   * less than `lateDataMs` before it comes with its pending texts. Absent: the final values, as the
   * ground truth has them.
   */
  lateAtSec?: number
}

/** Enough records to fill a response: selection may stop there. */
export interface RecordBudget {
  records: number
  unit: 'message' | 'chat'
}

/** The generated history, computed lazily per hour and cached within bounds. */
export interface Dataset {
  readonly options: Readonly<DatasetOptions>
  /**
   * The chats a window selects, in serving order: by closing time, or by first message for a
   * message-time selection. With a budget, stops once that many records (messages or chats) are in.
   */
  select(query: WindowQuery, budget?: RecordBudget): SelectedChat[]
  /** Every chat that starts in the UTC hour `hour` (hours since the epoch). */
  chatsInHour(hour: number): SimChat[]
  /** A chat's expected quality figures (see {@link expectationOf}), for this history. */
  expectationOf(chat: SimChat): ChatExpectation
  /**
   * The `ChatMessage` events a selected chat's messages must become, with their final values
   * (README: Expected events), known from what the simulator meant to write.
   */
  expectedEventsOf(selected: SelectedChat): ExpectedEvent[]
}

/** The longest a chat runs from first to last message (seconds). */
export const MAX_CHAT_DURATION_SEC = 3_600
/** The longest from first message to closing: idle chats close by timeout after about 23 h. */
export const MAX_CHAT_LIFETIME_SEC = MAX_CHAT_DURATION_SEC + 24 * 3_600

/**
 * How much of what a dataset computed it keeps; it computes the rest again when asked, identically.
 * The defaults suit one dataset; a simulator serving many operations gives each a share.
 */
export interface DatasetCacheLimits {
  /** Hours of chat plans (headers). Default 4,000. */
  headerHours?: number
  /** Messages of written chats. Default 400,000. */
  chatMessages?: number
}

/** The default {@link DatasetCacheLimits}. */
export const DATASET_CACHE_LIMITS: Readonly<Required<DatasetCacheLimits>> = Object.freeze({
  headerHours: 4_000,
  chatMessages: 400_000,
})

/** Creates the dataset for `options`, keeping at most `limits` of what it computed. */
export function createDataset(options: DatasetOptions, limits: DatasetCacheLimits = {}): Dataset {
  const headerCacheHours = limits.headerHours ?? DATASET_CACHE_LIMITS.headerHours
  const chatCacheMessages = limits.chatMessages ?? DATASET_CACHE_LIMITS.chatMessages
  const historyStartSec = Math.ceil(options.historyStartMs / 1000)
  const lateDataSec = Math.ceil((options.lateDataMs ?? 0) / 1000)
  const lateShare = lateDataSec > 0 ? (options.lateShare ?? 1) : 0
  const headerCache = new Map<number, ChatHeader[]>()
  const chatCache = new Map<number, SimChat>()
  let cachedMessages = 0

  function headersOf(hour: number): ChatHeader[] {
    const cached = headerCache.get(hour)
    if (cached !== undefined) {
      headerCache.delete(hour)
      headerCache.set(hour, cached)
      return cached
    }
    const headers = planHour(options.seed, options.chatsPerHour, hour).filter(
      (header) => header.startSec >= historyStartSec,
    )
    headerCache.set(hour, headers)
    if (headerCache.size > headerCacheHours) {
      headerCache.delete(headerCache.keys().next().value as number)
    }
    return headers
  }

  function chatOf(header: ChatHeader): SimChat {
    // The seed is unique enough as a cache key only with the hour and index mixed in.
    const key = header.hour * 2_097_152 + header.index
    const cached = chatCache.get(key)
    if (cached !== undefined) return cached
    const chat = writeChat(header, options.timeZone, lateShare)
    chatCache.set(key, chat)
    cachedMessages += chat.messages.length
    while (cachedMessages > chatCacheMessages) {
      const oldest = chatCache.keys().next().value as number
      cachedMessages -= chatCache.get(oldest)?.messages.length ?? 0
      chatCache.delete(oldest)
    }
    return chat
  }

  function select(query: WindowQuery, budget?: RecordBudget): SelectedChat[] {
    const { fromLocalSec, toLocalSec: toLocal, selection, visibleUntilSec } = query
    if (fromLocalSec > toLocal) return []
    const zone = options.timeZone
    // The UTC span whose local times can fall in the window, whatever offsets apply around it
    // (a DST change inside it included); exact filtering is then done in local time.
    const around = [fromLocalSec - 86_400, fromLocalSec, toLocal, toLocal + 86_400].map((at) =>
      offsetSec(at, zone),
    )
    const fromUtc = fromLocalSec - Math.max(...around)
    const toUtc = Math.min(toLocal - Math.min(...around), visibleUntilSec)
    const reach = selection === 'closing' ? MAX_CHAT_LIFETIME_SEC : MAX_CHAT_DURATION_SEC
    const firstHour = Math.floor(Math.max(fromUtc - reach, historyStartSec) / 3_600)
    const lastHour = Math.floor(toUtc / 3_600)
    // Chats are chosen and ordered from their headers alone; messages are written only for the
    // chats served, and no further than the row cap needs: a capped window costs what it returns.
    const candidates: { header: ChatHeader; order: number }[] = []
    for (let hour = firstHour; hour <= lastHour; hour += 1) {
      for (const header of headersOf(hour)) {
        if (selection === 'closing') {
          if (
            header.closeSec > visibleUntilSec ||
            header.closeSec < fromUtc ||
            header.closeSec > toUtc
          ) {
            continue
          }
          const closeLocal = toLocalSec(header.closeSec, zone)
          if (closeLocal < fromLocalSec || closeLocal > toLocal) continue
          candidates.push({ header, order: header.closeSec })
        } else if (header.lastSec >= fromUtc && header.startSec <= toUtc) {
          candidates.push({ header, order: header.startSec })
        }
      }
    }
    candidates.sort(
      (a, b) =>
        a.order - b.order || a.header.hour - b.header.hour || a.header.index - b.header.index,
    )
    const out: SelectedChat[] = []
    let records = 0
    for (const { header } of candidates) {
      if (budget !== undefined && records >= budget.records) break
      const chat = chatOf(header)
      let messages =
        selection === 'closing'
          ? chat.messages
          : chat.messages.filter(
              (m) =>
                m.localSec >= fromLocalSec && m.localSec <= toLocal && m.utcSec <= visibleUntilSec,
            )
      if (messages.length === 0) continue
      if (
        chat.late &&
        query.lateAtSec !== undefined &&
        query.lateAtSec < header.closeSec + lateDataSec
      ) {
        messages = messages.map((m) =>
          m.pendingText === undefined
            ? m
            : { utcSec: m.utcSec, localSec: m.localSec, text: m.pendingText, pending: true },
        )
      }
      out.push({ chat, messages })
      records += budget?.unit === 'chat' ? 1 : messages.length
    }
    return out
  }

  return {
    options: Object.freeze({ ...options }),
    select,
    chatsInHour: (hour) => headersOf(hour).map(chatOf),
    expectationOf: (chat) => expectationOf(chat.header, historyStartSec, chat),
    expectedEventsOf: ({ chat, messages }) => {
      // Written again with its intent recorded: the same pure function, so the same messages.
      let intent: ChatIntent | undefined
      writeChat(chat.header, options.timeZone, lateShare, (recorded) => (intent = recorded))
      const served = messages.map((m) => chat.messages.indexOf(m))
      return expectedEvents(intent as ChatIntent, served, options.timeZone)
    },
  }
}

/**
 * Returns: how long after an earlier chat's last message its customer comes back, in whole hours
 * (the actual lag is up to 2 h shorter or 1 h longer: the two chats start anywhere in their hours).
 * Those up to 160 h fall inside a 7-day (168 h) window, the others outside.
 */
export const RETURN_LAG_HOURS = [2, 6, 18, 40, 72, 120, 160, 171, 200, 240] as const
/** The share of chats planned as a return of an earlier chat (nearly all find one). */
export const RETURN_SHARE = 0.09
/** The share of returns about the same trámite as the earlier chat. */
export const RETURN_SAME_TRAMITE = 0.8

/** How many chats start in the UTC hour `hour`. */
function chatCountOf(seed: number, chatsPerHour: number, hour: number): number {
  return Math.round(chatsPerHour * (0.85 + 0.3 * createRandom(hashSeed(seed, hour, 0xc4a7))()))
}

/**
 * A chat's part in returns, from a hash of its own: a returner (come back after the lag of
 * `RETURN_LAG_HOURS[lag]`) or a possible original, which only a returner with lag `lag` may pick.
 * Returners are never originals: a return is never itself returned to.
 */
function returnRoleOf(
  seed: number,
  hour: number,
  index: number,
): { returner: boolean; lag: number } {
  const r = createRandom(hashSeed(seed, hour, index, 0x2e7))
  return { returner: r() < RETURN_SHARE, lag: Math.floor(r() * RETURN_LAG_HOURS.length) }
}

/** What a line of a chat is: it decides the sender, the text and when it is sent. */
type Kind =
  | 'botGreeting'
  | 'customerChoice'
  | 'botTransfer'
  | 'opening'
  | 'greeting'
  | 'identityAsk'
  | 'identityReply'
  | 'followUp'
  | 'answer'
  | 'image'
  | 'offer'
  | 'farewell'
  | 'customerClosing'

type Role = PlannedRole

const roleOfKind: Readonly<Record<Kind, Role>> = {
  botGreeting: 'bot',
  customerChoice: 'customer',
  botTransfer: 'bot',
  opening: 'customer',
  greeting: 'agent',
  identityAsk: 'agent',
  identityReply: 'customer',
  followUp: 'customer',
  answer: 'agent',
  image: 'customer',
  offer: 'agent',
  farewell: 'agent',
  customerClosing: 'customer',
}

/** The lines of a chat, in order, from its header (the duplicate left out). */
function kindsOf(header: ChatHeader): Kind[] {
  const kinds: Kind[] = []
  if (header.hasBot) kinds.push('botGreeting', 'customerChoice', 'botTransfer')
  kinds.push('opening')
  if (header.greeting) kinds.push('greeting')
  if (header.identity) kinds.push('identityAsk', 'identityReply')
  for (let i = 0; i < header.pairs; i += 1) kinds.push('followUp', 'answer')
  if (header.image) kinds.push('image')
  if (header.offer) kinds.push('offer')
  if (header.farewell) kinds.push('farewell')
  kinds.push('customerClosing')
  return kinds
}

/**
 * When each line is sent, in seconds after the first: the bot answers in 1–3 s, the customer
 * after their own delays, an agent answers a customer turn (from its last message) with a delay of
 * their profile, and the first agent message after the bot's transfer comes after a queue wait
 * plus that delay. Drawn from a stream of the chat's own, so planning and writing agree.
 */
function offsetsOf(header: ChatHeader, kinds: readonly Kind[]): number[] {
  const t = createRandom(hashSeed(header.seed, 0x71e5))
  const reply = (agentProfiles[header.agent] as AgentProfile).replySec
  const draw = ([min, max]: SecondsRange): number => between(t, min, max)
  const offsets: number[] = []
  let previous: Kind | undefined
  let at = 0
  let lastBot = -1
  let agentSeen = false
  for (const kind of kinds) {
    const role = roleOfKind[kind]
    if (previous !== undefined) {
      const before = roleOfKind[previous]
      if (role === 'bot') at += draw(delays.bot)
      else if (role === 'customer') {
        at +=
          kind === 'customerChoice'
            ? draw(delays.customerToBot)
            : previous === 'botTransfer'
              ? draw(delays.customerAfterTransfer)
              : before === 'customer'
                ? draw(delays.customerAgain)
                : draw(delays.customer)
      } else if (before === 'agent') at += draw(delays.agentAgain)
      else if (!agentSeen && lastBot >= 0) {
        // The queue wait and reply run from the transfer, and end after the customer's request
        // that follows it (customerAfterTransfer is shorter than any queue plus reply); should the
        // customer have written more since, the agent answers that as any turn.
        const handoff = lastBot + draw(delays.queue) + draw(reply)
        at = handoff > at ? handoff : at + draw(reply)
      } else at += draw(reply)
    }
    if (role === 'bot' && !agentSeen) lastBot = at
    if (role === 'agent') agentSeen = true
    offsets.push(at)
    previous = kind
  }
  const last = offsets[offsets.length - 1] as number
  if (last > MAX_CHAT_DURATION_SEC) {
    // Never with today's delays (about 3,000 s at most); kept as a guard. Order is preserved.
    for (let i = 0; i < offsets.length; i += 1) {
      offsets[i] = Math.floor(((offsets[i] as number) * MAX_CHAT_DURATION_SEC) / last)
    }
  }
  return offsets
}

/** One chat's plan without its part in returns: a pure function of (seed, hour, index). */
function planChat(seed: number, hour: number, index: number): ChatHeader {
  const chatSeed = hashSeed(seed, hour, index)
  const r = createRandom(chatSeed)
  const startSec = hour * 3_600 + Math.floor(r() * 3_600)
  const hasBot = r() < 0.55
  const duplicate = r() < 0.07
  const image = r() < 0.03
  const idle = r() < 0.08
  const closeDelay = idle ? 23 * 3_600 + between(r, 0, 1_800) : between(r, 30, 600)
  const agent = Math.floor(r() * agents.length)
  const tramite = Math.floor(r() * tramites.length)
  const profile = agentProfiles[agent] as AgentProfile
  const greeting = r() >= profile.skipGreeting
  const identity = r() >= profile.skipIdentity
  const offer = r() >= profile.skipOffer
  const farewell = r() >= profile.skipFarewell
  const forbidden = r() < profile.forbidden
  // A forbidden expression answers a question of the customer: there is at least one then.
  const pairs = between(r, forbidden ? 1 : 0, 4)
  const header: ChatHeader = {
    hour,
    index,
    seed: chatSeed,
    startSec,
    lastSec: startSec,
    closeSec: startSec,
    messageCount: 0,
    hasBot,
    pairs,
    duplicate,
    image,
    agent,
    tramite,
    greeting,
    identity,
    offer,
    farewell,
    forbidden,
    returnOf: null,
  }
  const kinds = kindsOf(header)
  const offsets = offsetsOf(header, kinds)
  header.lastSec = startSec + (offsets[offsets.length - 1] as number)
  header.closeSec = header.lastSec + closeDelay
  header.messageCount = kinds.length + (duplicate ? 1 : 0)
  return header
}

/**
 * The headers of one UTC hour: a pure function of (seed, chatsPerHour, hour). About
 * {@link RETURN_SHARE} of them are returns of an earlier chat: for each lag, the k-th returner of
 * this hour with that lag takes the k-th possible original (in index order) of the hour that lag
 * earlier. Only a returner with that lag may take an original, so each is taken at most once.
 * The pairing ignores the history's start, so a chat reads the same whatever history a simulator
 * keeps; a return whose original started before it is simply a return of nothing (see writeChat).
 */
export function planHour(seed: number, chatsPerHour: number, hour: number): ChatHeader[] {
  const count = chatCountOf(seed, chatsPerHour, hour)
  const headers: ChatHeader[] = []
  const returners: number[][] = RETURN_LAG_HOURS.map(() => [])
  for (let index = 0; index < count; index += 1) {
    headers.push(planChat(seed, hour, index))
    const role = returnRoleOf(seed, hour, index)
    if (role.returner) returners[role.lag]?.push(index)
  }
  returners.forEach((indexes, lag) => {
    if (indexes.length === 0) return
    const earlier = hour - (RETURN_LAG_HOURS[lag] as number)
    const earlierCount = chatCountOf(seed, chatsPerHour, earlier)
    let k = 0
    for (let j = 0; j < earlierCount && k < indexes.length; j += 1) {
      const role = returnRoleOf(seed, earlier, j)
      if (role.returner || role.lag !== lag) continue
      const original = planChat(seed, earlier, j)
      const header = headers[indexes[k] as number] as ChatHeader
      k += 1
      const r = createRandom(hashSeed(header.seed, 0x7e7))
      header.tramite =
        r() < RETURN_SAME_TRAMITE
          ? original.tramite
          : (original.tramite + 1 + Math.floor(r() * (tramites.length - 1))) % tramites.length
      header.returnOf = {
        hour: earlier,
        index: j,
        seed: original.seed,
        startSec: original.startSec,
        lastSec: original.lastSec,
      }
    }
  })
  return headers
}

interface Line {
  role: Role
  text: string
  toBot?: boolean
  image?: boolean
  mood?: 'customer' | 'closing'
}

function customerNameOf(r: Random): string {
  const first = pick(r, firstNames)
  const last = `${pick(r, lastNames)} ${pick(r, lastNames)}`
  const style = r()
  if (style < 0.1) return `${first} ${last}`.toLowerCase()
  if (style < 0.2) return `${first} ${last}`.toUpperCase()
  if (style < 0.32) return `${first}  ${last}`
  return `${first} ${last}`
}

function customerIdOf(r: Random, channel: string): string {
  const digits = (n: number): string => Array.from({ length: n }, () => between(r, 0, 9)).join('')
  const lower = channel.toLowerCase()
  if (lower.startsWith('whatsapp')) return `573${digits(9)}`
  if (lower.startsWith('facebook') || lower === 'instagram')
    return `${between(r, 1, 9)}${digits(15)}`
  if (lower === 'telegram') return `${between(r, 1, 9)}${digits(9)}`
  return `10${digits(8)}`
}

/** A chat's customer: drawn from the chat's seed, or its original's for a return. */
function customerOf(seed: number): { channel: string; name: string; id: string } {
  const r = createRandom(hashSeed(seed, 0xc057))
  const channel = pickWeighted(r, channels)
  const name = customerNameOf(r)
  return { channel, name, id: customerIdOf(r, channel) }
}

function imageOf(r: Random): string {
  // A PNG signature and header, then noise: big, base64, and not worth decoding.
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
  const noise = Buffer.alloc(between(r, 1_500, 6_000))
  for (let i = 0; i < noise.length; i += 1) noise[i] = Math.floor(r() * 256)
  const data = `data:image/png;base64,${Buffer.concat([png, noise]).toString('base64')}`
  return r() < 0.5 ? data : `<img src="${data}" alt="imagen">`
}

const quotes = new Map<string, string>()

/** `JSON.stringify` of a string, remembered for the short strings the catalog repeats. */
function quoted(text: string): string {
  let value = quotes.get(text)
  if (value === undefined) {
    value = JSON.stringify(text)
    if (text.length <= 300 && quotes.size < 100_000) quotes.set(text, value)
  }
  return value
}

/** A chat's `conn_id`: unique per (hour, index), and hex like the upstream's. */
export const connIdOf = (header: Pick<ChatHeader, 'hour' | 'index' | 'seed'>): string =>
  `${header.hour.toString(16).padStart(6, '0')}${header.index.toString(16).padStart(4, '0')}${header.seed.toString(16).padStart(8, '0')}`

/**
 * Writes a chat's messages from its header: a pure function of (header, zone, lateShare). Whether
 * the chat is late, and which of its fields are, is drawn from a stream of its own, so the final
 * data is the same with late data on or off.
 */
export function writeChat(
  header: ChatHeader,
  timeZone: string,
  lateShare = 0,
  onIntent?: (intent: ChatIntent) => void,
): SimChat {
  const lateRandom = createRandom(hashSeed(header.seed, 0x1a7e))
  const late = lateShare > 0 && lateRandom() < lateShare
  const lateCustomerId = late && lateRandom() < 0.5
  const r = createRandom(hashSeed(header.seed, 0x5eed))
  const {
    channel,
    name: customer,
    id: customerId,
  } = customerOf(header.returnOf?.seed ?? header.seed)
  const agent = agents[header.agent] as (typeof agents)[number]
  const tramite = tramites[header.tramite] as Tramite
  const script = scripts[tramite]
  const feelingMode = pickWeighted(r, [
    ['normal', 62],
    ['capitalized', 10],
    ['empty', 10],
    ['missing', 10],
    ['phone', 8],
  ] as const)
  const bot = pick(r, botSpellings)
  const botFrom = r() < 0.7 ? 'AGENT' : 'BOT'
  const chatExtra: Record<string, string> = r() < 0.04 ? { skill_name: 'Servicio al cliente' } : {}
  const firstWord = (name: string): string => name.trim().split(/\s+/)[0] ?? name
  // Which of the customer's questions gets the forbidden expression for an answer.
  const forbiddenAnswer = header.forbidden ? Math.floor(r() * header.pairs) : -1

  const kinds = kindsOf(header)
  const offsets = offsetsOf(header, kinds)
  let answers = 0
  const lines: Line[] = kinds.map((kind): Line => {
    switch (kind) {
      case 'botGreeting':
        return { role: 'bot', text: pick(r, botGreetings) }
      case 'customerChoice':
        return {
          role: 'customer',
          text: String(header.tramite + 1),
          toBot: true,
          mood: 'customer',
        }
      case 'botTransfer':
        return { role: 'bot', text: pick(r, botTransfers) }
      case 'opening':
        return { role: 'customer', text: pick(r, script.opening), mood: 'customer' }
      case 'greeting':
        return {
          role: 'agent',
          text: pick(r, agentGreetings)
            .replace('{agent}', firstWord(agent))
            .replace('{customer}', firstWord(customer)),
        }
      case 'identityAsk':
        return { role: 'agent', text: pick(r, agentIdentityAsks) }
      case 'identityReply':
        return { role: 'customer', text: pick(r, customerIdentityReplies), mood: 'customer' }
      case 'followUp':
        return { role: 'customer', text: pick(r, script.followUp), mood: 'customer' }
      case 'answer': {
        const forbidden = answers === forbiddenAnswer
        answers += 1
        return { role: 'agent', text: pick(r, forbidden ? agentForbidden : script.answers) }
      }
      case 'image':
        return { role: 'customer', text: imageOf(r), image: true, mood: 'customer' }
      case 'offer':
        return { role: 'agent', text: pick(r, agentOffers) }
      case 'farewell':
        return { role: 'agent', text: pick(r, agentFarewells) }
      case 'customerClosing':
        return { role: 'customer', text: pick(r, customerClosings), mood: 'closing' }
    }
  })

  const feelingOf = (line: Line): IntendedFeeling =>
    line.mood === 'customer'
      ? pickWeighted(r, script.mood)
      : line.mood === 'closing'
        ? pickWeighted(r, [
            ['positive', 5],
            ['very positive', 2],
            ['neutral', 2],
            ['negative', 1],
          ] as const)
        : line.role === 'agent'
          ? pickWeighted(r, [
              ['neutral', 7],
              ['positive', 3],
            ] as const)
          : 'neutral'

  interface Entry {
    line: Line
    text: string
    /** What the line means to carry, and the feeling as written. */
    intended: IntendedFeeling
    feeling: string
    utcSec: number
    localSec: number
  }
  const entries: Entry[] = lines.map((line, i) => {
    const utcSec = header.startSec + (offsets[i] as number)
    const intended = feelingOf(line)
    return {
      line,
      text: line.text,
      intended,
      feeling: feelingMode === 'capitalized' ? titleCase(intended) : intended,
      utcSec,
      localSec: toLocalSec(utcSec, timeZone),
    }
  })
  if (header.duplicate) {
    // The customer sends the same words twice in the same second: a distinct message upstream.
    const customerIndexes = entries.flatMap((e, i) =>
      e.line.role === 'customer' && e.line.image !== true ? [i] : [],
    )
    const at = customerIndexes[Math.floor(r() * customerIndexes.length)] ?? 0
    const original = entries[at] as Entry
    const copy = { ...original, text: r() < 0.5 ? original.text : pick(r, customerRepeats) }
    entries.splice(at, 1, copy, copy)
  }
  // Each message's JSON is written by hand from pre-quoted parts: no object per message, so
  // a 60,000-message window leaves little garbage behind (see quoted()).
  const qChannel = quoted(channel)
  const qCustomer = quoted(customer)
  const qAgent = quoted(agent)
  const qBot = quoted(bot)
  const qId = quoted(customerId)
  const qFrom = { customer: '"CUSTOMER"', agent: '"AGENT"', bot: quoted(botFrom) }
  const messages: SimMessage[] = entries.map(({ line, text, feeling, utcSec, localSec }) => {
    const fromName = line.role === 'customer' ? qCustomer : line.role === 'agent' ? qAgent : qBot
    const toName = line.role === 'customer' ? (line.toBot === true ? qBot : qAgent) : qCustomer
    const render = (id: string, feelingText: string): string => {
      const mood =
        feelingMode === 'phone'
          ? `,"customer_phone":${id}`
          : feelingMode === 'empty'
            ? ',"feeling":""'
            : feelingMode === 'missing'
              ? ''
              : `,"feeling":${feelingText}`
      return `{"channel":${qChannel},"from":${qFrom[line.role]},"from_name":${fromName},"to_name":${toName},"date":"${formatDate(localSec)}","message":${quoted(text)},"customer_id":${id}${mood}${line.image === true ? ',"message_type":"image"' : ''}}`
    }
    const final = render(qId, quoted(feeling))
    if (!late) return { utcSec, localSec, text: final }
    // Before Wolkvox recognises the sentiment (and, for some chats, resolves the customer), the
    // same keys are there with empty values: the message keeps its event_id, not its revision.
    const pending = render(lateCustomerId ? '""' : qId, '""')
    return pending === final
      ? { utcSec, localSec, text: final }
      : { utcSec, localSec, text: final, pendingText: pending }
  })
  onIntent?.({
    connId: connIdOf(header),
    agentName: agent,
    customerName: customer,
    customerId,
    channel,
    bot,
    botFrom,
    chatExtra,
    feelingMode,
    late,
    lateCustomerId,
    closeSec: header.closeSec,
    messages: entries.map(({ line, text, intended, utcSec, localSec }) => ({
      role: line.role,
      toBot: line.toBot === true,
      text,
      feeling: intended,
      image: line.image === true,
      utcSec,
      localSec,
    })),
  })
  const fields = {
    conn_id: connIdOf(header),
    agent_name: agent,
    customer_name: customer,
    ...chatExtra,
  }
  return {
    header,
    fields,
    head: JSON.stringify(fields).slice(0, -1),
    messages,
    late,
    tramites: tramiteIntentOf(
      tramite,
      entries.map(({ line, text }) => ({ role: line.role, text, image: line.image === true })),
    ),
  }
}

/**
 * A chat's expected quality figures, by construction: from the lines, senders and times its header
 * plans (the very ones writeChat writes) and the protocol steps its agent was meant to take. The
 * duplicate is a customer message in the same second as the one it repeats, right after it: it
 * adds a customer message and changes no turn. A return whose original started before
 * `historyStartSec` names none: that chat does not exist.
 */
export function expectationOf(
  header: ChatHeader,
  historyStartSec = 0,
  chat: Pick<SimChat, 'tramites'> = writeChat(header, 'UTC'),
): ChatExpectation {
  const kinds = kindsOf(header)
  const offsets = offsetsOf(header, kinds)
  const timings = plannedTimings(
    kinds.map((kind) => roleOfKind[kind]),
    offsets.map((offset) => header.startSec + offset),
  )
  if (header.duplicate) timings.messages.customer += 1
  const original = header.returnOf
  return {
    conn_id: connIdOf(header),
    agent_name: agents[header.agent] as string,
    tramite: tramites[header.tramite] as Tramite,
    // What its customer names: from the lines writeChat chose (given, or written again).
    ...chat.tramites,
    customer_id: customerOf(original?.seed ?? header.seed).id,
    started_at_ms: header.startSec * 1000,
    ended_at_ms: header.lastSec * 1000,
    return_of:
      original === null || original.startSec < historyStartSec
        ? null
        : { conn_id: connIdOf(original), lag_ms: (header.startSec - original.lastSec) * 1000 },
    ...timings,
    checks: {
      saludo: header.greeting,
      identificacion: header.identity,
      'ofrece-ayuda': header.offer,
      despedida: header.farewell,
      'no-expresiones-prohibidas': !header.forbidden,
    },
  }
}
