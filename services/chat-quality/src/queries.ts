/*
 * State key paths (relative to a partition, see the service kit) and the merged reads behind the
 * HTTP API: every partition's part summed (the kit's StateReader), figures computed from the
 * merged counters.
 */
import type { StateReader } from '@wolkvox-chat-stream/service-kit'
import { memberOf } from '@wolkvox-chat-stream/service-kit'
import { dayWindow, hourWindow } from '@wolkvox-chat-stream/zoned-time'
import { parseField, parseState, type QualityState, type WindowTag } from './conversation.js'
import { FIRST_RESPONSE_BUCKETS_MS, quantileBound } from './histogram.js'

/** State key paths, relative to a partition. */
export const paths = {
  conversation: (server: string, connId: string): string[] => ['conv', server, connId],
  agent: (server: string, agentKey: string): string[] => ['agent', server, agentKey],
  names: (server: string): string[] => ['names', server],
  /** FCR entries (fcr.ts) of the conversations with a record: conn_id -> entry. */
  fcr: (server: string): string[] => ['fcr', server],
  /** The same conversations by start time (ms): a sorted set of conn_id. */
  fcrStarts: (server: string): string[] => ['fcr-start', server],
  dirty: 'dirty',
  pending: 'pending',
} as const

/** Hour or local day. */
export type Granularity = 'hour' | 'day'

/** A conversation's state, from whichever partition holds it; undefined when none does. */
export async function readState(
  reader: StateReader,
  server: string,
  connId: string,
): Promise<QualityState | undefined> {
  const parts = await reader.collect(paths.conversation(server, connId), (r, key) => r.hgetall(key))
  const member = memberOf(server, connId)
  // One partition holds it, unless the input's partition count changed without a rebuild.
  const states = parts.flatMap((hash) => parseState(member, hash) ?? [])
  return states.sort((a, b) => Number(b.changes) - Number(a.changes))[0]
}

/** Agent keys of an operation with their display names (of their earliest chat), sorted by key. */
export async function readAgents(
  reader: StateReader,
  server: string,
): Promise<{ agentKey: string; agentName: string }[]> {
  const parts = await reader.collect(paths.names(server), (r, key) => r.hgetall(key))
  const values = new Map<string, string[]>()
  for (const part of parts)
    for (const [agentKey, value] of Object.entries(part))
      values.set(agentKey, [...(values.get(agentKey) ?? []), value])
  return [...values.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((agentKey) => ({ agentKey, agentName: bestName(values.get(agentKey)!)! }))
}

/** The display name of one agent (of its earliest chat), or undefined when it is unknown. */
export async function readAgentName(
  reader: StateReader,
  server: string,
  agentKey: string,
): Promise<string | undefined> {
  const parts = await reader.collect(paths.names(server), (r, key) => r.hget(key, agentKey))
  return bestName(parts.flatMap((value) => (value === null ? [] : [value])))
}

/** The name of the earliest of `values` (`<started_at ms>|<name>`), ties by the smaller name. */
function bestName(values: readonly string[]): string | undefined {
  let best: { ms: number; name: string } | undefined
  for (const value of values) {
    const bar = value.indexOf('|')
    const candidate = { ms: Number(value.slice(0, bar)), name: value.slice(bar + 1) }
    if (
      best === undefined ||
      candidate.ms < best.ms ||
      (candidate.ms === best.ms && candidate.name < best.name)
    )
      best = candidate
  }
  return best?.name
}

/** A share: met / applicable, null when nothing applied. */
const shareOf = (met: number, of: number): number | null => (of === 0 ? null : met / of)

/** The figures of one window (or the totals) of one agent. README: Per-agent figures. */
export interface QualityFigures {
  conversations: number
  first_response: {
    /** Conversations where the customer wrote (the standard applies). */
    applicable: number
    met: number
    share: number | null
    /** Upper bounds of the histogram buckets holding the median and the 90th percentile. */
    p50_ms: number | null
    p90_ms: number | null
    /** Conversations per bucket: `le_ms` its upper bound, null for the last (beyond every bound). */
    histogram: { le_ms: number | null; conversations: number }[]
  }
  response_gaps: { applicable: number; met: number; share: number | null }
  checks: { check: string; checked: number; passed: number; share: number | null }[]
}

/** Figures from merged counters (metric -> count). */
export function figuresOf(counts: ReadonlyMap<string, number>): QualityFigures {
  const get = (metric: string): number => counts.get(metric) ?? 0
  const buckets = Array.from({ length: FIRST_RESPONSE_BUCKETS_MS.length + 1 }, (_, i) =>
    get(`frb.${i}`),
  )
  const checks = [...counts.keys()]
    .filter((m) => m.startsWith('c.') && !m.endsWith('.ok'))
    .map((m) => m.slice(2))
    .sort()
    .map((check) => {
      const checked = get(`c.${check}`)
      const passed = get(`c.${check}.ok`)
      return { check, checked, passed, share: shareOf(passed, checked) }
    })
  return {
    conversations: get('n'),
    first_response: {
      applicable: get('fr'),
      met: get('fr.ok'),
      share: shareOf(get('fr.ok'), get('fr')),
      p50_ms: quantileBound(buckets, 0.5),
      p90_ms: quantileBound(buckets, 0.9),
      histogram: buckets.map((conversations, i) => ({
        le_ms: FIRST_RESPONSE_BUCKETS_MS[i] ?? null,
        conversations,
      })),
    },
    response_gaps: {
      applicable: get('rg'),
      met: get('rg.ok'),
      share: shareOf(get('rg.ok'), get('rg')),
    },
    checks,
  }
}

/** Every window of `tag` with counters, by start: metric -> count. */
function windowsOf(
  merged: Readonly<Record<string, number>>,
  tag: WindowTag,
): Map<number, Map<string, number>> {
  const windows = new Map<number, Map<string, number>>()
  for (const [field, value] of Object.entries(merged)) {
    if (value === 0) continue
    const parsed = parseField(field)
    if (parsed === undefined || parsed.tag !== tag) continue
    let window = windows.get(parsed.startMs)
    if (window === undefined) windows.set(parsed.startMs, (window = new Map<string, number>()))
    window.set(parsed.metric, value)
  }
  return windows
}

/** An agent's totals (every conversation counted for it). */
export async function readTotals(
  reader: StateReader,
  server: string,
  agentKey: string,
): Promise<QualityFigures> {
  return totalsOf(await reader.sumHash(paths.agent(server, agentKey)))
}

const totalsOf = (merged: Readonly<Record<string, number>>): QualityFigures =>
  figuresOf(windowsOf(merged, 't').get(0) ?? new Map<string, number>())

/** One window of one agent, with its bounds. */
export interface QualityWindow extends QualityFigures {
  granularity: Granularity
  window_start: string
  window_end: string
}

/**
 * An agent's totals and every window of one granularity with a start in `[fromMs, toMs)`, oldest
 * first: one read of the agent's counters.
 */
export async function readAgentFigures(
  reader: StateReader,
  server: string,
  agentKey: string,
  granularity: Granularity,
  zone: string,
  fromMs = -Infinity,
  toMs = Infinity,
): Promise<{ totals: QualityFigures; windows: QualityWindow[] }> {
  const merged = await reader.sumHash(paths.agent(server, agentKey))
  const windows = windowsOf(merged, granularity === 'hour' ? 'h' : 'd')
  return {
    totals: totalsOf(merged),
    windows: [...windows.keys()]
      .filter((start) => start >= fromMs && start < toMs && (windows.get(start)?.get('n') ?? 0) > 0)
      .sort((a, b) => a - b)
      .map((startMs) => {
        const window = granularity === 'hour' ? hourWindow(startMs) : dayWindow(startMs, zone)
        return {
          granularity,
          window_start: new Date(window.startMs).toISOString(),
          window_end: new Date(window.endMs).toISOString(),
          ...figuresOf(windows.get(startMs)!),
        }
      }),
  }
}
