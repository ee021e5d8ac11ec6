/*
 * The HTTP API (README: HTTP API): agents of an operation with their totals, an agent's windows,
 * an agent's summary. JSON; errors as `{ error: { code, message } }`. Every path and query
 * parameter is checked by the router against its one definition before a handler runs.
 */
import {
  agentKeyParser,
  createRouter,
  cursorParser,
  HttpError,
  InputError,
  limitParser,
  oneOfParser,
  pageOf,
  queryTimeParser,
  route,
  serverParser,
  type Parser,
} from '@wolkvox-chat-stream/observability'
import type { RouteContext, ServiceRoute } from '@wolkvox-chat-stream/service-kit'
import { readAgentName, readAgents, readFigures, readWindows } from './queries.js'
import type { Granularity } from './windows.js'

/** Agents per page: `limit` defaults to this… */
export const DEFAULT_AGENTS_LIMIT = 500
/** …and may not exceed this. */
export const MAX_AGENTS_LIMIT = 1000
/** Windows per page: `limit` defaults to this (a month of hours)… */
export const DEFAULT_WINDOWS_LIMIT = 744
/** …and may not exceed this (a year of days, or seven months of hours). */
export const MAX_WINDOWS_LIMIT = 5000
/** Reads a query time as an instant (README: Times and ranges); throws InputError. */
export const parseQueryTime = (text: string, zone: string): number => queryTimeParser(zone)(text)

export { agentKeyParser }

const granularityParser = oneOfParser<Granularity>('granularity', ['hour', 'day'])

const isoOrNull = (ms: number): string | null =>
  Number.isFinite(ms) ? new Date(ms).toISOString() : null

/** The aggregator's routes, for `createConsumerService({ routes })`. */
export function sentimentRoutes(zone: string): ServiceRoute {
  // Half-open [from, to): a bare date is its day's start as from, the next day's start as to.
  const time: { from: Parser<number>; to: Parser<number> } = {
    from: queryTimeParser(zone, { bound: 'from' }),
    to: queryTimeParser(zone, { bound: 'to' }),
  }
  const knownAgent = async (kit: RouteContext, server: string, agentKey: string) => {
    const name = await readAgentName(kit.state, server, agentKey)
    if (name === undefined)
      throw new HttpError(
        404,
        'SENTIMENT_AGENT_NOT_FOUND',
        `No agent ${agentKey} in operation ${server}`,
      )
    return name
  }

  return createRouter<RouteContext>(
    [
      route<RouteContext, { server: string }, { limit: number; cursor: string }>({
        method: 'GET',
        path: '/operations/:server/agents',
        params: { server: serverParser },
        query: { limit: limitParser(MAX_AGENTS_LIMIT), cursor: cursorParser },
        async handle({ params: { server }, query }, kit) {
          const all = await readAgents(kit.state, server)
          const page = pageOf(all, (a) => a.agentKey, {
            limit: query.limit ?? DEFAULT_AGENTS_LIMIT,
            after: query.cursor,
          })
          const totals = await Promise.all(
            page.items.map(
              async (a) =>
                (await readFigures(kit.state, server, a.agentKey, [{ tag: 't', startMs: 0 }]))[0]!,
            ),
          )
          return {
            status: 200,
            body: {
              server,
              agents: page.items.map((a, i) => ({
                agent_key: a.agentKey,
                agent_name: a.agentName,
                totals: totals[i],
              })),
              next_cursor: page.next_cursor,
            },
          }
        },
      }),
      route<
        RouteContext,
        { server: string; agentKey: string },
        { granularity: Granularity; from: number; to: number; limit: number; cursor: string }
      >({
        method: 'GET',
        path: '/operations/:server/agents/:agentKey/sentiment',
        params: { server: serverParser, agentKey: agentKeyParser },
        query: {
          granularity: granularityParser,
          ...time,
          limit: limitParser(MAX_WINDOWS_LIMIT),
          cursor: cursorParser,
        },
        async handle({ params: { server, agentKey }, query }, kit) {
          const agentName = await knownAgent(kit, server, agentKey)
          const granularity = query.granularity ?? 'hour'
          const fromMs = query.from ?? -Infinity
          const toMs = query.to ?? Infinity
          if (fromMs > toMs) throw new InputError('from is after to')
          const windows = await readWindows(
            kit.state,
            server,
            agentKey,
            granularity,
            zone,
            fromMs,
            toMs,
          )
          const page = pageOf(windows, (w) => w.window_start, {
            limit: query.limit ?? DEFAULT_WINDOWS_LIMIT,
            after: query.cursor,
          })
          return {
            status: 200,
            body: {
              server,
              agent_key: agentKey,
              agent_name: agentName,
              granularity,
              from: isoOrNull(fromMs),
              to: isoOrNull(toMs),
              windows: page.items,
              next_cursor: page.next_cursor,
            },
          }
        },
      }),
      route<RouteContext, { server: string; agentKey: string }>({
        method: 'GET',
        path: '/operations/:server/agents/:agentKey/summary',
        params: { server: serverParser, agentKey: agentKeyParser },
        async handle({ params: { server, agentKey } }, kit) {
          const agentName = await knownAgent(kit, server, agentKey)
          const [totals] = await readFigures(kit.state, server, agentKey, [
            { tag: 't', startMs: 0 },
          ])
          const days = await readWindows(kit.state, server, agentKey, 'day', zone)
          return {
            status: 200,
            body: {
              server,
              agent_key: agentKey,
              agent_name: agentName,
              totals,
              first_day: days[0]?.window_start ?? null,
              last_day: days[days.length - 1]?.window_start ?? null,
              active_days: days.length,
              last_day_figures: days[days.length - 1] ?? null,
            },
          }
        },
      }),
    ],
    { invalidCode: 'SENTIMENT_QUERY_INVALID' },
  )
}
