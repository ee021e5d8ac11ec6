import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'

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
  }[]
  /** Non-zero cells of the trámite table. */
  tramites: { channel: string; tramite: string | null; conversations: number }[]
  channelTotals: Record<string, number>
  poller: {
    watermark: string | null
    lagSeconds: string | null
    windows: { purpose: string; from: string; to: string; published: number }[]
  }
  /** Columns drawn in the selected agent's chart, and sparklines in the agents table. */
  chartBars: number
  sparklines: number
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
  return page.evaluate((): PageFigures => {
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
    for (const panel of ['poller', 'negative', 'sentiment', 'tramites']) {
      const el = document.querySelector(`#${panel} .unavailable`)
      unavailable[panel] = el && el.hidden !== true ? (el.textContent ?? '') : null
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
      chartBars: all('#agent-chart svg rect').length,
      sparklines: all('#agents tbody svg.sparkline polyline').length,
    }
  })
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
      }
    }[]
  }
  tramites: {
    by_channel: { channel: string; tramite: string | null; conversations: number }[]
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
    })),
    tramites: answers.tramites.by_channel
      .filter((r) => r.conversations > 0)
      .map((r) => ({ channel: r.channel, tramite: r.tramite, conversations: r.conversations }))
      .sort(byCell),
    channelTotals,
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
  }
}
