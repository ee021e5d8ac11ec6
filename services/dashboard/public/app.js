/* global document, location, URLSearchParams, Node, fetch, setTimeout */
// The live page: fetches the services' figures through the dashboard's own proxy (/api/...) every
// few seconds and redraws. Plain DOM and SVG; every text from the data goes through textContent.
import { horizontalStacks, sparkline, stackedColumns } from './chart.js'

const HOUR = 3_600_000
const SENTIMENTS = [
  ['very_negative', 'very negative', '#b2182b'],
  ['negative', 'negative', '#ef8a62'],
  ['neutral', 'neutral', '#c8c8c8'],
  ['positive', 'positive', '#67a9cf'],
  ['very_positive', 'very positive', '#2166ac'],
  ['unknown', 'unknown', '#ececec'],
]
/** The five values a text is scored with (never `unknown`). */
const TEXT_SENTIMENTS = SENTIMENTS.filter(([key]) => key !== 'unknown')
const PALETTE = [
  '#3b6fb6',
  '#e08b2c',
  '#4e9a5b',
  '#b5485d',
  '#7d5ba6',
  '#2a9d9f',
  '#c9a227',
  '#8c6d46',
  '#d46fa6',
  '#5c7080',
  '#9bbf3f',
  '#e15759',
  '#76b7b2',
  '#1f4e79',
]
const UNCLASSIFIED = '#bdbdbd'

const state = {
  server: new URLSearchParams(location.search).get('server'),
  selectedAgent: null,
  windows: new Map(),
  refreshMs: 5000,
}

const $ = (selector) => document.querySelector(selector)

/** An HTML element with attributes and children (strings become text nodes, never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (name === 'onclick') el.addEventListener('click', value)
    // Through the CSSOM: the page's content security policy forbids style attributes.
    else if (name === 'color') el.style.backgroundColor = value
    else el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

const fmt = (n) => Number(n).toLocaleString('en-US')
const pct = (share) => (share === null ? '—' : `${(share * 100).toFixed(1)} %`)
const share = (part, whole) => (whole > 0 ? part / whole : null)

/** `YYYY-MM-DD HH:MM:SS` in the operation's zone. */
function localTime(iso, zone) {
  if (!iso) return '—'
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  )
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  const hours = Math.floor(s / 3600)
  return hours < 48
    ? `${hours} h ${Math.floor((s % 3600) / 60)} min`
    : `${Math.floor(hours / 24)} d ${hours % 24} h`
}

/** GET through the proxy: `{ ok, data }`, or `{ ok: false, down, message }` (down: 502/504). */
async function get(path) {
  try {
    const res = await fetch(path, { headers: { accept: 'application/json' } })
    const body = await res.json().catch(() => null)
    if (res.ok) return { ok: true, data: body }
    return {
      ok: false,
      down: res.status === 502 || res.status === 504,
      message: body?.error?.message ?? `HTTP ${res.status}`,
    }
  } catch {
    return { ok: false, down: true, message: 'the dashboard itself did not answer' }
  }
}

function setService(name, result) {
  const el = document.querySelector(`#services [data-service="${name}"]`)
  const value = result === undefined ? 'unknown' : result.ok ? 'ok' : result.down ? 'down' : 'error'
  el.dataset.state = value
  el.title = result && !result.ok ? result.message : value
}

/** Shows (or hides, with null) a panel's "unavailable" line. */
function unavailable(panel, message) {
  const el = document.querySelector(`#${panel} .unavailable`)
  el.hidden = message === null
  el.textContent = message ?? ''
  document.querySelector(`#${panel}`).classList.toggle('stale', message !== null)
}

function setFigure(id, text, value) {
  const el = document.getElementById(id)
  el.textContent = text
  if (value === undefined || value === null) delete el.dataset.value
  else el.dataset.value = String(value)
}

// --- poller -------------------------------------------------------------------------------------

function renderPoller(operation) {
  const zone = operation.timeZone
  setFigure('watermark', localTime(operation.watermark, zone), operation.watermark)
  setFigure('lag', duration(operation.lagSeconds), operation.lagSeconds)
  const live =
    operation.lastSuccess.live ??
    Object.values(operation.lastSuccess).sort((a, b) => (a.at < b.at ? 1 : -1))[0]
  setFigure(
    'last-poll',
    live ? `${duration((Date.now() - Date.parse(live.at)) / 1000)} ago` : 'not yet',
    live?.at,
  )
  setFigure(
    'quota',
    `${fmt(operation.quota.used)} of ${fmt(operation.quota.budget)} calls`,
    operation.quota.used,
  )
  const error = operation.lastError
  setFigure(
    'last-error',
    error ? `${error.code} at ${localTime(error.at, zone)}: ${error.message}` : 'none',
    error?.code ?? null,
  )
  document.getElementById('last-error').classList.toggle('bad', Boolean(error))

  for (const [purpose, s] of Object.entries(operation.lastSuccess)) {
    if (!s.window) continue
    const key = `${purpose}|${s.window.from}|${s.window.to}|${s.at}`
    state.windows.set(key, { purpose, ...s })
  }
  const rows = [...state.windows.values()].sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, 8)
  state.windows = new Map(
    rows.map((r) => [`${r.purpose}|${r.window.from}|${r.window.to}|${r.at}`, r]),
  )
  $('#windows tbody').replaceChildren(
    ...rows.map((r) =>
      h(
        'tr',
        { 'data-purpose': r.purpose, 'data-from': r.window.from, 'data-to': r.window.to },
        h('td', {}, r.purpose),
        h('td', {}, localTime(r.window.from, zone)),
        h('td', {}, localTime(r.window.to, zone)),
        h(
          'td',
          { class: 'num', 'data-field': 'published', 'data-value': r.published },
          fmt(r.published),
        ),
        h('td', {}, localTime(r.at, zone)),
      ),
    ),
  )
}

// --- sentiment ----------------------------------------------------------------------------------

function hourSlots() {
  const last = Math.floor(Date.now() / HOUR) * HOUR
  return Array.from({ length: 24 }, (_, i) => last - (23 - i) * HOUR)
}

/**
 * The figures scored from text (source `text`: customer messages Wolkvox gave no feeling, scored by
 * the aggregator's own scorer), in cells of their own, never added to Wolkvox's: how many (each
 * sentiment in `data-*` and the tooltip) and their mean. '—' from an aggregator without them.
 */
function textCells(t) {
  const counts = t.messages_by_text_sentiment
  if (!counts) {
    return [
      h('td', { class: 'num text-source', 'data-field': 'text_messages', 'data-value': '' }, '—'),
      h('td', { class: 'num text-source', 'data-field': 'text_mean_score', 'data-value': '' }, '—'),
    ]
  }
  const scored = TEXT_SENTIMENTS.map(([key]) => counts[key] ?? 0)
  const total = scored.reduce((a, b) => a + b, 0)
  const attrs = Object.fromEntries(TEXT_SENTIMENTS.map(([key], i) => [`data-${key}`, scored[i]]))
  const mean = t.text_mean_score
  return [
    h(
      'td',
      {
        class: 'num text-source',
        'data-field': 'text_messages',
        'data-value': total,
        ...attrs,
        title: `From text (no Wolkvox feeling): ${TEXT_SENTIMENTS.map(([, label], i) => `${label} ${fmt(scored[i])}`).join(', ')}`,
      },
      fmt(total),
    ),
    h(
      'td',
      { class: 'num text-source', 'data-field': 'text_mean_score', 'data-value': mean ?? '' },
      mean === null || mean === undefined ? '—' : mean.toFixed(2),
    ),
  ]
}

function renderAgents(agents, series, slots, zone) {
  let conversations = 0
  let negative = 0
  for (const a of agents) {
    conversations += a.totals.conversations
    negative += a.totals.conversations_ending_negative
  }
  setFigure('negative-share', pct(share(negative, conversations)), share(negative, conversations))
  setFigure('negative-count', fmt(negative), negative)
  setFigure('conversation-count', fmt(conversations), conversations)

  // Share per hour over every agent's windows.
  const perSlot = slots.map(() => ({ conversations: 0, negative: 0 }))
  for (const windows of series.values()) {
    for (const w of windows) {
      const i = slots.indexOf(Date.parse(w.window_start))
      if (i === -1) continue
      perSlot[i].conversations += w.conversations
      perSlot[i].negative += w.conversations_ending_negative
    }
  }
  $('#negative-chart').replaceChildren(
    sparkline(
      perSlot.map((s) => share(s.negative, s.conversations)),
      { min: 0, max: 1, width: 420, height: 80, color: '#b2182b' },
    ),
  )

  if (!agents.some((a) => a.agent_key === state.selectedAgent)) {
    state.selectedAgent =
      [...agents].sort((a, b) => b.totals.messages - a.totals.messages)[0]?.agent_key ?? null
  }
  $('#agents tbody').replaceChildren(
    ...agents.map((a) => {
      const t = a.totals
      const windows = series.get(a.agent_key) ?? []
      const byStart = new Map(windows.map((w) => [Date.parse(w.window_start), w]))
      const cell = (field, value, text = fmt(value)) =>
        h('td', { class: 'num', 'data-field': field, 'data-value': value ?? '' }, text)
      return h(
        'tr',
        {
          'data-agent-key': a.agent_key,
          'aria-selected': a.agent_key === state.selectedAgent ? 'true' : 'false',
          onclick: () => {
            state.selectedAgent = a.agent_key
            void refresh()
          },
        },
        h('td', { 'data-field': 'agent_name' }, a.agent_name),
        cell('messages', t.messages),
        cell('conversations', t.conversations),
        cell('conversations_ending_negative', t.conversations_ending_negative),
        cell(
          'share_negative',
          share(t.conversations_ending_negative, t.conversations),
          pct(share(t.conversations_ending_negative, t.conversations)),
        ),
        cell('mean_score', t.mean_score, t.mean_score === null ? '—' : t.mean_score.toFixed(2)),
        ...textCells(t),
        h(
          'td',
          {},
          sparkline(
            slots.map((s) => byStart.get(s)?.mean_score ?? null),
            { min: -2, max: 2 },
          ),
        ),
      )
    }),
  )

  const selected = agents.find((a) => a.agent_key === state.selectedAgent)
  $('#agent-chart-title').textContent = selected
    ? `${selected.agent_name}: messages by sentiment and mean score per hour, last 24 h`
    : 'No agent yet'
  const windows = new Map(
    (series.get(state.selectedAgent) ?? []).map((w) => [Date.parse(w.window_start), w]),
  )
  const hourLabel = (ms) => localTime(new Date(ms).toISOString(), zone).slice(11, 13) + 'h'
  $('#agent-chart').replaceChildren(
    stackedColumns({
      slots: slots.map(hourLabel),
      series: SENTIMENTS.map(([key, label, color]) => ({
        label,
        color,
        values: slots.map((s) => windows.get(s)?.messages_by_sentiment[key] ?? 0),
      })),
      line: {
        label: 'mean score',
        color: '#222',
        min: -2,
        max: 2,
        values: slots.map((s) => windows.get(s)?.mean_score ?? null),
      },
    }),
    h(
      'p',
      { class: 'legend' },
      SENTIMENTS.map(([, label, color]) => h('span', { class: 'key' }, h('i', { color }), label)),
      h('span', { class: 'key' }, h('i', { class: 'line' }), 'mean score (right axis, −2 … +2)'),
    ),
  )
}

async function loadSentiment(server) {
  const base = `/api/sentiment/operations/${encodeURIComponent(server)}`
  const agents = await get(`${base}/agents?limit=1000`)
  if (!agents.ok) return { agents }
  const slots = hourSlots()
  const from = new Date(slots[0]).toISOString()
  const answers = await Promise.all(
    agents.data.agents.map((a) =>
      get(
        `${base}/agents/${encodeURIComponent(a.agent_key)}/sentiment?granularity=hour&from=${encodeURIComponent(from)}`,
      ),
    ),
  )
  const series = new Map()
  agents.data.agents.forEach((a, i) => {
    if (answers[i].ok) series.set(a.agent_key, answers[i].data.windows)
  })
  return { agents, series, slots }
}

// --- trámites -----------------------------------------------------------------------------------

function renderTramites(answer) {
  const rows = answer.by_channel
  const totals = new Map()
  for (const r of rows) totals.set(r.tramite, (totals.get(r.tramite) ?? 0) + r.conversations)
  const tramites = [...totals.keys()].sort((a, b) => {
    if (a === null) return 1
    if (b === null) return -1
    return totals.get(b) - totals.get(a) || a.localeCompare(b)
  })
  const color = (t, i) => (t === null ? UNCLASSIFIED : PALETTE[i % PALETTE.length])
  const label = (t) => (t === null ? 'unclassified' : t)
  const channels = new Map()
  for (const r of rows) {
    if (!channels.has(r.channel)) channels.set(r.channel, new Map())
    channels.get(r.channel).set(r.tramite, r.conversations)
  }
  const channelTotal = (c) => [...channels.get(c).values()].reduce((s, v) => s + v, 0)
  const order = [...channels.keys()].sort(
    (a, b) => channelTotal(b) - channelTotal(a) || a.localeCompare(b),
  )

  $('#tramite-bars').replaceChildren(
    rows.length === 0
      ? h('p', { class: 'hint' }, 'No conversation classified yet.')
      : horizontalStacks(
          order.map((c) => ({
            label: c,
            segments: tramites.map((t, i) => ({
              label: label(t),
              color: color(t, i),
              value: channels.get(c).get(t) ?? 0,
            })),
          })),
        ),
    h(
      'p',
      { class: 'legend' },
      tramites.map((t, i) => h('span', { class: 'key' }, h('i', { color: color(t, i) }), label(t))),
    ),
  )
  $('#tramite-table thead').replaceChildren(
    h(
      'tr',
      {},
      h('th', {}, 'channel'),
      tramites.map((t) => h('th', { class: 'num' }, label(t))),
      h('th', { class: 'num' }, 'total'),
    ),
  )
  $('#tramite-table tbody').replaceChildren(
    ...order.map((c) =>
      h(
        'tr',
        { 'data-channel': c },
        h('td', {}, c),
        tramites.map((t) => {
          const v = channels.get(c).get(t) ?? 0
          return h('td', { class: 'num', 'data-tramite': t ?? '', 'data-value': v }, fmt(v))
        }),
        h(
          'td',
          { class: 'num', 'data-field': 'total', 'data-value': channelTotal(c) },
          fmt(channelTotal(c)),
        ),
      ),
    ),
  )
  const range =
    answer.from || answer.to
      ? `from ${answer.from ?? 'the start'} to ${answer.to ?? 'now'}`
      : 'all time'
  $('#tramite-hint').textContent =
    `Conversations per channel and trámite, ${range}; rules ${answer.rules_version ?? '—'}.`
}

// --- chat quality -------------------------------------------------------------------------------

/** A time in ms as `45 s`, `1 min 30 s`, `2 min`, `1 h`. */
function span(ms) {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`
  const m = Math.round(s / 60)
  return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`
}

/**
 * A first-response percentile as the service answers it, the upper bound of the histogram bucket
 * that holds it: `≤ 15 s`; `> 1 h` when it is in the last bucket (over every bound, answered as
 * null); `—` with no first response at all.
 */
function percentileText(boundMs, histogram) {
  if (boundMs !== null) return `≤ ${span(boundMs)}`
  const counted = histogram.reduce((sum, b) => sum + b.conversations, 0)
  const bounds = histogram.filter((b) => b.le_ms !== null).map((b) => b.le_ms)
  return counted > 0 && bounds.length > 0 ? `> ${span(Math.max(...bounds))}` : '—'
}

/**
 * The bucket bound of the `q` quantile of a histogram, as the service computes it (chat-quality:
 * histogram.ts): the first bound with at least ⌈q·total⌉ conversations at or below it; null with
 * none, or in the last bucket.
 */
function quantileBound(histogram, q) {
  const total = histogram.reduce((sum, b) => sum + b.conversations, 0)
  if (total === 0) return null
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (const b of histogram) {
    seen += b.conversations
    if (seen >= rank) return b.le_ms
  }
  return null
}

/** Every agent's totals added up: counts summed, shares and percentiles computed from the sums. */
function qualityOverall(agents) {
  const buckets = new Map()
  const checks = new Map()
  let conversations = 0
  const fr = { applicable: 0, met: 0 }
  const rg = { applicable: 0, met: 0 }
  for (const { totals: t } of agents) {
    conversations += t.conversations
    fr.applicable += t.first_response.applicable
    fr.met += t.first_response.met
    rg.applicable += t.response_gaps.applicable
    rg.met += t.response_gaps.met
    for (const b of t.first_response.histogram) {
      const key = String(b.le_ms)
      buckets.set(key, {
        le_ms: b.le_ms,
        conversations: (buckets.get(key)?.conversations ?? 0) + b.conversations,
      })
    }
    for (const c of t.checks) {
      const sum = checks.get(c.check) ?? { check: c.check, checked: 0, passed: 0 }
      sum.checked += c.checked
      sum.passed += c.passed
      checks.set(c.check, sum)
    }
  }
  const histogram = [...buckets.values()].sort(
    (a, b) => (a.le_ms ?? Infinity) - (b.le_ms ?? Infinity),
  )
  return {
    conversations,
    first_response: {
      ...fr,
      share: share(fr.met, fr.applicable),
      p50_ms: quantileBound(histogram, 0.5),
      p90_ms: quantileBound(histogram, 0.9),
      histogram,
    },
    response_gaps: { ...rg, share: share(rg.met, rg.applicable) },
    checks: [...checks.values()].map((c) => ({ ...c, share: share(c.passed, c.checked) })),
  }
}

const QUALITY_FIGURES = [
  'quality-conversations',
  'quality-first-response-share',
  'quality-response-gap-share',
  'quality-first-response-p50',
  'quality-first-response-p90',
]

/** One row of the quality table: an agent's totals, or every agent's (`all`). */
function qualityRow(label, t, checkNames, attrs) {
  const cell = (field, value, text, title) =>
    h('td', { class: 'num', 'data-field': field, 'data-value': value, title }, text)
  const shareCell = (field, part, whole, value) =>
    cell(field, value, pct(value), whole > 0 ? `${fmt(part)} of ${fmt(whole)}` : 'does not apply')
  const byCheck = new Map(t.checks.map((c) => [c.check, c]))
  const fr = t.first_response
  return h(
    'tr',
    attrs,
    h('td', { 'data-field': 'agent_name' }, label),
    cell('conversations', t.conversations, fmt(t.conversations)),
    cell('first_response_p50_ms', fr.p50_ms, percentileText(fr.p50_ms, fr.histogram)),
    cell('first_response_p90_ms', fr.p90_ms, percentileText(fr.p90_ms, fr.histogram)),
    shareCell('first_response_share', fr.met, fr.applicable, fr.share),
    shareCell(
      'response_gap_share',
      t.response_gaps.met,
      t.response_gaps.applicable,
      t.response_gaps.share,
    ),
    checkNames.map((name) => {
      const c = byCheck.get(name)
      return c === undefined
        ? h('td', { class: 'num', 'data-check': name, title: 'not checked' }, '—')
        : h(
            'td',
            {
              class: 'num',
              'data-check': name,
              'data-value': c.share,
              title: `passed ${fmt(c.passed)} of ${fmt(c.checked)}`,
            },
            pct(c.share),
          )
    }),
  )
}

function renderQuality(answer) {
  const { agents, standards } = answer
  $('#quality-first-response-standard').textContent =
    `First response within ${span(standards.first_response_target_ms)}`
  $('#quality-response-gap-standard').textContent =
    `Every turn answered within ${span(standards.response_gap_target_ms)}`
  const all = qualityOverall(agents)
  const fr = all.first_response
  setFigure('quality-conversations', fmt(all.conversations), all.conversations)
  setFigure('quality-first-response-share', pct(fr.share), fr.share)
  setFigure('quality-response-gap-share', pct(all.response_gaps.share), all.response_gaps.share)
  setFigure('quality-first-response-p50', percentileText(fr.p50_ms, fr.histogram), fr.p50_ms)
  setFigure('quality-first-response-p90', percentileText(fr.p90_ms, fr.histogram), fr.p90_ms)

  const checkNames = all.checks.map((c) => c.check).sort()
  $('#quality-agents thead').replaceChildren(
    h(
      'tr',
      {},
      h('th', {}, 'agent'),
      h('th', { class: 'num' }, 'conversations'),
      h('th', { class: 'num' }, 'first response p50'),
      h('th', { class: 'num' }, 'p90'),
      h('th', { class: 'num' }, 'first response met'),
      h('th', { class: 'num' }, 'every turn met'),
      checkNames.map((name) =>
        h('th', { class: 'num', title: 'share of conversations passed' }, name),
      ),
    ),
  )
  $('#quality-agents tbody').replaceChildren(
    ...(agents.length === 0
      ? [
          emptyRow(
            'No conversation written yet: the figures appear once chats are complete or idle.',
          ),
        ]
      : agents.map((a) =>
          qualityRow(a.agent_name, a.totals, checkNames, { 'data-agent-key': a.agent_key }),
        )),
  )
  $('#quality-agents tfoot').replaceChildren(
    ...(agents.length === 0
      ? []
      : [qualityRow('all agents', all, checkNames, { 'data-agent-key': '', class: 'total' })]),
  )
  $('#quality-hint').textContent =
    'Totals over all time. Percentiles are the upper bound of the bucket holding them; ' +
    'a check is the share of conversations that passed it (hover a cell for the counts).'
}

function emptyRow(text, colspan = 6) {
  return h('tr', {}, h('td', { class: 'empty', colspan }, text))
}

/** The clear empty state: no stale figure left on the panel, and why. */
function clearQuality(text) {
  for (const id of QUALITY_FIGURES) setFigure(id, '—', null)
  $('#quality-agents thead').replaceChildren()
  $('#quality-agents tbody').replaceChildren(emptyRow(text))
  $('#quality-agents tfoot').replaceChildren()
  $('#quality-hint').textContent = ''
}

// --- first-contact resolution ------------------------------------------------------------------

const FCR_FIGURES = [
  'fcr-rate',
  'fcr-conversations',
  'fcr-resolved',
  'fcr-repeated',
  'fcr-pending',
  'fcr-no-identity',
]
const FCR_TABLES = ['#fcr-tramites', '#fcr-channels']
const DAY = 24 * HOUR

/**
 * FCR by trámite, then by channel over the range the first answer took (its default, the last 30
 * local days), so that both tables count the same conversations. `channel` is the first failure.
 */
async function loadFcr(server) {
  const base = `/api/quality/operations/${encodeURIComponent(server)}/fcr`
  const tramite = await get(`${base}?by=tramite`)
  if (!tramite.ok) return { tramite, channel: tramite }
  const { from, to } = tramite.data
  const channel = await get(
    `${base}?by=channel&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
  )
  return { tramite, channel }
}

/** One row of an FCR table: a group's figures (`data-key`: the group's key, '' for none). */
function fcrRow(label, key, t) {
  const cell = (field, value, text = fmt(value), title) =>
    h('td', { class: 'num', 'data-field': field, 'data-value': value, title }, text)
  const decided = t.resolved + t.repeated
  return h(
    'tr',
    { 'data-key': key ?? '' },
    h('td', { 'data-field': 'key', class: key === null ? 'none' : null }, label),
    cell('conversations', t.conversations),
    cell('resolved', t.resolved),
    cell('repeated', t.repeated),
    cell('pending', t.pending, fmt(t.pending), `${fmt(t.awaiting_tramite)} waiting for a trámite`),
    cell('no_identity', t.no_identity),
    cell(
      'rate',
      t.rate,
      pct(t.rate),
      decided > 0 ? `${fmt(t.resolved)} of ${fmt(decided)} decided` : 'none decided yet',
    ),
  )
}

function renderFcrTable(selector, groups, label) {
  $(`${selector} tbody`).replaceChildren(
    ...(groups.length === 0
      ? [emptyRow('No conversation started in the range yet.', 7)]
      : groups.map((g) => fcrRow(label(g.key), g.key, g.totals))),
  )
}

/** A repeat window as `7 d`, or `12 h` / `30 min` when it is not whole days. */
const windowText = (ms) => (ms % DAY === 0 ? `${ms / DAY} d` : span(ms))

function renderFcr(byTramite, byChannel, zone) {
  const t = byTramite.totals
  setFigure('fcr-rate', pct(t.rate), t.rate)
  setFigure('fcr-conversations', fmt(t.conversations), t.conversations)
  setFigure('fcr-resolved', fmt(t.resolved), t.resolved)
  setFigure('fcr-repeated', fmt(t.repeated), t.repeated)
  setFigure('fcr-pending', fmt(t.pending), t.pending)
  setFigure('fcr-no-identity', fmt(t.no_identity), t.no_identity)
  document.getElementById('fcr-pending').title = `${fmt(t.awaiting_tramite)} waiting for a trámite`
  renderFcrTable('#fcr-tramites', byTramite.groups, (key) => key ?? '(none)')
  renderFcrTable('#fcr-channels', byChannel.groups, (key) => key)
  const repeatWindow = windowText(byTramite.window_ms)
  $('#fcr-hint').textContent =
    `Conversations that started from ${localTime(byTramite.from, zone)} to ` +
    `${localTime(byTramite.to, zone)}. Resolved: the customer did not come back about the same ` +
    `trámite within ${repeatWindow} of the end; repeated: they did; pending: ${repeatWindow} ` +
    'have not passed yet, or a trámite is not known yet (hover a count for how many). ' +
    'Rate: resolved / (resolved + repeated); (none): no trámite found, or not classified yet.'
}

/** The clear empty state: no stale figure left on the panel, and why. */
function clearFcr(text) {
  for (const id of FCR_FIGURES) setFigure(id, '—', null)
  document.getElementById('fcr-pending').removeAttribute('title')
  for (const table of FCR_TABLES) $(`${table} tbody`).replaceChildren(emptyRow(text, 7))
  $('#fcr-hint').textContent = ''
}

// --- the fleet ----------------------------------------------------------------------------------

/** The states of the poller's summary (GET /status/servers), worst first, as shown. */
const FLEET_STATES = [
  ['checkpoint_missing', 'checkpoint missing'],
  ['paused', 'paused'],
  ['failing', 'failing'],
  ['lagging', 'lagging'],
  ['never_polled', 'never polled'],
  ['ok', 'ok'],
]
/** Shown even at 0: what an operator looks for first. */
const ALWAYS_SHOWN = new Set(['failing', 'paused', 'lagging'])

/**
 * One line for every operation of the poller: how many, how many failing, paused and lagging (and
 * the other states when any), and the worst lag. Its `data-*` carry the figures as answered.
 */
function renderFleet(summary) {
  const el = $('#fleet')
  for (const [key] of FLEET_STATES) el.removeAttribute(`data-${key}`)
  for (const name of ['data-operations', 'data-max-lag-seconds', 'data-max-lag-server'])
    el.removeAttribute(name)
  if (!summary) {
    el.dataset.state = 'unknown'
    el.textContent = 'operations: the poller did not answer'
    return
  }
  const parts = [`${fmt(summary.operations)} operation${summary.operations === 1 ? '' : 's'}`]
  for (const [key, label] of FLEET_STATES) {
    const n = summary.states[key] ?? 0
    el.setAttribute(`data-${key}`, String(n))
    if (key !== 'ok' && (n > 0 || ALWAYS_SHOWN.has(key))) parts.push(`${fmt(n)} ${label}`)
  }
  el.setAttribute('data-operations', String(summary.operations))
  if (summary.maxLag) {
    el.setAttribute('data-max-lag-seconds', String(summary.maxLag.seconds))
    el.setAttribute('data-max-lag-server', summary.maxLag.server)
    parts.push(`worst lag ${duration(summary.maxLag.seconds)} (${summary.maxLag.server})`)
  } else {
    parts.push('no watermark yet')
  }
  el.textContent = parts.join(' · ')
  const s = summary.states
  el.dataset.state =
    s.checkpoint_missing + s.paused + s.failing > 0 ? 'bad' : s.lagging > 0 ? 'warn' : 'ok'
}

// --- the loop -----------------------------------------------------------------------------------

/** The operation picker: each server code, with its state when it is not ok. */
function renderServers(servers, stateOf) {
  const select = $('#server')
  const label = (s) => {
    const st = stateOf.get(s)
    return st === undefined || st === 'ok' ? s : `${s} (${st.replaceAll('_', ' ')})`
  }
  const current = [...select.options].map((o) => `${o.value}=${o.textContent}`).join(',')
  if (current !== servers.map((s) => `${s}=${label(s)}`).join(',')) {
    select.replaceChildren(
      ...servers.map((s) => h('option', { value: s, 'data-state': stateOf.get(s) }, label(s))),
    )
  }
  select.value = state.server ?? ''
}

let running = false
async function refresh() {
  if (running) return
  running = true
  try {
    // The light list (every operation's state and the fleet's summary), then the full status of
    // the selected operation only.
    const list = await get('/api/poller/status/servers')
    renderFleet(list.ok ? list.data.summary : null)
    const servers = list.ok ? list.data.servers.map((o) => o.server) : []
    const stateOf = new Map(list.ok ? list.data.servers.map((o) => [o.server, o.state]) : [])
    if (
      state.server !== null &&
      !servers.includes(state.server) &&
      servers.length > 0 &&
      !new URLSearchParams(location.search).has('server')
    ) {
      state.server = null
    }
    state.server ??= servers[0] ?? null
    renderServers(
      state.server && !servers.includes(state.server) ? [state.server, ...servers] : servers,
      stateOf,
    )

    const notice = $('#notice')
    notice.hidden = state.server !== null
    notice.textContent =
      state.server === null
        ? list.ok
          ? 'The poller has no operation configured.'
          : `Which operation? The poller is unavailable (${list.message}); open this page with ?server=CODE.`
        : ''
    let poller = list
    let operation
    if (list.ok && state.server !== null && servers.includes(state.server)) {
      poller = await get(`/api/poller/status?server=${encodeURIComponent(state.server)}`)
      operation = poller.ok ? poller.data.operations[0] : undefined
    }
    setService('poller', poller)
    unavailable(
      'poller',
      poller.ok
        ? operation
          ? null
          : `The poller does not poll operation ${state.server}.`
        : `Poller unavailable: ${poller.message}`,
    )
    if (operation) renderPoller(operation)
    if (state.server === null) return

    const [sentiment, tramites, quality, fcr] = await Promise.all([
      loadSentiment(state.server),
      get(`/api/classifier/operations/${encodeURIComponent(state.server)}/tramites`),
      get(`/api/quality/operations/${encodeURIComponent(state.server)}/quality/agents?limit=1000`),
      loadFcr(state.server),
    ])
    setService('sentiment', sentiment.agents)
    setService('classifier', tramites)
    setService('quality', quality)
    unavailable(
      'sentiment',
      sentiment.agents.ok ? null : `Sentiment aggregator unavailable: ${sentiment.agents.message}`,
    )
    unavailable(
      'negative',
      sentiment.agents.ok ? null : `Sentiment aggregator unavailable: ${sentiment.agents.message}`,
    )
    if (sentiment.agents.ok) {
      renderAgents(
        sentiment.agents.data.agents,
        sentiment.series,
        sentiment.slots,
        operation?.timeZone ?? 'UTC',
      )
    }
    unavailable('tramites', tramites.ok ? null : `Classifier unavailable: ${tramites.message}`)
    if (tramites.ok) renderTramites(tramites.data)
    unavailable('quality', quality.ok ? null : `Chat quality unavailable: ${quality.message}`)
    if (quality.ok) renderQuality(quality.data)
    else clearQuality('No quality figures while the chat quality service does not answer.')
    unavailable(
      'fcr',
      fcr.channel.ok ? null : `First-contact resolution unavailable: ${fcr.channel.message}`,
    )
    if (fcr.channel.ok) renderFcr(fcr.tramite.data, fcr.channel.data, operation?.timeZone ?? 'UTC')
    else clearFcr('No FCR figures while the chat quality service does not answer them.')

    const failed = [poller, sentiment.agents, tramites, quality, fcr.channel].filter(
      (r) => !r.ok,
    ).length
    const updated = $('#updated')
    updated.dataset.state = failed === 0 ? 'ok' : 'partial'
    updated.textContent = `updated ${new Date().toLocaleTimeString('en-GB')}${failed ? ` (${failed} part${failed > 1 ? 's' : ''} unavailable)` : ''}`
    updated.dataset.at = new Date().toISOString()
  } finally {
    running = false
  }
}

async function loop() {
  await refresh().catch((error) => {
    $('#updated').dataset.state = 'error'
    $('#updated').textContent = `refresh failed: ${error.message}`
  })
  setTimeout(() => void loop(), state.refreshMs)
}

$('#server').addEventListener('change', (event) => {
  state.server = event.target.value
  state.windows.clear()
  void refresh()
})

const config = await get('/config.json')
if (config.ok) state.refreshMs = config.data.refreshMs
void loop()
