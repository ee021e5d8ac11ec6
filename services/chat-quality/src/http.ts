/*
 * The HTTP API (README: HTTP API): an operation's agents with their totals, an agent's hours or
 * days, one conversation's figures, the rules in force and their reload. JSON; errors as
 * `{ error: { code, message } }`. Every path and query parameter is checked by the router against
 * its one definition before a handler runs.
 */
import {
  agentKeyParser,
  connIdParser,
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
} from '@wolkvox-chat-stream/observability'
import { rulesRoutes, type RulesHolder } from '@wolkvox-chat-stream/keyword-rules'
import type { RouteContext, ServiceRoute, StateReader } from '@wolkvox-chat-stream/service-kit'
import { dayStart } from '@wolkvox-chat-stream/zoned-time'
import { fingerprint, qualityOf } from './conversation.js'
import { readFcr, type FcrGrouping } from './fcr-queries.js'
import {
  readAgentFigures,
  readAgentName,
  readAgents,
  readState,
  readTotals,
  type Granularity,
} from './queries.js'
import type { QualityStandards } from './timings.js'

/** Agents per page: `limit` defaults to this… */
export const DEFAULT_AGENTS_LIMIT = 500
/** …and may not exceed this. */
export const MAX_AGENTS_LIMIT = 1000
/** Windows per page: `limit` defaults to this (a month of hours)… */
export const DEFAULT_WINDOWS_LIMIT = 744
/** …and may not exceed this. */
export const MAX_WINDOWS_LIMIT = 5000

const granularityParser = oneOfParser<Granularity>('granularity', ['hour', 'day'])
const groupingParser = oneOfParser<FcrGrouping>('by', ['agent', 'tramite', 'channel'])

/** An FCR query covers at most this many days, and by default the last 30 local days. */
export const MAX_FCR_RANGE_DAYS = 93
const DEFAULT_FCR_RANGE_DAYS = 30
const DAY_MS = 86_400_000

const isoOrNull = (ms: number): string | null =>
  Number.isFinite(ms) ? new Date(ms).toISOString() : null

/** The quality service's routes, for `createConsumerService({ routes })`. */
export function qualityRoutes(options: {
  rules: RulesHolder
  zone: string
  standards: QualityStandards
  /** `FCR_WINDOW`. */
  fcrWindowMs: number
  /** The companion consumer's reads (the trámites). */
  tramites: () => StateReader
  now?: () => number
}): ServiceRoute {
  const { rules, zone, standards, fcrWindowMs } = options
  const now = options.now ?? Date.now
  // Half-open [from, to): a bare date is its day's start as from, the next day's start as to.
  const time = {
    from: queryTimeParser(zone, { bound: 'from', now }),
    to: queryTimeParser(zone, { bound: 'to', now }),
  }
  const knownAgent = async (kit: RouteContext, server: string, agentKey: string) => {
    const name = await readAgentName(kit.state, server, agentKey)
    if (name === undefined)
      throw new HttpError(
        404,
        'QUALITY_AGENT_NOT_FOUND',
        `No agent ${agentKey} in operation ${server}`,
      )
    return name
  }

  return createRouter<RouteContext>(
    [
      ...rulesRoutes<RouteContext>(rules, 'checks'),
      route<RouteContext, { server: string }, { limit: number; cursor: string }>({
        method: 'GET',
        path: '/operations/:server/quality/agents',
        params: { server: serverParser },
        query: { limit: limitParser(MAX_AGENTS_LIMIT), cursor: cursorParser },
        async handle({ params: { server }, query }, kit) {
          const all = await readAgents(kit.state, server)
          const page = pageOf(all, (a) => a.agentKey, {
            limit: query.limit ?? DEFAULT_AGENTS_LIMIT,
            after: query.cursor,
          })
          const totals = await Promise.all(
            page.items.map((a) => readTotals(kit.state, server, a.agentKey)),
          )
          return {
            status: 200,
            body: {
              server,
              standards: {
                first_response_target_ms: standards.firstResponseTargetMs,
                response_gap_target_ms: standards.responseGapTargetMs,
              },
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
        path: '/operations/:server/quality/agents/:agentKey',
        params: { server: serverParser, agentKey: agentKeyParser },
        query: {
          granularity: granularityParser,
          ...time,
          limit: limitParser(MAX_WINDOWS_LIMIT),
          cursor: cursorParser,
        },
        async handle({ params: { server, agentKey }, query }, kit) {
          const agentName = await knownAgent(kit, server, agentKey)
          const granularity = query.granularity ?? 'day'
          const fromMs = query.from ?? -Infinity
          const toMs = query.to ?? Infinity
          if (fromMs > toMs) throw new InputError('from is after to')
          const { totals, windows } = await readAgentFigures(
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
              totals,
              windows: page.items,
              next_cursor: page.next_cursor,
            },
          }
        },
      }),
      route<RouteContext, { server: string }, { by: FcrGrouping; from: number; to: number }>({
        method: 'GET',
        path: '/operations/:server/fcr',
        params: { server: serverParser },
        query: { by: groupingParser, ...time },
        async handle({ params: { server }, query }, kit) {
          const nowMs = now()
          const toMs = query.to ?? nowMs
          const fromMs = query.from ?? dayStart(toMs - DEFAULT_FCR_RANGE_DAYS * DAY_MS, zone)
          if (fromMs > toMs) throw new InputError('from is after to')
          if (toMs - fromMs > MAX_FCR_RANGE_DAYS * DAY_MS)
            throw new InputError(`from and to are more than ${MAX_FCR_RANGE_DAYS} days apart`)
          const by = query.by ?? 'agent'
          const report = await readFcr({
            quality: kit.state,
            tramites: options.tramites(),
            server,
            fromMs,
            toMs,
            windowMs: fcrWindowMs,
            nowMs,
            by,
            zone,
          })
          const names =
            by === 'agent'
              ? new Map((await readAgents(kit.state, server)).map((a) => [a.agentKey, a.agentName]))
              : undefined
          return {
            status: 200,
            body: {
              server,
              by,
              from: new Date(fromMs).toISOString(),
              to: new Date(toMs).toISOString(),
              window_ms: fcrWindowMs,
              as_of: new Date(nowMs).toISOString(),
              totals: report.totals,
              groups: report.groups.map((g) => ({
                key: g.key,
                ...(names === undefined ? {} : { agent_name: names.get(g.key ?? '') ?? null }),
                totals: g.totals,
                days: g.days,
              })),
            },
          }
        },
      }),
      route<RouteContext, { server: string; connId: string }>({
        method: 'GET',
        path: '/operations/:server/quality/conversations/:connId',
        params: { server: serverParser, connId: connIdParser },
        async handle({ params: { server, connId } }, kit) {
          const state = await readState(kit.state, server, connId)
          if (state === undefined || state.messages.length === 0)
            throw new HttpError(
              404,
              'QUALITY_CONVERSATION_NOT_FOUND',
              `No conversation ${connId} in operation ${server}`,
            )
          const computed = qualityOf(state, rules.current.ruleSet.tramites, standards)
          const emitted =
            state.emitted !== undefined &&
            state.emitted.fingerprint === fingerprint(computed) &&
            state.emitted.version === computed.rule_set_version
          return {
            status: 200,
            body: {
              ...computed,
              started_at: computed.started_at.toISOString(),
              ended_at: computed.ended_at.toISOString(),
              emitted,
              computed_at: new Date(
                emitted ? state.emitted!.computedAtMs : Date.now(),
              ).toISOString(),
            },
          }
        },
      }),
    ],
    { invalidCode: 'QUALITY_QUERY_INVALID' },
  )
}
