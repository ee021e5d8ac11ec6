/*
 * `npm start` end to end, as a newcomer runs it: the orchestrator starts its own private Kafka and
 * Redis, the simulator, the poller, the three consumers (sentiment, trámites, chat quality) and the
 * dashboard on free ports; the page, in headless Chromium, shows the same numbers as the services'
 * HTTP answers; Ctrl-C (SIGINT) stops
 * everything and leaves no process behind.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isPortFree } from '@wolkvox-chat-stream/dev-stack'
import {
  comparable,
  expectedFigures,
  expectedFleet,
  launchChromium,
  readPage,
  screenshot,
  steadyFleet,
  type FleetSummaryAnswer,
  type ServiceAnswers,
} from '../support/dashboard-browser.js'
import type { FcrFigures } from '@wolkvox-chat-stream/chat-quality'
import { leftovers, startPipeline, type StartProcess } from '../support/dashboard-start.js'
import { getJson, type StatusDocument } from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const SERVER = '0010'

/** Chat quality's FCR answer, grouped by trámite or by channel. */
interface FcrAnswer {
  by: string
  from: string
  to: string
  totals: FcrFigures
  groups: { key: string | null; totals: FcrFigures }[]
}

/** A set of FCR figures as the page shows them: each figure's `data-value` (null where none). */
interface FcrFiguresShown {
  conversations: string | null
  resolved: string | null
  repeated: string | null
  pending: string | null
  noIdentity: string | null
  rate: string | null
}

/** The FCR panel as shown: its totals and a row per group of each table. */
interface FcrShown {
  unavailable: string | null
  totals: FcrFiguresShown
  tramites: { key: string | null; label: string; figures: FcrFiguresShown }[]
  channels: { key: string | null; label: string; figures: FcrFiguresShown }[]
}

/** Reads the FCR panel from the page as it is now. */
async function readFcr(page: Page): Promise<FcrShown> {
  return page.evaluate((): FcrShown => {
    interface Node {
      textContent: string | null
      hidden?: boolean
      getAttribute(name: string): string | null
      querySelector(selector: string): Node | null
      querySelectorAll(selector: string): Iterable<Node>
    }
    const document = (globalThis as unknown as { document: Node }).document
    const value = (el: Node | null): string | null => el?.getAttribute('data-value') ?? null
    const figures = (of: (name: string, id: string) => Node | null): FcrFiguresShown => ({
      conversations: value(of('conversations', 'conversations')),
      resolved: value(of('resolved', 'resolved')),
      repeated: value(of('repeated', 'repeated')),
      pending: value(of('pending', 'pending')),
      noIdentity: value(of('no_identity', 'no-identity')),
      rate: value(of('rate', 'rate')),
    })
    const rows = (table: string) =>
      [...document.querySelectorAll(`#${table} tbody tr[data-key]`)].map((row) => ({
        key: row.getAttribute('data-key') || null,
        label: row.querySelector('[data-field="key"]')?.textContent ?? '',
        figures: figures((name) => row.querySelector(`[data-field="${name}"]`)),
      }))
    const unavailable = document.querySelector('#fcr .unavailable')
    return {
      unavailable: unavailable && unavailable.hidden !== true ? unavailable.textContent : null,
      totals: figures((_, id) => document.querySelector(`#fcr-${id}`)),
      tramites: rows('fcr-tramites'),
      channels: rows('fcr-channels'),
    }
  })
}

/** What the FCR panel must show for chat quality's answers by trámite and by channel. */
function expectedFcr(byTramite: FcrAnswer, byChannel: FcrAnswer): FcrShown {
  const shown = (v: number | null): string | null => (v === null ? null : String(v))
  const figures = (t: FcrFigures): FcrFiguresShown => ({
    conversations: shown(t.conversations),
    resolved: shown(t.resolved),
    repeated: shown(t.repeated),
    pending: shown(t.pending),
    noIdentity: shown(t.no_identity),
    rate: shown(t.rate),
  })
  return {
    unavailable: null,
    totals: figures(byTramite.totals),
    tramites: byTramite.groups.map((g) => ({
      key: g.key,
      label: g.key ?? '(none)',
      figures: figures(g.totals),
    })),
    channels: byChannel.groups.map((g) => ({
      key: g.key,
      label: g.key!,
      figures: figures(g.totals),
    })),
  }
}

describe('npm start and the live page', () => {
  const runDir = mkdtempSync(join(tmpdir(), 'wolkvox-start-'))
  let pipeline: StartProcess
  let browser: Browser | undefined
  let page: Page

  beforeAll(async () => {
    browser = await launchChromium()
    // One live poll (the first, a day back) and no other: the figures then hold still.
    pipeline = startPipeline(runDir, { POLL_INTERVAL: '1h', DASHBOARD_REFRESH: '1s' })
    await pipeline.line(/^Ready in /u, 240_000)
  }, 300_000)

  afterAll(async () => {
    await browser?.close()
    if (pipeline && pipeline.process.exitCode === null && pipeline.process.signalCode === null) {
      pipeline.process.kill('SIGINT')
      await pipeline.exited
    }
    rmSync(runDir, { recursive: true, force: true })
  }, 120_000)

  it('prints where each part listens and what to open', () => {
    const record = pipeline.record()
    const output = pipeline.output()
    expect(record.parts.map((p) => p.name)).toEqual([
      'simulator',
      'poller',
      'sentiment',
      'classifier',
      'quality',
      'dashboard',
    ])
    for (const part of record.parts) {
      expect(output).toMatch(new RegExp(`^  ${part.name} +${part.url} `, 'mu'))
      expect(part.log.startsWith(runDir)).toBe(true)
    }
    expect(output).toContain(`logs       ${runDir}`)
    expect(output).toContain(`kafka      ${record.kafkaBrokers}`)
    expect(output).toContain(`redis      ${record.redisUrl}`)
    expect(output).toContain(`Open ${pipeline.url('dashboard')}/ — Ctrl-C stops everything.`)
  })

  it('shows the services’ numbers on the page once the first poll is in', async () => {
    page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } })
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${pipeline.url('dashboard')}/`)

    // The first aggregate visible on the page.
    await waitFor(async () => (await readPage(page)).negative.conversations > 0, {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: 'the page to show conversations',
    })
    const firstOnPageMs = Date.now() - pipeline.startedAtMs

    const poller = pipeline.url('poller')
    const sentiment = pipeline.url('sentiment')
    const classifier = pipeline.url('classifier')
    const quality = pipeline.url('quality')
    const answers = async (): Promise<
      ServiceAnswers & {
        status: StatusDocument
        servers: { summary: FleetSummaryAnswer; servers: { server: string }[] }
        fcrTramite: FcrAnswer
        fcrChannel: FcrAnswer
      }
    > => ({
      agents: await getJson(`${sentiment}/operations/${SERVER}/agents`),
      tramites: await getJson(`${classifier}/operations/${SERVER}/tramites`),
      quality: await getJson(`${quality}/operations/${SERVER}/quality/agents?limit=1000`),
      fcrTramite: await getJson(`${quality}/operations/${SERVER}/fcr?by=tramite`),
      fcrChannel: await getJson(`${quality}/operations/${SERVER}/fcr?by=channel`),
      status: await getJson(`${poller}/status`),
      servers: await getJson(`${poller}/status/servers`),
    })
    const expected = (a: Awaited<ReturnType<typeof answers>>) => ({
      ...expectedFigures(a),
      fcr: expectedFcr(a.fcrTramite, a.fcrChannel),
      fleet: steadyFleet(expectedFleet(a.servers.summary)),
    })
    // Consumers catch up within seconds; wait until the page, refreshed since, agrees with them.
    let last: { shown: ReturnType<typeof expected>; expected: ReturnType<typeof expected> }
    let status: StatusDocument | undefined
    let fleet: FleetSummaryAnswer | undefined
    let fcrAnswers: { byTramite: FcrAnswer; byChannel: FcrAnswer } | undefined
    const agreed = await waitFor(
      async () => {
        const before = await answers()
        const shown = await readPage(page)
        const fcr = await readFcr(page)
        const after = await answers()
        status = after.status
        fleet = after.servers.summary
        fcrAnswers = { byTramite: after.fcrTramite, byChannel: after.fcrChannel }
        last = {
          shown: { ...comparable(shown), fcr, fleet: steadyFleet(shown.fleet) },
          expected: expected(after),
        }
        const settled = isDeepStrictEqual(expected(before), last.expected)
        const agree =
          settled &&
          shown.updatedAt !== null &&
          after.tramites.by_channel.length > 0 &&
          after.quality.agents.length > 0 &&
          isDeepStrictEqual(last.shown, last.expected)
        return agree ? { ...shown, fcr } : undefined
      },
      { timeoutMs: 120_000, intervalMs: 1_000, what: 'the page to agree with the services' },
    ).catch(() => undefined)
    expect(last!.shown).toEqual(last!.expected)
    expect(agreed, 'the page and the services agreed while the figures held still').toBeTruthy()
    const shown = agreed!

    expect(shown.agents.length).toBeGreaterThan(0)
    expect(shown.negative.conversations).toBeGreaterThan(0)
    expect(shown.tramites.length).toBeGreaterThan(0)
    expect(shown.negative.shareText).toBe(
      `${((shown.negative.negative / shown.negative.conversations) * 100).toFixed(1)} %`,
    )
    // The poller's last windows and lag, as /status tells them.
    const operation = status!.operations.find((o) => o.server === SERVER)!
    const live = (
      operation as unknown as {
        lastSuccess: { live: { window: { from: string; to: string }; published: number } }
      }
    ).lastSuccess.live
    expect(shown.poller.watermark).toBe(operation.watermark)
    expect(shown.poller.windows).toContainEqual({
      purpose: 'live',
      from: live.window.from,
      to: live.window.to,
      published: live.published,
    })
    expect(Number(shown.poller.lagSeconds)).toBeGreaterThan(0)
    // The fleet line: one operation, and its lag as the summary's worst (compared above but for
    // the seconds, which move between the page's refresh and the answer).
    expect(shown.fleet.operations).toBe(1)
    expect(fleet!.operations).toBe(1)
    expect(shown.fleet.maxLag?.server).toBe(SERVER)
    expect(Math.abs(shown.fleet.maxLag!.seconds - fleet!.maxLag!.seconds)).toBeLessThanOrEqual(60)
    // Sentiment over time: the selected agent's hourly columns and a sparkline per agent.
    expect(shown.chartBars).toBeGreaterThan(0)
    expect(shown.sparklines).toBe(shown.agents.length)
    // Figures scored from text (customer messages without a Wolkvox feeling), in their own
    // cells: as the aggregator answers them (compared above), and some there.
    expect(shown.agents.some((a) => (a.text.messages ?? 0) > 0)).toBe(true)
    // Chat quality: each agent's totals and all agents' together, as the service answers them
    // (compared above); the standards in force are its defaults.
    expect(shown.quality.agents.length).toBeGreaterThan(0)
    expect(shown.quality.conversations).toBeGreaterThan(0)
    expect(shown.quality.firstResponseShare).not.toBeNull()
    expect(Object.keys(shown.quality.all!.checks).length).toBeGreaterThan(0)
    expect(shown.quality.standards).toEqual({
      firstResponse: 'First response within 1 min',
      responseGap: 'Every turn answered within 2 min',
    })
    expect(shown.quality.empty).toBeNull()
    // First-contact resolution: the totals and a row per trámite and per channel, as the service
    // answers them (compared above, whatever the figures: few conversations may be decided yet).
    const { byTramite, byChannel } = fcrAnswers!
    expect(byChannel.totals).toEqual(byTramite.totals)
    expect(byTramite.totals.conversations).toBe(
      byTramite.groups.reduce((sum, g) => sum + g.totals.conversations, 0),
    )
    expect(shown.fcr.unavailable).toBeNull()
    expect(shown.fcr.totals.conversations).toBe(String(byTramite.totals.conversations))
    expect(shown.fcr.tramites).toHaveLength(byTramite.groups.length)
    expect(shown.fcr.channels).toHaveLength(byChannel.groups.length)
    if (byTramite.groups.length > 0) expect(shown.fcr.tramites.length).toBeGreaterThan(0)
    if (byChannel.groups.length > 0) expect(shown.fcr.channels.length).toBeGreaterThan(0)
    expect(await page.locator('#fcr h2').textContent()).toBe('First-contact resolution')
    expect(shown.services).toEqual({
      poller: 'ok',
      sentiment: 'ok',
      classifier: 'ok',
      quality: 'ok',
    })
    expect(Object.values(shown.unavailable)).toEqual([null, null, null, null, null])
    expect(errors).toEqual([])
    const file = await screenshot(page, 'dashboard')
    const ownMeasure = pipeline.record().firstAggregateMs
    process.stderr.write(
      `[dashboard-start] first aggregate on the page ${(firstOnPageMs / 1000).toFixed(1)} s after npm start ` +
        `(npm start's own measure: ${ownMeasure === null ? 'none' : `${(ownMeasure / 1000).toFixed(1)} s`}); screenshot: ${file}\n`,
    )
  }, 360_000)

  it('stops everything on SIGINT, leaving no process behind', async () => {
    const record = pipeline.record()
    const pids = [
      record.pid,
      ...record.parts.map((p) => p.pid),
      ...(record.kafka ? [record.kafka.pid] : []),
      ...(record.redis ? [record.redis.pid] : []),
    ]
    expect(pids.length).toBe(9)
    expect(leftovers(pids).length).toBeGreaterThanOrEqual(9)
    pipeline.process.kill('SIGINT')
    const { code } = await pipeline.exited
    expect(code).toBe(0)
    expect(pipeline.output()).toContain('Everything stopped.')
    const stopped = pipeline
      .output()
      .split('\n')
      .filter((l) => /^ {2}stopped /u.test(l))
    expect(stopped.map((l) => l.trim().split(/\s+/u)[1])).toEqual([
      'dashboard',
      'quality',
      'classifier',
      'sentiment',
      'poller',
      'simulator',
      'kafka',
      'redis',
    ])
    expect(leftovers(pids)).toEqual([])
    for (const part of record.parts)
      expect(await isPortFree(Number(new URL(part.url).port))).toBe(true)
  }, 120_000)
})
