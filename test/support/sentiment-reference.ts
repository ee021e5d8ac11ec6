/*
 * The AgentSentiment rules (ARCHITECTURE.md: Aggregates; the aggregator's README: Sources) written
 * again, independently of the service, over a plain list of events: the reference the
 * aggregator's answers must equal. Days are local days in America/Bogota (UTC-5 all year). The
 * text figures apply the scorer (packages/text-sentiment) to exactly the messages the rule
 * selects: sentiment unknown, sender customer, text not empty after trimming.
 */
import type { AgentSentiment, ChatMessage } from '@wolkvox-chat-stream/events'
import { scoreText } from '@wolkvox-chat-stream/text-sentiment'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const BOGOTA = -5 * HOUR
const SCORE: Record<string, number> = {
  very_negative: -2,
  negative: -1,
  neutral: 0,
  positive: 1,
  very_positive: 2,
}
const SENTIMENTS = ['very_negative', 'negative', 'neutral', 'positive', 'very_positive', 'unknown']
const SENDERS = ['customer', 'agent', 'bot', 'other']

/** The figures of one window, in the shape of the output topic (without updated_at). */
export interface Figures {
  messages_by_sentiment: Record<string, number>
  messages_by_sender: Record<string, number>
  conversations: number
  mean_score: number | null
  conversations_ending_negative: number
  /** Scored from the text of customer messages without a Wolkvox feeling (`unknown` always 0). */
  messages_by_text_sentiment: Record<string, number> | null
  text_mean_score: number | null
}

/** The text sentiment a message is counted with, or undefined when the rule leaves it out. */
export function referenceTextSentiment(
  e: Pick<ChatMessage, 'sentiment' | 'sender' | 'message'>,
): string | undefined {
  if (e.sentiment !== 'unknown' || e.sender !== 'customer' || e.message.trim() === '')
    return undefined
  return scoreText(e.message).sentiment
}

/** Everything observable of one operation: agents with totals, and every window. */
export interface Snapshot {
  agents: { agent_key: string; agent_name: string; totals: Figures }[]
  /** `agent_key|granularity|window_start ISO` -> window end ISO and figures. */
  windows: Record<string, { agent_name: string; window_end: string; figures: Figures }>
}

const keyOf = (name: string): string =>
  name.normalize('NFC').trim().split(/\s+/u).join(' ').toLowerCase()

interface Acc {
  s: Record<string, number>
  f: Record<string, number>
  score: number
  known: number
  conv: number
  neg: number
  x: Record<string, number>
  xscore: number
  xknown: number
}
const acc = (): Acc => ({
  s: Object.fromEntries(SENTIMENTS.map((x) => [x, 0])),
  f: Object.fromEntries(SENDERS.map((x) => [x, 0])),
  score: 0,
  known: 0,
  conv: 0,
  neg: 0,
  x: Object.fromEntries(SENTIMENTS.map((x) => [x, 0])),
  xscore: 0,
  xknown: 0,
})
const figures = (a: Acc): Figures => ({
  messages_by_sentiment: a.s,
  messages_by_sender: a.f,
  conversations: a.conv,
  mean_score: a.known > 0 ? a.score / a.known : null,
  conversations_ending_negative: a.neg,
  messages_by_text_sentiment: a.x,
  text_mean_score: a.xknown > 0 ? a.xscore / a.xknown : null,
})

/** The reference snapshot of `server` from `events` (duplicates by event_id count once). */
export function referenceSnapshot(events: readonly ChatMessage[], server: string): Snapshot {
  const unique = new Map<string, ChatMessage>()
  for (const e of events)
    if (e.server === server && !unique.has(e.event_id)) unique.set(e.event_id, e)
  const names = new Map<string, { ms: number; name: string }>()
  const windows = new Map<
    string,
    { agent: string; g: string; start: number; end: number; a: Acc }
  >()
  const totals = new Map<string, Acc>()
  const windowsOf = (ms: number): [string, number, number][] => {
    const hour = Math.floor(ms / HOUR) * HOUR
    const day = Math.floor((ms + BOGOTA) / DAY) * DAY - BOGOTA
    return [
      ['hour', hour, hour + HOUR],
      ['day', day, day + DAY],
    ]
  }
  const windowAcc = (agent: string, g: string, start: number, end: number): Acc => {
    const id = `${agent}|${g}|${new Date(start).toISOString()}`
    let w = windows.get(id)
    if (!w) windows.set(id, (w = { agent, g, start, end, a: acc() }))
    return w.a
  }
  const convs = new Map<string, ChatMessage[]>()
  for (const e of unique.values()) {
    const agent = keyOf(e.agent_name)
    const ms = e.sent_at.getTime()
    const n = names.get(agent)
    if (!n || ms < n.ms || (ms === n.ms && e.agent_name < n.name))
      names.set(agent, { ms, name: e.agent_name })
    let t = totals.get(agent)
    if (!t) totals.set(agent, (t = acc()))
    const targets = [t, ...windowsOf(ms).map(([g, s, en]) => windowAcc(agent, g, s, en))]
    const text = referenceTextSentiment(e)
    for (const a of targets) {
      if (text !== undefined) {
        a.x[text] = (a.x[text] ?? 0) + 1
        a.xscore += SCORE[text]!
        a.xknown++
      }
      a.s[e.sentiment] = (a.s[e.sentiment] ?? 0) + 1
      a.f[e.sender] = (a.f[e.sender] ?? 0) + 1
      const score = SCORE[e.sentiment]
      if (score !== undefined) {
        a.score += score
        a.known++
      }
    }
    const c = `${e.conn_id}\u0000${agent}`
    convs.set(c, [...(convs.get(c) ?? []), e])
  }
  for (const list of convs.values()) {
    const agent = keyOf(list[0]!.agent_name)
    const last = Math.max(...list.map((e) => e.sent_at.getTime()))
    const complete = list.some((e) => e.position === e.conversation_length - 1)
    const customer = list
      .filter((e) => e.sender === 'customer')
      .sort((a, b) => a.sent_at.getTime() - b.sent_at.getTime() || a.position - b.position)
      .at(-1)
    const negative =
      complete &&
      customer !== undefined &&
      ['negative', 'very_negative'].includes(customer.sentiment)
    const t = totals.get(agent)!
    t.conv++
    if (negative) t.neg++
    for (const [g, s, en] of windowsOf(last)) {
      const a = windowAcc(agent, g, s, en)
      a.conv++
      if (negative) a.neg++
    }
  }
  return {
    agents: [...totals.keys()].sort().map((agent) => ({
      agent_key: agent,
      agent_name: names.get(agent)!.name,
      totals: figures(totals.get(agent)!),
    })),
    windows: Object.fromEntries(
      [...windows.entries()].map(([id, w]) => [
        id,
        {
          agent_name: names.get(w.agent)!.name,
          window_end: new Date(w.end).toISOString(),
          figures: figures(w.a),
        },
      ]),
    ),
  }
}

/** What the HTTP API answers for `server`, in the snapshot shape. */
export async function httpSnapshot(port: number, server: string): Promise<Snapshot> {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`)
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`)
    return (await res.json()) as T
  }
  type HttpFigures = Figures & { messages?: number }
  const strip = ({ messages: _, ...f }: HttpFigures): Figures => f
  const { agents } = await get<{
    agents: { agent_key: string; agent_name: string; totals: HttpFigures }[]
  }>(`/operations/${server}/agents`)
  const windows: Snapshot['windows'] = {}
  for (const agent of agents) {
    for (const g of ['hour', 'day']) {
      const answer = await get<{
        windows: (HttpFigures & { window_start: string; window_end: string; granularity: string })[]
      }>(
        `/operations/${server}/agents/${encodeURIComponent(agent.agent_key)}/sentiment?granularity=${g}`,
      )
      for (const { window_start, window_end, granularity: _, ...f } of answer.windows) {
        windows[`${agent.agent_key}|${g}|${window_start}`] = {
          agent_name: agent.agent_name,
          window_end,
          figures: strip(f),
        }
      }
    }
  }
  return {
    agents: agents.map((a) => ({ ...a, totals: strip(a.totals) })),
    windows,
  }
}

/** The latest record per key of the output topic, in the snapshot's window shape. */
export function latestWindows(
  records: readonly { key: string; value: AgentSentiment }[],
  server: string,
): Snapshot['windows'] {
  const out: Snapshot['windows'] = {}
  for (const { key, value: v } of records) {
    if (v.server !== server) continue
    const id = `${v.agent_key}|${v.granularity}|${v.window_start.toISOString()}`
    if (key !== `${server}|${id}`) throw new Error(`record key ${key} does not match its value`)
    out[id] = {
      agent_name: v.agent_name,
      window_end: v.window_end.toISOString(),
      figures: {
        messages_by_sentiment: { ...v.messages_by_sentiment },
        messages_by_sender: { ...v.messages_by_sender },
        conversations: v.conversations,
        mean_score: v.mean_score,
        conversations_ending_negative: v.conversations_ending_negative,
        messages_by_text_sentiment:
          v.messages_by_text_sentiment === null ? null : { ...v.messages_by_text_sentiment },
        text_mean_score: v.text_mean_score,
      },
    }
  }
  return out
}
