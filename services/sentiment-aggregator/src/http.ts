/*
 * The HTTP API (README: HTTP API): agents of an operation with their totals, an agent's windows,
 * an agent's summary. JSON; errors as `{ error: { code, message } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendJson, type RouteContext, type ServiceRoute } from '@wolkvox-chat-stream/service-kit'
import { parseQueryTime as parseTimeText } from '@wolkvox-chat-stream/zoned-time'
import { readAgentName, readAgents, readFigures, readWindows } from './queries.js'
import type { Granularity } from './windows.js'

class QueryError extends Error {}

/** Reads a query time: ISO 8601 with an offset, or `YYYYmmddHHiiss` / ISO without one in `zone`. */
export function parseQueryTime(text: string, zone: string): number {
  const ms = parseTimeText(text, zone)
  if (ms !== undefined) return ms
  throw new QueryError(
    `${JSON.stringify(text)} is not a time: use ISO 8601 or YYYYmmddHHiiss (without an offset, in ${zone})`,
  )
}

const segment = (part: string): string => {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new QueryError(`${JSON.stringify(part)} is not a valid path segment`)
  }
}

/** The aggregator's routes, for `createConsumerService({ routes })`. */
export function sentimentRoutes(zone: string): ServiceRoute {
  return async (req: IncomingMessage, res: ServerResponse, kit: RouteContext) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const parts = url.pathname.split('/').filter((p) => p !== '')
    if (parts[0] !== 'operations' || parts[2] !== 'agents' || parts.length < 3) return false
    if (parts.length !== 3 && parts.length !== 5) return false
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } })
      return true
    }
    try {
      const server = segment(parts[1]!)
      if (parts.length === 3) {
        const agents = await readAgents(kit.state, server)
        const totals = await Promise.all(
          agents.map(
            async (a) =>
              (await readFigures(kit.state, server, a.agentKey, [{ tag: 't', startMs: 0 }]))[0]!,
          ),
        )
        sendJson(res, 200, {
          server,
          agents: agents.map((a, i) => ({
            agent_key: a.agentKey,
            agent_name: a.agentName,
            totals: totals[i],
          })),
        })
        return true
      }
      const agentKey = segment(parts[3]!)
      const agentName = await readAgentName(kit.state, server, agentKey)
      if (parts[4] !== 'sentiment' && parts[4] !== 'summary') return false
      if (agentName === undefined) {
        sendJson(res, 404, {
          error: { code: 'NOT_FOUND', message: `No agent ${agentKey} in operation ${server}` },
        })
        return true
      }
      if (parts[4] === 'sentiment') {
        const g = url.searchParams.get('granularity') ?? 'hour'
        if (g !== 'hour' && g !== 'day') throw new QueryError('granularity must be hour or day')
        const from = url.searchParams.get('from')
        const to = url.searchParams.get('to')
        const fromMs = from === null ? -Infinity : parseQueryTime(from, zone)
        const toMs = to === null ? Infinity : parseQueryTime(to, zone)
        if (fromMs > toMs) throw new QueryError('from is after to')
        const granularity: Granularity = g
        const windows = await readWindows(
          kit.state,
          server,
          agentKey,
          granularity,
          zone,
          fromMs,
          toMs,
        )
        sendJson(res, 200, {
          server,
          agent_key: agentKey,
          agent_name: agentName,
          granularity,
          from: Number.isFinite(fromMs) ? new Date(fromMs).toISOString() : null,
          to: Number.isFinite(toMs) ? new Date(toMs).toISOString() : null,
          windows,
        })
        return true
      }
      const [totals] = await readFigures(kit.state, server, agentKey, [{ tag: 't', startMs: 0 }])
      const days = await readWindows(kit.state, server, agentKey, 'day', zone)
      sendJson(res, 200, {
        server,
        agent_key: agentKey,
        agent_name: agentName,
        totals,
        first_day: days[0]?.window_start ?? null,
        last_day: days[days.length - 1]?.window_start ?? null,
        active_days: days.length,
        last_day_figures: days[days.length - 1] ?? null,
      })
      return true
    } catch (error) {
      if (!(error instanceof QueryError)) throw error
      sendJson(res, 400, { error: { code: 'SENTIMENT_QUERY_INVALID', message: error.message } })
      return true
    }
  }
}
