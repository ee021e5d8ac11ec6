/*
 * Reads of the aggregates: every partition's part merged (the kit's StateReader), figures computed
 * from the merged counters. The HTTP API and the output topic both use these, so they agree.
 */
import type { StateReader } from '@wolkvox-chat-stream/service-kit'
import {
  fieldOf,
  figuresOf,
  metrics,
  parseNameValue,
  earlierName,
  type WindowFigures,
} from './aggregation.js'
import { windowAt, type Granularity } from './windows.js'

/** State key paths, relative to a partition. */
export const paths = {
  agent: (server: string, agentKey: string): string[] => ['agent', server, agentKey],
  names: (server: string): string[] => ['names', server],
  conversation: (server: string, connId: string, agentKey: string): string[] => [
    'conv',
    server,
    connId,
    agentKey,
  ],
  dirty: 'dirty',
} as const

/** One window of one agent, as the output topic and the HTTP API give it. */
export interface AgentWindow extends WindowFigures {
  granularity: Granularity
  window_start: string
  window_end: string
}

/** Agent keys of an operation with their first seen display names, sorted by key. */
export async function readAgents(
  reader: StateReader,
  server: string,
): Promise<{ agentKey: string; agentName: string }[]> {
  const parts = await reader.collect(paths.names(server), (r, key) => r.hgetall(key))
  const best = new Map<string, { sentAtMs: number; name: string }>()
  for (const part of parts) {
    for (const [agentKey, value] of Object.entries(part)) {
      const candidate = parseNameValue(value)
      const current = best.get(agentKey)
      if (current === undefined || earlierName(candidate, current)) best.set(agentKey, candidate)
    }
  }
  return [...best.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([agentKey, { name }]) => ({ agentKey, agentName: name }))
}

/** The display name of one agent, or undefined when the agent is unknown. */
export async function readAgentName(
  reader: StateReader,
  server: string,
  agentKey: string,
): Promise<string | undefined> {
  const parts = await reader.collect(paths.names(server), (r, key) => r.hget(key, agentKey))
  let best: { sentAtMs: number; name: string } | undefined
  for (const part of parts) {
    if (part === null) continue
    const candidate = parseNameValue(part)
    if (best === undefined || earlierName(candidate, best)) best = candidate
  }
  return best?.name
}

/** Merged metric values of windows given by `(tag, start)`, one figures object each. */
export async function readFigures(
  reader: StateReader,
  server: string,
  agentKey: string,
  windows: readonly { tag: 'h' | 'd' | 't'; startMs: number }[],
): Promise<WindowFigures[]> {
  if (windows.length === 0) return []
  const fields = windows.flatMap((w) => metrics.map((m) => fieldOf(w.tag, w.startMs, m)))
  const parts = await reader.collect(paths.agent(server, agentKey), (r, key) =>
    r.hmget(key, ...fields),
  )
  const sums = new Array<number>(fields.length).fill(0)
  for (const part of parts) part.forEach((v, i) => (sums[i] = (sums[i] ?? 0) + Number(v ?? 0)))
  return windows.map((_, w) => {
    const base = w * metrics.length
    return figuresOf((metric) => sums[base + metrics.indexOf(metric)] ?? 0)
  })
}

/** Every window of one agent and granularity with a start in `[fromMs, toMs)`, oldest first. */
export async function readWindows(
  reader: StateReader,
  server: string,
  agentKey: string,
  granularity: Granularity,
  zone: string,
  fromMs = -Infinity,
  toMs = Infinity,
): Promise<AgentWindow[]> {
  const merged = await reader.sumHash(paths.agent(server, agentKey))
  const tag = granularity === 'hour' ? 'h' : 'd'
  const starts = new Set<number>()
  for (const [field, value] of Object.entries(merged)) {
    if (!field.startsWith(`${tag}|`) || !field.includes('|s.') || value === 0) continue
    const start = Number(field.slice(2, field.indexOf('|', 2)))
    if (start >= fromMs && start < toMs) starts.add(start)
  }
  return [...starts]
    .sort((a, b) => a - b)
    .map((startMs) => {
      const figures = figuresOf((metric) => merged[fieldOf(tag, startMs, metric)] ?? 0)
      return windowOf(granularity, startMs, zone, figures)
    })
}

/** A window with its bounds as ISO instants. */
export function windowOf(
  granularity: Granularity,
  startMs: number,
  zone: string,
  figures: WindowFigures,
): AgentWindow {
  const window = windowAt(granularity, startMs, zone)
  return {
    granularity,
    window_start: new Date(window.startMs).toISOString(),
    window_end: new Date(window.endMs).toISOString(),
    ...figures,
  }
}
