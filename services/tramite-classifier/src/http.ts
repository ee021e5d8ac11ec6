/*
 * The HTTP API (README: HTTP API): counts per day, channel and trámite; one conversation's
 * classification; the rules in force and their reload. JSON; errors as `{ error: { code, message } }`.
 */
import { hasControlCharacter } from '@wolkvox-chat-stream/config'
import {
  connIdParser,
  createRouter,
  cursorParser,
  HttpError,
  InputError,
  limitParser,
  pageOf,
  route,
  serverParser,
  type Parser,
} from '@wolkvox-chat-stream/observability'
import type { RouteContext, ServiceRoute } from '@wolkvox-chat-stream/service-kit'
import { localDate, parseTimeBound } from '@wolkvox-chat-stream/zoned-time'
import { classify, fingerprint } from './conversation.js'
import { readConversation, readCounts, type CountLine } from './queries.js'
import { rulesRoutes, type RulesHolder } from '@wolkvox-chat-stream/keyword-rules'

/** Count lines per page: `limit` defaults to this… */
export const DEFAULT_COUNTS_LIMIT = 1000
/** …and may not exceed this. */
export const MAX_COUNTS_LIMIT = 10_000

/**
 * A query day (README: Times and ranges): a day `YYYY-MM-DD` as it is, or any other time as its
 * local day in `zone`. The counts' range is of whole days, `from` and `to` both included.
 * @throws InputError naming the text and the accepted forms.
 */
export function parseQueryDay(text: string, zone: string, nowMs: number = Date.now()): string {
  const parsed = parseTimeBound(text, zone, { nowMs, bound: 'from' })
  if (!parsed.ok) throw new InputError(parsed.error)
  return localDate(parsed.ms, zone)
}

/**
 * Why a selection of the counts is empty. Counts are kept per rules version, and a chat is counted
 * under the rules that classified it: after a reload the new version starts with none, and only
 * `reclassify` counts the chats classified before under it.
 */
export function emptyCountsNote(
  version: string,
  current: { version: string; loadedAt: Date },
): string {
  if (version !== current.version)
    return `No conversation of this selection is counted under rules ${version}; the rules in force are ${current.version} (each rules version keeps its own counts).`
  return (
    `No conversation of this selection is counted under rules ${version} (in force, loaded ${current.loadedAt.toISOString()}): ` +
    `each rules version keeps its own counts, and a version put in force by a reload counts only the conversations classified from then on. ` +
    `Chats classified before under another version are counted under it (query it with rules_version); ` +
    `to count them under ${version}, run: npm run classifier -- reclassify --from <day> --to <day>`
  )
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

/** A channel as the counts hold it: lower-case, at most 64 characters. */
const channelParser: Parser<string> = (text) => {
  const channel = text.trim().toLowerCase()
  if (channel.length > 64 || hasControlCharacter(channel))
    throw new InputError('channel must be at most 64 characters with no control character')
  return channel
}

/** A rule set version as the rules file names it. */
const versionParser: Parser<string> = (text) => {
  if (text.length > 128 || hasControlCharacter(text))
    throw new InputError('rules_version must be at most 128 characters with no control character')
  return text
}

/** The sort key of a count line, for its cursor: day, channel, then trámite (unclassified last). */
const countKey = (line: CountLine): string =>
  `${line.day}\u0000${line.channel}\u0000${line.tramite === null ? '\uffff' : `\u0001${line.tramite}`}`

/** The classifier's routes, for `createConsumerService({ routes })`. */
export function classifierRoutes(options: { rules: RulesHolder; zone: string }): ServiceRoute {
  const { rules, zone } = options
  const day: Parser<string> = (text) => parseQueryDay(text, zone)

  return createRouter<RouteContext>(
    [
      ...rulesRoutes<RouteContext>(rules, 'tramites'),
      route<RouteContext, { server: string; connId: string }>({
        method: 'GET',
        path: '/operations/:server/conversations/:connId/tramite',
        params: { server: serverParser, connId: connIdParser },
        async handle({ params: { server, connId } }, kit) {
          const state = await readConversation(kit.state, server, connId)
          if (state === undefined)
            throw new HttpError(
              404,
              'TRAMITE_CONVERSATION_NOT_FOUND',
              `No conversation ${connId} in operation ${server}`,
            )
          const classified = classify(state)
          const emitted =
            state.emitted !== undefined &&
            state.emitted.fingerprint === fingerprint(classified) &&
            state.emitted.version === classified.rule_set_version
          return {
            status: 200,
            body: {
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
            },
          }
        },
      }),
      route<
        RouteContext,
        { server: string },
        {
          from: string
          to: string
          channel: string
          rules_version: string
          limit: number
          cursor: string
        }
      >({
        method: 'GET',
        path: '/operations/:server/tramites',
        params: { server: serverParser },
        query: {
          from: day,
          to: day,
          channel: channelParser,
          rules_version: versionParser,
          limit: limitParser(MAX_COUNTS_LIMIT),
          cursor: cursorParser,
        },
        async handle({ params: { server }, query }, kit) {
          const from = query.from ?? null
          const to = query.to ?? null
          if (from !== null && to !== null && from > to)
            throw new InputError(`from (${from}) is after to (${to})`)
          const channel = query.channel ?? null
          const version = query.rules_version ?? rules.current.version
          const lines = (await readCounts(kit.state, server, version)).filter(
            (l) =>
              (from === null || l.day >= from) &&
              (to === null || l.day <= to) &&
              (channel === null || l.channel === channel),
          )
          const summary = summarizeCounts(lines)
          const page = pageOf(summary.counts, countKey, {
            limit: query.limit ?? DEFAULT_COUNTS_LIMIT,
            after: query.cursor,
          })
          return {
            status: 200,
            body: {
              server,
              rules_version: version,
              rules_in_force: rules.current.version,
              from,
              to,
              channel,
              ...summary,
              counts: page.items,
              next_cursor: page.next_cursor,
              note: lines.length > 0 ? null : emptyCountsNote(version, rules.current),
            },
          }
        },
      }),
    ],
    { invalidCode: 'TRAMITE_QUERY_INVALID' },
  )
}
