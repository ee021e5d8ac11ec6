import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { OPERATION_STATES } from '@wolkvox-chat-stream/poller'

/** Debian's Chromium (CI installs it); `CHROMIUM_PATH` points elsewhere on other systems. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Where screenshots go: `test-artifacts/` at the repository root (git-ignored). */
export const artifactsDir = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

/**
 * Headless Chromium through playwright-core. Fails loudly, with the install command, when the
 * browser is missing: a browser test never skips.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `Chromium is missing at ${chromiumPath}, and the dashboard's browser test needs it. ` +
        'Install it with: sudo apt-get install chromium (.ci/run installs it), or set CHROMIUM_PATH.',
    )
  }
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-background-networking'],
  })
}

/** Saves a full-page screenshot as `test-artifacts/<name>.png` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(artifactsDir, { recursive: true })
  const path = `${artifactsDir}${name}.png`
  await page.screenshot({ path, fullPage: true })
  return path
}

/** The figures the page shows, read from its DOM (the `data-value` of each figure, and its text). */
export interface PageFigures {
  updatedAt: string | null
  /** `ok`, `down`, `error` or `unknown`, per service pill. */
  services: Record<string, string>
  /** The "unavailable" line of each panel, or null when the panel has its data. */
  unavailable: Record<string, string | null>
  negative: { share: string | null; shareText: string; negative: number; conversations: number }
  agents: {
    key: string
    name: string
    messages: number
    conversations: number
    endingNegative: number
    meanScore: string
    /** The text of the messages cell, as shown. */
    messagesText: string
    /**
     * The figures scored from text (customer messages without a Wolkvox feeling), in their own
     * cells: how many in all and per sentiment (null when the service gave none), their mean as
     * shown.
     */
    text: { messages: number | null; bySentiment: Record<string, number>; meanScore: string }
  }[]
  /** Non-zero cells of the trámite table. */
  tramites: { channel: string; tramite: string | null; conversations: number }[]
  channelTotals: Record<string, number>
  poller: {
    watermark: string | null
    lagSeconds: string | null
    windows: { purpose: string; from: string; to: string; published: number }[]
  }
  /** The one line about every operation of the poller (its `data-*`, and its text). */
  fleet: FleetShown
  /** Columns drawn in the selected agent's chart, and sparklines in the agents table. */
  chartBars: number
  sparklines: number
  quality: QualityShown
}

/** The states of the poller's fleet summary, in the order the page lists them. */
const FLEET_STATES = OPERATION_STATES

/** The fleet line as shown: the figures of its `data-*` (null without), and its text. */
export interface FleetShown {
  operations: number | null
  states: Record<string, number | null>
  maxLag: { server: string; seconds: number } | null
  text: string
}

/** The part of the poller's `summary` (GET /status/servers) the fleet line shows. */
export interface FleetSummaryAnswer {
  operations: number
  states: Record<string, number>
  maxLag: { server: string; seconds: number } | null
}

/** A duration as the page writes it: `42 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`. */
export function pageDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  const hours = Math.floor(s / 3600)
  return hours < 48
    ? `${hours} h ${Math.floor((s % 3600) / 60)} min`
    : `${Math.floor(hours / 24)} d ${hours % 24} h`
}

/**
 * The fleet line the page must show for the poller's summary: its figures and its text (every
 * state but `ok` when not 0, failing, paused and lagging always, then the worst lag).
 */
export function expectedFleet(summary: FleetSummaryAnswer): FleetShown {
  const labels: Record<string, string> = {
    checkpoint_missing: 'checkpoint missing',
    never_polled: 'never polled',
  }
  const always = new Set(['failing', 'paused', 'lagging'])
  const fmt = (n: number): string => n.toLocaleString('en-US')
  const parts = [`${fmt(summary.operations)} operation${summary.operations === 1 ? '' : 's'}`]
  for (const state of FLEET_STATES) {
    const n = summary.states[state] ?? 0
    if (state !== 'ok' && (n > 0 || always.has(state)))
      parts.push(`${fmt(n)} ${labels[state] ?? state}`)
  }
  parts.push(
    summary.maxLag === null
      ? 'no watermark yet'
      : `worst lag ${pageDuration(summary.maxLag.seconds)} (${summary.maxLag.server})`,
  )
  return {
    operations: summary.operations,
    states: Object.fromEntries(FLEET_STATES.map((s) => [s, summary.states[s] ?? 0])),
    maxLag: summary.maxLag,
    text: parts.join(' · '),
  }
}

/**
 * The fleet line without what moves every second (the worst lag's seconds and duration): what
 * the page and two answers of the poller a moment apart agree on.
 */
export function steadyFleet(fleet: FleetShown): {
  operations: number | null
  states: Record<string, number | null>
  maxLagServer: string | null
  text: string
} {
  return {
    operations: fleet.operations,
    states: fleet.states,
    maxLagServer: fleet.maxLag?.server ?? null,
    text: fleet.text.replace(/worst lag [^(]*\(/u, 'worst lag … ('),
  }
}

/** One row of the quality table: the `data-value` of each figure (null where it has none). */
export interface QualityRowShown {
  /** `data-agent-key`; '' for the all-agents row. */
  key: string
  name: string
  conversations: number
  p50Ms: string | null
  p90Ms: string | null
  firstResponseShare: string | null
  responseGapShare: string | null
  /** Per check column: the share passed, null where the agent has no figure for it. */
  checks: Record<string, string | null>
}

/** The quality panel as shown: all agents' figures, a row per agent, the empty state's text. */
export interface QualityShown {
  conversations: number | null
  firstResponseShare: string | null
  responseGapShare: string | null
  p50Ms: string | null
  p90Ms: string | null
  /** The headings naming the standards (their targets, as text). */
  standards: { firstResponse: string; responseGap: string }
  agents: QualityRowShown[]
  /** The all-agents row; null when there is none (no agent, or the service did not answer). */
  all: QualityRowShown | null
  /** The text of the table's empty state, or null when it shows rows. */
  empty: string | null
}

/** The little of the DOM that {@link readPage} uses (the test project has no DOM types). */
interface PageNode {
  textContent: string | null
  hidden?: boolean
  getAttribute(name: string): string | null
  closest(selector: string): PageNode | null
  querySelector(selector: string): PageNode | null
  querySelectorAll(selector: string): Iterable<PageNode>
}

/** Reads {@link PageFigures} from the page as it is now. */
export async function readPage(page: Page): Promise<PageFigures> {
  return page.evaluate((fleetStates: readonly string[]): PageFigures => {
    const document = (globalThis as unknown as { document: PageNode }).document
    type Element = PageNode
    const all = (selector: string, root: PageNode = document): Element[] => [
      ...root.querySelectorAll(selector),
    ]
    const value = (el: Element | null): string | null => el?.getAttribute('data-value') ?? null
    const num = (el: Element | null): number => Number(value(el))
    const field = (row: Element, name: string): Element | null =>
      row.querySelector(`[data-field="${name}"]`)
    const unavailable: Record<string, string | null> = {}
    for (const panel of ['poller', 'negative', 'sentiment', 'tramites', 'quality']) {
      const el = document.querySelector(`#${panel} .unavailable`)
      unavailable[panel] = el && el.hidden !== true ? (el.textContent ?? '') : null
    }
    const qualityRow = (row: Element): QualityRowShown => ({
      key: row.getAttribute('data-agent-key') ?? '',
      name: field(row, 'agent_name')?.textContent ?? '',
      conversations: num(field(row, 'conversations')),
      p50Ms: value(field(row, 'first_response_p50_ms')),
      p90Ms: value(field(row, 'first_response_p90_ms')),
      firstResponseShare: value(field(row, 'first_response_share')),
      responseGapShare: value(field(row, 'response_gap_share')),
      checks: Object.fromEntries(
        all('td[data-check]', row).map((cell) => [
          cell.getAttribute('data-check') ?? '',
          value(cell),
        ]),
      ),
    })
    const byId = (id: string): Element | null => document.querySelector(`#${id}`)
    const total = document.querySelector('#quality-agents tfoot tr')
    const conversations = value(byId('quality-conversations'))
    const quality: QualityShown = {
      conversations: conversations === null ? null : Number(conversations),
      firstResponseShare: value(byId('quality-first-response-share')),
      responseGapShare: value(byId('quality-response-gap-share')),
      p50Ms: value(byId('quality-first-response-p50')),
      p90Ms: value(byId('quality-first-response-p90')),
      standards: {
        firstResponse: byId('quality-first-response-standard')?.textContent ?? '',
        responseGap: byId('quality-response-gap-standard')?.textContent ?? '',
      },
      agents: all('#quality-agents tbody tr[data-agent-key]').map(qualityRow),
      all: total === null ? null : qualityRow(total),
      empty: document.querySelector('#quality-agents tbody td.empty')?.textContent ?? null,
    }
    const fleetEl = document.querySelector('#fleet')
    const fleetNumber = (name: string): number | null => {
      const text = fleetEl?.getAttribute(name) ?? null
      return text === null ? null : Number(text)
    }
    const maxLagServer = fleetEl?.getAttribute('data-max-lag-server') ?? null
    const fleet: FleetShown = {
      operations: fleetNumber('data-operations'),
      // The list is passed in: the page's own function cannot see this module's constants.
      states: Object.fromEntries(fleetStates.map((s) => [s, fleetNumber(`data-${s}`)])),
      maxLag:
        maxLagServer === null
          ? null
          : { server: maxLagServer, seconds: fleetNumber('data-max-lag-seconds') ?? NaN },
      text: fleetEl?.textContent?.trim() ?? '',
    }
    const channelTotals: Record<string, number> = {}
    for (const row of all('#tramite-table tbody tr')) {
      channelTotals[row.getAttribute('data-channel') ?? ''] = num(field(row, 'total'))
    }
    return {
      updatedAt: document.querySelector('#updated')?.getAttribute('data-at') ?? null,
      services: Object.fromEntries(
        all('#services li').map((li) => [
          li.getAttribute('data-service') ?? '',
          li.getAttribute('data-state') ?? '',
        ]),
      ),
      unavailable,
      negative: {
        share: value(document.querySelector('#negative-share')),
        shareText: document.querySelector('#negative-share')?.textContent ?? '',
        negative: num(document.querySelector('#negative-count')),
        conversations: num(document.querySelector('#conversation-count')),
      },
      agents: all('#agents tbody tr').map((row) => ({
        key: row.getAttribute('data-agent-key') ?? '',
        name: field(row, 'agent_name')?.textContent ?? '',
        messages: num(field(row, 'messages')),
        conversations: num(field(row, 'conversations')),
        endingNegative: num(field(row, 'conversations_ending_negative')),
        meanScore: field(row, 'mean_score')?.textContent ?? '',
        messagesText: field(row, 'messages')?.textContent ?? '',
        text: {
          messages: value(field(row, 'text_messages')) ? num(field(row, 'text_messages')) : null,
          bySentiment: Object.fromEntries(
            ['very_negative', 'negative', 'neutral', 'positive', 'very_positive'].flatMap((s) => {
              const n = field(row, 'text_messages')?.getAttribute(`data-${s}`) ?? null
              return n === null ? [] : [[s, Number(n)]]
            }),
          ),
          meanScore: field(row, 'text_mean_score')?.textContent ?? '',
        },
      })),
      tramites: all('#tramite-table tbody td[data-tramite]')
        .map((cell) => ({
          channel: cell.closest('tr')?.getAttribute('data-channel') ?? '',
          tramite: cell.getAttribute('data-tramite') || null,
          conversations: num(cell),
        }))
        .filter((c) => c.conversations > 0),
      channelTotals,
      poller: {
        watermark: value(document.querySelector('#watermark')),
        lagSeconds: value(document.querySelector('#lag')),
        windows: all('#windows tbody tr').map((row) => ({
          purpose: row.getAttribute('data-purpose') ?? '',
          from: row.getAttribute('data-from') ?? '',
          to: row.getAttribute('data-to') ?? '',
          published: num(field(row, 'published')),
        })),
      },
      fleet,
      chartBars: all('#agent-chart svg rect').length,
      sparklines: all('#agents tbody svg.sparkline polyline').length,
      quality,
    }
  }, FLEET_STATES)
}

/** The services' answers the page draws from (the parts the comparison needs). */
export interface ServiceAnswers {
  agents: {
    agents: {
      agent_key: string
      agent_name: string
      totals: {
        messages: number
        conversations: number
        conversations_ending_negative: number
        mean_score: number | null
        /** Scored from text; absent from an aggregator that does not score text. */
        messages_by_text_sentiment?: Record<string, number> | null
        text_mean_score?: number | null
      }
    }[]
  }
  tramites: {
    by_channel: { channel: string; tramite: string | null; conversations: number }[]
  }
  /** `GET /operations/:server/quality/agents` of chat quality. */
  quality: QualityAnswer
}

/** An agent's totals in chat quality's answer (its `QualityFigures`). */
export interface QualityTotals {
  conversations: number
  first_response: {
    applicable: number
    met: number
    share: number | null
    p50_ms: number | null
    p90_ms: number | null
    histogram: { le_ms: number | null; conversations: number }[]
  }
  response_gaps: { applicable: number; met: number; share: number | null }
  checks: { check: string; checked: number; passed: number; share: number | null }[]
}

/** Chat quality's answer to `GET /operations/:server/quality/agents`. */
export interface QualityAnswer {
  standards: { first_response_target_ms: number; response_gap_target_ms: number }
  agents: { agent_key: string; agent_name: string; totals: QualityTotals }[]
}

const shown = (v: number | null): string | null => (v === null ? null : String(v))
const ratio = (part: number, whole: number): number | null => (whole > 0 ? part / whole : null)

/**
 * The upper bound of the bucket holding the `q` quantile, computed here on its own from the
 * definition (chat-quality's README: the smallest bound with at least ⌈q·total⌉ values at or
 * below it; null with none, or over the last bound).
 */
function quantileOf(histogram: QualityTotals['first_response']['histogram'], q: number) {
  const total = histogram.reduce((s, b) => s + b.conversations, 0)
  if (total === 0) return null
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (const b of histogram) {
    seen += b.conversations
    if (seen >= rank) return b.le_ms
  }
  return null
}

/**
 * The quality panel the page must show for chat quality's answer: each agent's totals as
 * answered, every agent's added up (the shares and percentiles of the sums).
 */
export function expectedQuality(answer: QualityAnswer): Omit<QualityShown, 'standards'> {
  const agents = answer.agents
  const names = [...new Set(agents.flatMap((a) => a.totals.checks.map((c) => c.check)))]
  const row = (key: string, name: string, t: QualityTotals): QualityRowShown => ({
    key,
    name,
    conversations: t.conversations,
    p50Ms: shown(t.first_response.p50_ms),
    p90Ms: shown(t.first_response.p90_ms),
    firstResponseShare: shown(t.first_response.share),
    responseGapShare: shown(t.response_gaps.share),
    checks: Object.fromEntries(
      names.map((n) => [n, shown(t.checks.find((c) => c.check === n)?.share ?? null)]),
    ),
  })
  const sum = (f: (t: QualityTotals) => number): number =>
    agents.reduce((s, a) => s + f(a.totals), 0)
  const bounds = agents[0]?.totals.first_response.histogram.map((b) => b.le_ms) ?? []
  const histogram = bounds.map((le_ms, i) => ({
    le_ms,
    conversations: sum((t) => t.first_response.histogram[i]?.conversations ?? 0),
  }))
  const frMet = sum((t) => t.first_response.met)
  const frOf = sum((t) => t.first_response.applicable)
  const rgMet = sum((t) => t.response_gaps.met)
  const rgOf = sum((t) => t.response_gaps.applicable)
  const all: QualityTotals = {
    conversations: sum((t) => t.conversations),
    first_response: {
      applicable: frOf,
      met: frMet,
      share: ratio(frMet, frOf),
      p50_ms: quantileOf(histogram, 0.5),
      p90_ms: quantileOf(histogram, 0.9),
      histogram,
    },
    response_gaps: { applicable: rgOf, met: rgMet, share: ratio(rgMet, rgOf) },
    checks: names.map((check) => {
      const of = (t: QualityTotals) => t.checks.find((c) => c.check === check)
      const checked = sum((t) => of(t)?.checked ?? 0)
      const passed = sum((t) => of(t)?.passed ?? 0)
      return { check, checked, passed, share: ratio(passed, checked) }
    }),
  }
  const total = agents.length === 0 ? null : row('', 'all agents', all)
  return {
    conversations: all.conversations,
    firstResponseShare: shown(all.first_response.share),
    responseGapShare: shown(all.response_gaps.share),
    p50Ms: shown(all.first_response.p50_ms),
    p90Ms: shown(all.first_response.p90_ms),
    agents: agents.map((a) => row(a.agent_key, a.agent_name, a.totals)),
    all: total,
    empty:
      agents.length === 0
        ? 'No conversation written yet: the figures appear once chats are complete or idle.'
        : null,
  }
}

/**
 * The {@link PageFigures} the page must show for these answers (only the parts computed from
 * them), so a test compares what it read with `toEqual` and gets a readable diff.
 */
export function expectedFigures(answers: ServiceAnswers): Pick<
  PageFigures,
  'agents' | 'tramites' | 'channelTotals'
> & {
  negative: { share: string | null; negative: number; conversations: number }
  quality: Omit<QualityShown, 'standards'>
} {
  const agents = answers.agents.agents
  const negative = agents.reduce((s, a) => s + a.totals.conversations_ending_negative, 0)
  const conversations = agents.reduce((s, a) => s + a.totals.conversations, 0)
  const channelTotals: Record<string, number> = {}
  for (const r of answers.tramites.by_channel) {
    channelTotals[r.channel] = (channelTotals[r.channel] ?? 0) + r.conversations
  }
  const byCell = (a: { channel: string; tramite: string | null }, b: typeof a): number =>
    a.channel.localeCompare(b.channel) || (a.tramite ?? '').localeCompare(b.tramite ?? '')
  return {
    negative: {
      share: conversations > 0 ? String(negative / conversations) : null,
      negative,
      conversations,
    },
    agents: agents.map((a) => ({
      key: a.agent_key,
      name: a.agent_name,
      messages: a.totals.messages,
      conversations: a.totals.conversations,
      endingNegative: a.totals.conversations_ending_negative,
      meanScore: a.totals.mean_score === null ? '—' : a.totals.mean_score.toFixed(2),
      messagesText: a.totals.messages.toLocaleString('en-US'),
      text: expectedText(a.totals),
    })),
    tramites: answers.tramites.by_channel
      .filter((r) => r.conversations > 0)
      .map((r) => ({ channel: r.channel, tramite: r.tramite, conversations: r.conversations }))
      .sort(byCell),
    channelTotals,
    quality: expectedQuality(answers.quality),
  }
}

/** The text-scored cells the page must show for an agent's totals as the service answers them. */
export function expectedText(totals: {
  messages_by_text_sentiment?: Record<string, number> | null
  text_mean_score?: number | null
}): PageFigures['agents'][number]['text'] {
  const counts = totals.messages_by_text_sentiment
  if (!counts) return { messages: null, bySentiment: {}, meanScore: '—' }
  const five = ['very_negative', 'negative', 'neutral', 'positive', 'very_positive']
  const mean = totals.text_mean_score ?? null
  return {
    messages: five.reduce((sum, s) => sum + (counts[s] ?? 0), 0),
    bySentiment: Object.fromEntries(five.map((s) => [s, counts[s] ?? 0])),
    meanScore: mean === null ? '—' : mean.toFixed(2),
  }
}

/** The page's figures in the shape of {@link expectedFigures}, cells sorted the same way. */
export function comparable(shown: PageFigures): ReturnType<typeof expectedFigures> {
  return {
    negative: {
      share: shown.negative.share,
      negative: shown.negative.negative,
      conversations: shown.negative.conversations,
    },
    agents: shown.agents,
    tramites: [...shown.tramites].sort(
      (a, b) =>
        a.channel.localeCompare(b.channel) || (a.tramite ?? '').localeCompare(b.tramite ?? ''),
    ),
    channelTotals: shown.channelTotals,
    quality: withoutStandards(shown.quality),
  }
}

/** The quality panel without the headings of the standards (compared apart, as text). */
export function withoutStandards(q: QualityShown): Omit<QualityShown, 'standards'> {
  const { standards: _standards, ...rest } = q
  return rest
}
