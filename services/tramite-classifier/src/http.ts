/*
 * The HTTP API (README: HTTP API): counts per day, channel and trámite; one conversation's
 * classification; the rules in force and their reload. JSON; errors as `{ error: { code, message } }`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isAppError, type ErrorCode } from '@wolkvox-chat-stream/errors'
import { sendJson, type RouteContext, type ServiceRoute } from '@wolkvox-chat-stream/service-kit'
import { localDate, parseQueryTime, parseWallClock } from '@wolkvox-chat-stream/zoned-time'
import { classify, fingerprint } from './conversation.js'
import { readConversation, readCounts, type CountLine } from './queries.js'
import type { RulesHolder } from './rules-holder.js'

class QueryError extends Error {}

const fail = (res: ServerResponse, status: number, code: ErrorCode, message: string): true => {
  sendJson(res, status, { error: { code, message } })
  return true
}

/**
 * A query day: `YYYY-MM-DD` as it is, or a time (as the sentiment API reads them: ISO 8601, or
 * `YYYYmmddHHiiss` / ISO without an offset in `zone`) as its local day in `zone`.
 */
export function parseQueryDay(text: string, zone: string): string {
  const trimmed = text.trim()
  if (/^\d{4}-\d\d-\d\d$/u.test(trimmed)) {
    if (parseWallClock(`${trimmed} 00:00:00`) === undefined)
      throw new QueryError(`${JSON.stringify(text)} is not a day`)
    return trimmed
  }
  const ms = parseQueryTime(trimmed, zone)
  if (ms === undefined)
    throw new QueryError(
      `${JSON.stringify(text)} is not a day or a time: use YYYY-MM-DD, ISO 8601 or YYYYmmddHHiiss (without an offset, in ${zone})`,
    )
  return localDate(ms, zone)
}

const segment = (part: string): string => {
  try {
    return decodeURIComponent(part)
  } catch {
    throw new QueryError(`${JSON.stringify(part)} is not a valid path segment`)
  }
}

/** Orders trámites with unclassified (null) last. */
const byTramite = (a: string | null, b: string | null): number =>
  a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** The counts answer: lines, totals per trámite and per channel and trámite. */
export function summarizeCounts(lines: readonly CountLine[]): {
  counts: CountLine[]
  totals: { tramite: string | null; conversations: number }[]
  by_channel: { channel: string; tramite: string | null; conversations: number }[]
} {
  const counts = [...lines].sort(
    (a, b) =>
      byText(a.day, b.day) || byText(a.channel, b.channel) || byTramite(a.tramite, b.tramite),
  )
  const totals = new Map<string | null, number>()
  const channels = new Map<
    string,
    { channel: string; tramite: string | null; conversations: number }
  >()
  for (const line of counts) {
    totals.set(line.tramite, (totals.get(line.tramite) ?? 0) + line.conversations)
    const id = JSON.stringify([line.channel, line.tramite])
    const entry = channels.get(id) ?? {
      channel: line.channel,
      tramite: line.tramite,
      conversations: 0,
    }
    entry.conversations += line.conversations
    channels.set(id, entry)
  }
  return {
    counts,
    totals: [...totals]
      .map(([tramite, conversations]) => ({ tramite, conversations }))
      .sort((a, b) => b.conversations - a.conversations || byTramite(a.tramite, b.tramite)),
    by_channel: [...channels.values()].sort(
      (a, b) =>
        byText(a.channel, b.channel) ||
        b.conversations - a.conversations ||
        byTramite(a.tramite, b.tramite),
    ),
  }
}

/** The classifier's routes, for `createConsumerService({ routes })`. */
export function classifierRoutes(options: { rules: RulesHolder; zone: string }): ServiceRoute {
  const { rules, zone } = options
  const reading = (req: IncomingMessage): boolean => req.method === 'GET' || req.method === 'HEAD'

  return async (req: IncomingMessage, res: ServerResponse, kit: RouteContext) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const parts = url.pathname.split('/').filter((p) => p !== '')
    try {
      if (parts[0] === 'rules' && parts.length === 1) {
        if (!reading(req)) return fail(res, 405, 'TRAMITE_QUERY_INVALID', 'GET only')
        const { version, file, loadedAt, ruleSet } = rules.current
        sendJson(res, 200, {
          version,
          file,
          loaded_at: loadedAt.toISOString(),
          tramites: ruleSet.tramites,
        })
        return true
      }
      if (parts[0] === 'rules' && parts[1] === 'reload' && parts.length === 2) {
        if (req.method !== 'POST') return fail(res, 405, 'TRAMITE_QUERY_INVALID', 'POST only')
        try {
          const { version, previous_version } = rules.reload('http')
          sendJson(res, 200, { version, previous_version })
        } catch (error) {
          if (!isAppError(error)) throw error
          fail(res, 400, error.code, error.message)
        }
        return true
      }
      if (parts[0] !== 'operations' || parts.length < 3) return false
      const tramites = parts.length === 3 && parts[2] === 'tramites'
      const conversation =
        parts.length === 5 && parts[2] === 'conversations' && parts[4] === 'tramite'
      if (!tramites && !conversation) return false
      if (!reading(req)) return fail(res, 405, 'TRAMITE_QUERY_INVALID', 'GET only')
      const server = segment(parts[1]!)

      if (conversation) {
        const connId = segment(parts[3]!)
        const state = await readConversation(kit.state, server, connId)
        if (state === undefined)
          return fail(
            res,
            404,
            'TRAMITE_CONVERSATION_NOT_FOUND',
            `No conversation ${connId} in operation ${server}`,
          )
        const classified = classify(state)
        const emitted =
          state.emitted !== undefined &&
          state.emitted.fingerprint === fingerprint(classified) &&
          state.emitted.version === classified.rule_set_version
        sendJson(res, 200, {
          server,
          conn_id: connId,
          channel: classified.channel,
          started_at: new Date(classified.started_at).toISOString(),
          primary_tramite: classified.primary_tramite,
          labels: classified.labels,
          explanations: classified.explanations,
          rule_set_version: classified.rule_set_version,
          complete: classified.complete,
          emitted,
          classified_at: new Date(
            emitted ? state.emitted!.classifiedAtMs : Date.now(),
          ).toISOString(),
        })
        return true
      }

      const param = (name: string): string | undefined => {
        const value = url.searchParams.get(name)
        return value === null || value.trim() === '' ? undefined : value
      }
      const fromText = param('from')
      const toText = param('to')
      const from = fromText === undefined ? null : parseQueryDay(fromText, zone)
      const to = toText === undefined ? null : parseQueryDay(toText, zone)
      if (from !== null && to !== null && from > to)
        throw new QueryError(`from (${from}) is after to (${to})`)
      const channel = param('channel')?.trim().toLowerCase() ?? null
      const version = param('rules_version') ?? rules.current.version
      const lines = (await readCounts(kit.state, server, version)).filter(
        (l) =>
          (from === null || l.day >= from) &&
          (to === null || l.day <= to) &&
          (channel === null || l.channel === channel),
      )
      sendJson(res, 200, {
        server,
        rules_version: version,
        from,
        to,
        channel,
        ...summarizeCounts(lines),
      })
      return true
    } catch (error) {
      if (!(error instanceof QueryError)) throw error
      return fail(res, 400, 'TRAMITE_QUERY_INVALID', error.message)
    }
  }
}
