/*
 * The dashboard on its own, against stand-in services on real HTTP ports: the same-origin proxy
 * (GET only, three fixed prefixes, the service's answer passed on, a clear 502 or 504 when a
 * service is down or slow), the page's files and health endpoints, and the page in headless
 * Chromium with the classifier down: the other panels still show their figures; the chat quality
 * panel shows a stand-in's answer, then a clear empty state once it stops answering. Then the page
 * behind a token (HTTP_AUTH_TOKEN_FILE, asked as a password) with the services' own token sent by
 * the proxy only (DASHBOARD_UPSTREAM_TOKEN_FILE).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, get, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { figuresOf } from '@wolkvox-chat-stream/chat-quality'
import { createDashboard, readDashboardConfig } from '@wolkvox-chat-stream/dashboard'
import { freePort } from '@wolkvox-chat-stream/dev-stack'
import {
  createLogger,
  createMetricsRegistry,
  type HttpServer,
} from '@wolkvox-chat-stream/observability'
import {
  expectedFleet,
  expectedQuality,
  launchChromium,
  readPage,
  screenshot,
  withoutStandards,
  type QualityAnswer,
} from '../support/dashboard-browser.js'
import { waitFor } from '../support/wait-for.js'

const HOUR = 3_600_000

/** A stand-in service: JSON by path, a slow path that never answers, a huge one. */
async function standIn(routes: Record<string, unknown>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!
    if (path === '/slow') return // never answers
    if (path === '/huge') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(Buffer.alloc(9 * 1024 * 1024, 0x20))
      return
    }
    if (path === '/busy') {
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': '3',
        'www-authenticate': 'Bearer realm="x"',
      })
      res.end(JSON.stringify({ error: { code: 'HTTP_RATE_LIMITED', message: 'slow down' } }))
      return
    }
    const body = routes[path]
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body ?? { error: { code: 'NOT_FOUND', message: `no ${path}` } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

/** The status of a GET whose path is sent exactly as written. */
async function rawStatus(url: string): Promise<number | undefined> {
  const { host, port } = new URL(url)
  const path = url.slice(url.indexOf('/', 'http://'.length))
  return new Promise((resolve, reject) => {
    get({ host: host.split(':')[0], port, path }, (res) => {
      res.resume()
      resolve(res.statusCode)
    }).on('error', reject)
  })
}

const figures = (
  messages: number,
  conversations: number,
  negative: number,
  mean: number,
  text?: { counts: Record<string, number>; mean: number | null },
) => ({
  messages,
  messages_by_sentiment: {
    very_negative: 1,
    negative: 2,
    neutral: messages - 6,
    positive: 2,
    very_positive: 1,
    unknown: 0,
  },
  messages_by_sender: { customer: messages, agent: 0, bot: 0, other: 0 },
  conversations,
  mean_score: mean,
  conversations_ending_negative: negative,
  // Scored from text (the aggregator's second source); absent as an older aggregator answers.
  ...(text === undefined
    ? {}
    : {
        messages_by_text_sentiment: { ...text.counts, unknown: 0 },
        text_mean_score: text.mean,
      }),
})
/** Ana María's messages without a Wolkvox feeling, scored from their text. */
const anaText = {
  counts: { very_negative: 2, negative: 3, neutral: 4, positive: 1, very_positive: 0 },
  mean: (2 * -2 + 3 * -1 + 1) / 10,
}

/** An agent's quality totals as chat quality computes them from its counters (queries.ts). */
const qualityTotals = (counters: Record<string, number>) =>
  figuresOf(new Map(Object.entries(counters)))

/**
 * Chat quality's answer for two agents. Ana María: 36 of 40 chats with a customer message, first
 * responses 10 within 5 s, 8 within 15 s, 9 within 60 s, 6 within 2 min, 3 over an hour. Luis: 3
 * of 4, one within 45 s and two over an hour (his percentiles are past the last bound), and a
 * check Ana María was never checked for.
 */
const qualityAnswer: QualityAnswer = {
  standards: { first_response_target_ms: 60_000, response_gap_target_ms: 120_000 },
  agents: [
    {
      agent_key: 'ana maría',
      agent_name: 'Ana María',
      totals: qualityTotals({
        n: 40,
        fr: 36,
        'fr.ok': 27,
        rg: 36,
        'rg.ok': 20,
        'frb.0': 10,
        'frb.2': 8,
        'frb.6': 9,
        'frb.8': 6,
        'frb.14': 3,
        'c.saludo': 40,
        'c.saludo.ok': 38,
        'c.despedida': 40,
        'c.despedida.ok': 30,
      }),
    },
    {
      agent_key: 'luis',
      agent_name: 'LUIS',
      totals: qualityTotals({
        n: 4,
        fr: 3,
        'fr.ok': 1,
        rg: 3,
        'rg.ok': 1,
        'frb.5': 1,
        'frb.14': 2,
        'c.saludo': 4,
        'c.saludo.ok': 4,
        'c.identificacion': 4,
        'c.identificacion.ok': 1,
        'c.despedida': 4,
      }),
    },
  ],
}

/** The poller's fleet summary (GET /status, GET /status/servers) of three operations. */
const fleetSummary = {
  operations: 3,
  states: { checkpoint_missing: 0, paused: 1, failing: 0, lagging: 1, never_polled: 0, ok: 1 },
  lagThresholdSeconds: 1020,
  maxLag: { server: '0010', seconds: 7_200 },
  quota: { used: 12, budget: 3000 },
  lastPollAt: new Date().toISOString(),
  lastError: null,
}

/** The same with no operation. */
const emptySummary = {
  ...fleetSummary,
  operations: 0,
  states: { checkpoint_missing: 0, paused: 0, failing: 0, lagging: 0, never_polled: 0, ok: 0 },
  maxLag: null,
  quota: { used: 0, budget: 0 },
  lastPollAt: null,
}

describe('the dashboard', () => {
  let poller: Awaited<ReturnType<typeof standIn>>
  let sentiment: Awaited<ReturnType<typeof standIn>>
  let quality: Awaited<ReturnType<typeof standIn>>
  let classifierUrl: string
  let dashboard: HttpServer
  let base: string
  let browser: Browser | undefined
  const registry = createMetricsRegistry({ defaultLabels: { service: 'dashboard' } })
  const hour = Math.floor(Date.now() / HOUR) * HOUR
  const watermark = new Date(hour - 2 * HOUR).toISOString()

  beforeAll(async () => {
    poller = await standIn({
      // Every operation's state: the picker and the fleet line.
      '/status/servers': {
        generatedAt: new Date().toISOString(),
        summary: fleetSummary,
        servers: [
          { server: '0010', state: 'lagging', watermark, lagSeconds: 7_200 },
          { server: '0020', state: 'paused', watermark: null, lagSeconds: null },
          { server: '0030', state: 'ok', watermark, lagSeconds: 60 },
        ],
      },
      // The stand-in answers any query so: the page asks for ?server=0010 only.
      '/status': {
        generatedAt: new Date().toISOString(),
        summary: fleetSummary,
        page: { offset: 0, limit: 50, total: 1, next: null },
        operations: [
          {
            server: '0010',
            timeZone: 'America/Bogota',
            watermark,
            lagSeconds: 7_200,
            lastSuccess: {
              live: {
                at: new Date().toISOString(),
                window: { from: new Date(hour - 26 * HOUR).toISOString(), to: watermark },
                published: 4321,
              },
            },
            lastError: null,
            quota: { used: 5, budget: 1000 },
          },
        ],
      },
    })
    const agent = (key: string, name: string, totals: ReturnType<typeof figures>) => ({
      agent_key: key,
      agent_name: name,
      totals,
    })
    const windows = (n: number) => ({
      windows: [
        { window_start: new Date(hour - HOUR).toISOString(), ...figures(20 + n, 3, 1, -0.4) },
        { window_start: new Date(hour).toISOString(), ...figures(12 + n, 2, 0, 0.5) },
      ],
    })
    sentiment = await standIn({
      '/operations/0010/agents': {
        server: '0010',
        agents: [
          agent('ana maría', 'Ana María', figures(1234, 40, 10, 0.25, anaText)),
          agent('luis', 'LUIS', figures(80, 4, 0, -0.125)),
        ],
      },
      '/operations/0010/agents/ana%20mar%C3%ADa/sentiment': windows(1),
      '/operations/0010/agents/luis/sentiment': windows(2),
    })
    quality = await standIn({
      '/operations/0010/quality/agents': { server: '0010', ...qualityAnswer, next_cursor: null },
    })
    classifierUrl = `http://127.0.0.1:${await freePort()}` // nothing listens there
    const config = readDashboardConfig({
      HTTP_PORT: '0',
      POLLER_URL: poller.url,
      SENTIMENT_URL: sentiment.url,
      CLASSIFIER_URL: classifierUrl,
      QUALITY_URL: quality.url,
      DASHBOARD_PROXY_TIMEOUT: '500ms',
      DASHBOARD_REFRESH: '1s',
    })
    dashboard = createDashboard({
      config,
      registry,
      logger: createLogger({ name: 'dashboard-test', level: 'silent' }),
    })
    base = `http://127.0.0.1:${(await dashboard.listen()).port}`
  })

  afterAll(async () => {
    await browser?.close()
    await dashboard.close()
    for (const s of [poller, sentiment, quality]) s.server.closeAllConnections()
    // The quality stand-in may be closed already (its test stops it): close answers an error then.
    await Promise.all(
      [poller, sentiment, quality].map((s) => new Promise((r) => s.server.close(r))),
    )
  })

  it("passes a service's answer on, status and JSON as they are", async () => {
    const ok = await fetch(`${base}/api/poller/status`)
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { operations: unknown[] }).operations).toHaveLength(1)
    const missing = await fetch(`${base}/api/sentiment/operations/0010/agents/nobody/summary`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } })
  })

  it('answers a clear 502 when a service is down and 504 when it is too slow', async () => {
    const down = await fetch(`${base}/api/classifier/operations/0010/tramites`)
    expect(down.status).toBe(502)
    expect(await down.json()).toEqual({
      error: {
        code: 'DASHBOARD_UPSTREAM_UNAVAILABLE',
        message: `The classifier at ${classifierUrl} is unavailable (ECONNREFUSED)`,
        service: 'classifier',
      },
    })
    const slow = await fetch(`${base}/api/poller/slow`)
    expect(slow.status).toBe(504)
    expect(await slow.json()).toMatchObject({
      error: { code: 'DASHBOARD_UPSTREAM_TIMEOUT', service: 'poller' },
    })
    const huge = await fetch(`${base}/api/sentiment/huge`)
    expect(huge.status).toBe(502)
    expect(await huge.json()).toMatchObject({ error: { code: 'DASHBOARD_UPSTREAM_TOO_LARGE' } })
  })

  it('proxies GET and HEAD only, under the three prefixes only, and no dot segments', async () => {
    const post = await fetch(`${base}/api/poller/status`, { method: 'POST', body: '{}' })
    expect(post.status).toBe(405)
    expect(post.headers.get('allow')).toBe('GET, HEAD')
    expect(await post.json()).toMatchObject({ error: { code: 'HTTP_METHOD_NOT_ALLOWED' } })
    expect((await fetch(`${base}/api/redis/keys`)).status).toBe(404)
    // A service's retry-after is passed on, its www-authenticate never.
    const busy = await fetch(`${base}/api/poller/busy`)
    expect(busy.status).toBe(429)
    expect(busy.headers.get('retry-after')).toBe('3')
    expect(busy.headers.get('www-authenticate')).toBeNull()
    // fetch would resolve the dot segments itself; a raw request sends them as they are.
    for (const path of ['/api/poller/%2e%2e/metrics', '/api/poller/../metrics']) {
      expect(await rawStatus(`${base}${path}`)).toBe(400)
    }
    expect((await fetch(`${base}/etc/passwd`)).status).toBe(404)
  })

  it('serves the page with a strict content security policy, and its health and metrics', async () => {
    const index = await fetch(`${base}/`)
    expect(index.status).toBe(200)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(await index.text()).toContain('<script type="module" src="/app.js">')
    const app = await fetch(`${base}/app.js`)
    expect(app.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await (await fetch(`${base}/config.json`)).json()).toEqual({ refreshMs: 1000 })
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect((await fetch(`${base}/readyz`)).status).toBe(200)
    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toMatch(
      /wolkvox_dashboard_proxy_requests_total\{upstream="classifier",outcome="unavailable",service="dashboard"\} [1-9]/u,
    )
    expect(metrics).toMatch(
      /wolkvox_dashboard_proxy_requests_total\{upstream="poller",outcome="timeout"/u,
    )
  })

  it('shows the other parts’ figures when the classifier is down, and says so', async () => {
    browser = await launchChromium()
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${base}/`)
    const shown = await waitFor(
      async () => {
        const read = await readPage(page)
        return read.agents.length === 2 && read.unavailable.tramites !== null ? read : undefined
      },
      { timeoutMs: 20_000, what: 'the page to render' },
    )
    expect(shown.services).toEqual({
      poller: 'ok',
      sentiment: 'ok',
      classifier: 'down',
      quality: 'ok',
    })
    expect(shown.unavailable).toEqual({
      poller: null,
      negative: null,
      sentiment: null,
      tramites: `Classifier unavailable: The classifier at ${classifierUrl} is unavailable (ECONNREFUSED)`,
      quality: null,
    })
    expect(shown.negative).toEqual({
      share: String(10 / 44),
      shareText: '22.7 %',
      negative: 10,
      conversations: 44,
    })
    expect(shown.agents).toEqual([
      {
        key: 'ana maría',
        name: 'Ana María',
        messages: 1234,
        conversations: 40,
        endingNegative: 10,
        meanScore: '0.25',
        messagesText: '1,234',
        // Apart from Wolkvox's figures, as the service answers them.
        text: { messages: 10, bySentiment: anaText.counts, meanScore: '-0.60' },
      },
      {
        key: 'luis',
        name: 'LUIS',
        messages: 80,
        conversations: 4,
        endingNegative: 0,
        meanScore: '-0.13',
        messagesText: '80',
        // An aggregator that gives no text figures: shown as none, not as zeros.
        text: { messages: null, bySentiment: {}, meanScore: '—' },
      },
    ])
    // Labelled as another source than Wolkvox's feeling.
    expect(await page.locator('#agents thead th.source-text').textContent()).toBe(
      'from text (no Wolkvox feeling)',
    )
    expect(await page.locator('#agents thead th.source-upstream').textContent()).toBe(
      'Wolkvox feeling',
    )
    // The fleet line, as the poller's summary (GET /status/servers) tells it.
    expect(shown.fleet).toEqual(expectedFleet(fleetSummary))
    expect(shown.fleet.text).toBe(
      '3 operations · 1 paused · 0 failing · 1 lagging · worst lag 2 h 0 min (0010)',
    )
    expect(shown.poller.watermark).toBe(watermark)
    expect(shown.poller.lagSeconds).toBe('7200')
    expect(shown.poller.windows).toEqual([
      {
        purpose: 'live',
        from: new Date(hour - 26 * HOUR).toISOString(),
        to: watermark,
        published: 4321,
      },
    ])
    // Ana María has the most messages, so her hours are charted: two columns of five sentiments.
    expect(shown.chartBars).toBe(10)
    expect(shown.sparklines).toBe(2)
    expect(errors).toEqual([])
    await screenshot(page, 'dashboard-classifier-down')
  })

  it('shows chat quality per agent as the service answers it, and a clear empty state without it', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1200 } })
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${base}/`)
    const shown = await waitFor(
      async () => {
        const read = await readPage(page)
        return read.quality.agents.length === 2 ? read : undefined
      },
      { timeoutMs: 20_000, what: 'the quality panel to render' },
    )
    // Every figure is the service's (each agent's totals), or computed from its answer (all agents).
    const answered = (await (
      await fetch(`${base}/api/quality/operations/0010/quality/agents?limit=1000`)
    ).json()) as QualityAnswer
    expect(answered.agents).toEqual(qualityAnswer.agents)
    expect(withoutStandards(shown.quality)).toEqual(expectedQuality(answered))
    // The same, written out: shares met/applicable, percentiles the bound of their bucket.
    expect(shown.quality.agents[0]).toEqual({
      key: 'ana maría',
      name: 'Ana María',
      conversations: 40,
      p50Ms: '15000',
      p90Ms: '120000',
      firstResponseShare: String(27 / 36),
      responseGapShare: String(20 / 36),
      checks: { despedida: String(30 / 40), identificacion: null, saludo: String(38 / 40) },
    })
    expect(shown.quality.all).toEqual({
      key: '',
      name: 'all agents',
      conversations: 44,
      // 39 first responses: the 20th is within 60 s; the 36th is over the last bound (an hour).
      p50Ms: '60000',
      p90Ms: null,
      firstResponseShare: String(28 / 39),
      responseGapShare: String(21 / 39),
      checks: {
        despedida: String(30 / 44),
        identificacion: String(1 / 4),
        saludo: String(42 / 44),
      },
    })
    expect(shown.quality.standards).toEqual({
      firstResponse: 'First response within 1 min',
      responseGap: 'Every turn answered within 2 min',
    })
    const text = async (selector: string) => (await page.locator(selector).textContent())?.trim()
    expect(await text('#quality-first-response-share')).toBe('71.8 %')
    expect(await text('#quality-first-response-p50')).toBe('≤ 1 min')
    expect(await text('#quality-first-response-p90')).toBe('> 1 h')
    expect(
      await text(
        '#quality-agents tbody tr[data-agent-key="luis"] [data-field="first_response_p50_ms"]',
      ),
    ).toBe('> 1 h')
    expect(
      await text(
        '#quality-agents tbody tr[data-agent-key="ana maría"] [data-field="first_response_p50_ms"]',
      ),
    ).toBe('≤ 15 s')
    expect(
      await text(
        '#quality-agents tbody tr[data-agent-key="ana maría"] [data-check="identificacion"]',
      ),
    ).toBe('—')
    await screenshot(page, 'dashboard-quality')

    // The service stops answering: the panel says so and keeps no stale figure; the rest stays.
    quality.server.closeAllConnections()
    await new Promise((resolve) => quality.server.close(resolve))
    const down = await waitFor(
      async () => {
        const read = await readPage(page)
        return read.unavailable.quality !== null ? read : undefined
      },
      { timeoutMs: 20_000, what: 'the quality panel to show the service down' },
    )
    expect(down.services.quality).toBe('down')
    expect(down.unavailable.quality).toBe(
      `Chat quality unavailable: The quality at ${quality.url} is unavailable (ECONNREFUSED)`,
    )
    expect(withoutStandards(down.quality)).toEqual({
      conversations: null,
      firstResponseShare: null,
      responseGapShare: null,
      p50Ms: null,
      p90Ms: null,
      agents: [],
      all: null,
      empty: 'No quality figures while the chat quality service does not answer.',
    })
    expect(down.agents).toHaveLength(2)
    expect(down.unavailable.sentiment).toBeNull()
    expect(errors).toEqual([])
    await screenshot(page, 'dashboard-quality-down')
  })
})

describe('the dashboard behind a token', () => {
  const PAGE_TOKEN = 'canary-dashboard-page-token-5b1e'
  const SERVICE_TOKEN = 'canary-services-token-9d44a7c2'
  const dir = mkdtempSync(join(tmpdir(), 'wcs-dashboard-auth-'))
  const seen: (string | undefined)[] = []
  let poller: Server
  let dashboard: HttpServer
  let base: string
  let browser: Browser | undefined

  beforeAll(async () => {
    writeFileSync(join(dir, 'page-tokens'), `${PAGE_TOKEN}\n`)
    writeFileSync(join(dir, 'service-token'), `${SERVICE_TOKEN}\n`)
    // A service that answers only with the services' token, as one with HTTP_AUTH_TOKEN_FILE does.
    poller = createServer((req, res) => {
      seen.push(req.headers.authorization)
      const ok = req.headers.authorization === `Bearer ${SERVICE_TOKEN}`
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify(
          ok
            ? // As /status and /status/servers answer with no operation configured.
              {
                generatedAt: new Date().toISOString(),
                summary: emptySummary,
                servers: [],
                operations: [],
              }
            : { error: { code: 'HTTP_UNAUTHORIZED', message: 'token' } },
        ),
      )
    })
    await new Promise<void>((resolve) => poller.listen(0, '127.0.0.1', resolve))
    const pollerUrl = `http://127.0.0.1:${(poller.address() as AddressInfo).port}`
    dashboard = createDashboard({
      config: readDashboardConfig({
        HTTP_PORT: '0',
        POLLER_URL: pollerUrl,
        SENTIMENT_URL: pollerUrl,
        CLASSIFIER_URL: pollerUrl,
        DASHBOARD_REFRESH: '1s',
        HTTP_AUTH_TOKEN_FILE: join(dir, 'page-tokens'),
        DASHBOARD_UPSTREAM_TOKEN_FILE: join(dir, 'service-token'),
      }),
      registry: createMetricsRegistry({ defaultLabels: { service: 'dashboard' } }),
      logger: createLogger({ name: 'dashboard-auth-test', level: 'silent' }),
    })
    base = `http://127.0.0.1:${(await dashboard.listen()).port}`
  })

  afterAll(async () => {
    await browser?.close()
    await dashboard.close()
    poller.closeAllConnections()
    await new Promise((r) => poller.close(r))
    rmSync(dir, { recursive: true, force: true })
  })

  const basic = (password: string) => ({
    authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`,
  })

  it('asks for the token before the page, its files and the proxy; the probes stay open', async () => {
    for (const path of ['/', '/app.js', '/config.json', '/api/poller/status', '/metrics']) {
      const refused = await fetch(`${base}${path}`)
      expect(refused.status, path).toBe(401)
      expect(refused.headers.get('www-authenticate')).toContain('Basic realm="wolkvox-chat-stream"')
      expect(await refused.json()).toMatchObject({ error: { code: 'HTTP_UNAUTHORIZED' } })
    }
    expect((await fetch(`${base}/`, { headers: basic('wrong-password-0000') })).status).toBe(401)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    expect((await fetch(`${base}/`, { headers: basic(PAGE_TOKEN) })).status).toBe(200)
  })

  it('sends the services their own token, which the browser never sees', async () => {
    seen.length = 0
    const proxied = await fetch(`${base}/api/poller/status`, { headers: basic(PAGE_TOKEN) })
    expect(proxied.status).toBe(200)
    expect(seen).toEqual([`Bearer ${SERVICE_TOKEN}`])
    // The page's own token is not passed on to the services.
    expect(seen.join()).not.toContain(PAGE_TOKEN)

    browser = await launchChromium()
    // Without a login the browser gives up at its prompt; with a wrong one it gets the 401.
    const noLogin = await browser.newContext()
    await expect((await noLogin.newPage()).goto(`${base}/`)).rejects.toThrow(
      /ERR_INVALID_AUTH_CREDENTIALS/,
    )
    await noLogin.close()
    const wrongLogin = await browser.newContext({
      httpCredentials: { username: 'ops', password: 'wrong-token-00000000' },
    })
    expect((await (await wrongLogin.newPage()).goto(`${base}/`))?.status()).toBe(401)
    await wrongLogin.close()

    const context = await browser.newContext({
      httpCredentials: { username: 'ops', password: PAGE_TOKEN },
    })
    const page = await context.newPage()
    const bodies: string[] = []
    page.on('response', (response) => {
      void response.text().then(
        (text) => bodies.push(`${JSON.stringify(response.headers())}${text}`),
        () => undefined,
      )
    })
    const answer = await page.goto(`${base}/`)
    expect(answer?.status()).toBe(200)
    const shown = await waitFor(
      async () => {
        const read = await readPage(page)
        return read.services.poller === 'ok' ? read : undefined
      },
      { timeoutMs: 20_000, what: 'the protected page to show the poller' },
    )
    expect(shown.services.poller).toBe('ok')
    await waitFor(() => Promise.resolve(bodies.length >= 4 || undefined), {
      timeoutMs: 5_000,
      what: 'the page to fetch its figures',
    })
    expect(bodies.join('\n')).not.toContain(SERVICE_TOKEN)
    await screenshot(page, 'dashboard-behind-token')
    await context.close()
  })
})
