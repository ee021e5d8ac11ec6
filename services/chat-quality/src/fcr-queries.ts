/*
 * First-contact resolution at query time (README of this service: First-contact resolution). The
 * quality service stores one FCR entry per recorded conversation (identity key, start, end, agent,
 * channel) with a start-time index, per partition of the message topic; its companion consumer
 * stores each conversation's primary trámite from the classification topic, per partition of
 * that topic. A query reads the conversations that started in its range, then those that started
 * after it up to one window past the latest end among them (the only ones that can repeat them),
 * joins their trámites, and computes the outcomes (fcr.ts): a pure function of what is stored, so
 * replays, duplicates, rebuilds and late contacts give exactly what the definition gives.
 */
import type { StateReader } from '@wolkvox-chat-stream/service-kit'
import { dayWindow, localDate } from '@wolkvox-chat-stream/zoned-time'
import {
  fcrFigures,
  fcrOutcomes,
  parseFcrEntry,
  type FcrConversation,
  type FcrEntry,
  type FcrFigures,
  type FcrVerdict,
} from './fcr.js'
import { paths } from './queries.js'

/** What the companion stores per partition of the classification topic: conn_id -> trámite. */
export const tramitePaths = {
  /** '' when the classifier found none. */
  tramites: (server: string): string[] => ['tramite', server],
} as const

/** How FCR figures are grouped. */
export type FcrGrouping = 'agent' | 'tramite' | 'channel'

/** One group's figures, in total and per local day (days with conversations only). */
export interface FcrGroup {
  /** The agent key, the primary trámite (null: none found, or not classified yet) or the channel. */
  key: string | null
  totals: FcrFigures
  days: (FcrFigures & { day: string; window_start: string; window_end: string })[]
}

/** Conversation ids read per command. */
const PAGE = 5_000

/** The entries of the conversations of `server` that started in `[fromMs, toMs)`. */
async function readEntries(
  reader: StateReader,
  server: string,
  fromMs: number,
  toMs: number,
): Promise<Map<string, FcrEntry>> {
  const entries = new Map<string, FcrEntry>()
  await reader.eachPartition(async (redis, key) => {
    const ids = await redis.zrangebyscore(key(paths.fcrStarts(server)), fromMs, `(${toMs}`)
    for (let i = 0; i < ids.length; i += PAGE) {
      const page = ids.slice(i, i + PAGE)
      const values = await redis.hmget(key(paths.fcr(server)), ...page)
      page.forEach((connId, j) => {
        const value = values[j]
        const entry = value == null ? undefined : parseFcrEntry(value)
        // One partition holds a conversation, unless the input's partitions changed without a
        // rebuild: then the later end is the fuller one.
        const seen = entries.get(connId)
        if (entry !== undefined && (seen === undefined || entry.endedAtMs > seen.endedAtMs))
          entries.set(connId, entry)
      })
    }
  })
  return entries
}

/** The primary trámite of each of `connIds` that has a classification. */
async function readTramites(
  reader: StateReader,
  server: string,
  connIds: readonly string[],
): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>()
  for (let i = 0; i < connIds.length; i += PAGE) {
    const page = connIds.slice(i, i + PAGE)
    const parts = await reader.collect(tramitePaths.tramites(server), (r, key) =>
      r.hmget(key, ...page),
    )
    for (const values of parts) {
      page.forEach((connId, j) => {
        const value = values[j]
        if (value != null) out.set(connId, value === '' ? null : value)
      })
    }
  }
  return out
}

/** What an FCR query answers (README: HTTP API). */
export interface FcrReport {
  totals: FcrFigures
  groups: FcrGroup[]
  /** Conversations read beyond the range, as possible repeats. */
  lookedAhead: number
}

/**
 * FCR of the conversations of `server` that started in `[fromMs, toMs)`, as of `nowMs`, grouped
 * `by` agent, trámite or channel, each group per local day of `zone`; groups sorted by key (null
 * last), days oldest first.
 */
export async function readFcr(options: {
  quality: StateReader
  tramites: StateReader
  server: string
  fromMs: number
  toMs: number
  windowMs: number
  nowMs: number
  by: FcrGrouping
  zone: string
}): Promise<FcrReport> {
  const { quality, tramites, server, fromMs, toMs, windowMs, nowMs, by, zone } = options
  const reader = quality.withPartitions(await quality.partitions())
  const inRange = await readEntries(reader, server, fromMs, toMs)
  let lastEnd = -Infinity
  for (const entry of inRange.values()) lastEnd = Math.max(lastEnd, entry.endedAtMs)
  const ahead =
    inRange.size === 0
      ? new Map<string, FcrEntry>()
      : await readEntries(reader, server, toMs, lastEnd + windowMs + 1)
  const all = new Map([...ahead, ...inRange])
  const classified = await readTramites(
    tramites.withPartitions(await tramites.partitions()),
    server,
    [...all.keys()],
  )
  const conversations: FcrConversation[] = [...all].map(([connId, e]) => ({
    connId,
    identity: e.identity,
    tramite: classified.has(connId) ? classified.get(connId)! : undefined,
    startedAtMs: e.startedAtMs,
    endedAtMs: e.endedAtMs,
  }))
  const outcomes = fcrOutcomes(conversations, windowMs, nowMs)

  const groups = new Map<string | null, Map<number, FcrVerdict[]>>()
  const verdicts: FcrVerdict[] = []
  for (const [connId, entry] of inRange) {
    const verdict = outcomes.get(connId)!
    verdicts.push(verdict)
    const key =
      by === 'agent'
        ? entry.agentKey
        : by === 'channel'
          ? entry.channel
          : (classified.get(connId) ?? null)
    let days = groups.get(key)
    if (days === undefined) groups.set(key, (days = new Map<number, FcrVerdict[]>()))
    const day = dayWindow(entry.startedAtMs, zone).startMs
    const list = days.get(day)
    if (list === undefined) days.set(day, [verdict])
    else list.push(verdict)
  }
  const keys = [...groups.keys()].sort((a, b) =>
    a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1,
  )
  return {
    totals: fcrFigures(verdicts),
    lookedAhead: ahead.size,
    groups: keys.map((key) => {
      const days = groups.get(key)!
      return {
        key,
        totals: fcrFigures([...days.values()].flat()),
        days: [...days.keys()]
          .sort((a, b) => a - b)
          .map((start) => {
            const window = dayWindow(start, zone)
            return {
              day: localDate(start, zone),
              window_start: new Date(window.startMs).toISOString(),
              window_end: new Date(window.endMs).toISOString(),
              ...fcrFigures(days.get(start)!),
            }
          }),
      }
    }),
  }
}
