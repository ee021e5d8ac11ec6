/*
 * The `status` command's form for a person at a terminal: the fleet's summary, a table of the
 * operations (one row each) and, under it, what needs a look (a pause, a missing checkpoint, a
 * stuck window, a backfill not done). Pure: the document and now in, text out. Scripts get the
 * JSON document instead (`--json`, or any stdout that is not a terminal).
 */
import type { FleetSummary, OperationStatus } from './status.js'

/** What `status` prints: the summary, and the operations unless `--summary`. */
export interface StatusDocument {
  generatedAt: string
  summary: FleetSummary
  operations?: readonly OperationStatus[]
}

const NONE = '-'

/** `12s`, `4m 10s`, `1h 02m`, `3d 04h`. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const d = Math.floor(s / 86_400)
  const h = Math.floor((s % 86_400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const pad = (n: number): string => String(n).padStart(2, '0')
  if (d > 0) return `${d}d ${pad(h)}h`
  if (h > 0) return `${h}h ${pad(m)}m`
  if (m > 0) return `${m}m ${pad(s % 60)}s`
  return `${s}s`
}

/** `2026-12-06 08:05:00` in `timeZone`; `-` for null. */
export function localTime(iso: string | null, timeZone: string): string {
  if (iso === null) return NONE
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`
}

const ago = (iso: string | null, nowMs: number): string =>
  iso === null ? NONE : `${formatAge(nowMs - Date.parse(iso))} ago`

const count = (n: number): string => n.toLocaleString('en-US')

/** Free text (an upstream error message) with its control characters escaped, never sent raw. */
function clean(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** The summary block: one `label  value` line per fact. */
export function renderSummary(summary: FleetSummary, nowMs: number): string[] {
  const states = Object.entries(summary.states)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ')
  const rows: [string, string][] = [
    ['operations', `${summary.operations}${states === '' ? '' : ` (${states})`}`],
    [
      'max lag',
      summary.maxLag === null
        ? NONE
        : `${formatAge(summary.maxLag.seconds * 1000)} (${summary.maxLag.server}; lagging beyond ${formatAge(summary.lagThresholdSeconds * 1000)})`,
    ],
    ['quota today', `${count(summary.quota.used)} of ${count(summary.quota.budget)} calls used`],
    ['last poll', ago(summary.lastPollAt, nowMs)],
    [
      'last error',
      summary.lastError === null
        ? NONE
        : `${summary.lastError.code} (${summary.lastError.server}, ${summary.lastError.purpose}) ${ago(summary.lastError.at, nowMs)}`,
    ],
  ]
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`)
}

/** The newest success of any purpose: `12s ago (live)`. */
function lastSuccessOf(op: OperationStatus, nowMs: number): string {
  let newest: [string, string] | null = null
  for (const [purpose, { at }] of Object.entries(op.lastSuccess)) {
    if (newest === null || Date.parse(at) > Date.parse(newest[1])) newest = [purpose, at]
  }
  return newest === null ? NONE : `${ago(newest[1], nowMs)} (${newest[0]})`
}

const COLUMNS = [
  { title: 'SERVER', right: false },
  { title: 'STATE', right: false },
  { title: 'WATERMARK (local)', right: false },
  { title: 'LAG', right: true },
  { title: 'LAST SUCCESS', right: false },
  { title: 'LAST ERROR', right: false },
  { title: 'QUOTA LEFT', right: true },
  { title: 'GAPS', right: true },
] as const

/** One row per operation, in the document's order. */
export function statusRows(operations: readonly OperationStatus[], nowMs: number): string[][] {
  return operations.map((op) => [
    op.server,
    op.state,
    localTime(op.watermark, op.timeZone),
    op.lagSeconds === null ? NONE : formatAge(op.lagSeconds * 1000),
    lastSuccessOf(op, nowMs),
    op.lastError === null ? NONE : `${op.lastError.code} ${ago(op.lastError.at, nowMs)}`,
    `${count(op.quota.liveLeft)}/${count(op.quota.budget)}`,
    String(op.coverage.gapCount),
  ])
}

/** Aligned columns under a header, two spaces apart, no trailing spaces. */
function table(rows: readonly string[][]): string[] {
  const all = [COLUMNS.map((c) => c.title as string), ...rows]
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)))
  return all.map((row) =>
    row
      .map((cell, i) => (COLUMNS[i]!.right ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  )
}

/** What needs a look, one line each: pauses, missing checkpoints, stuck windows, backfills. */
export function statusNotes(operations: readonly OperationStatus[], nowMs: number): string[] {
  const notes: string[] = []
  for (const op of operations) {
    const at = (iso: string | null): string => localTime(iso, op.timeZone)
    if (op.paused !== null)
      notes.push(`${op.server}: paused until ${at(op.paused.until)}: ${clean(op.paused.reason)}`)
    const missing = op.checkpoint.missing
    if (missing !== null) {
      notes.push(
        `${op.server}: ${missing.code} ${ago(missing.since, nowMs)}: ${clean(missing.reason)}`,
      )
      for (const command of missing.resolve) notes.push(`  resolve: ${command}`)
    }
    for (const stuck of op.stuckWindows)
      notes.push(
        `${op.server}: ${stuck.purpose} window from ${at(stuck.from)} failed ${stuck.failures} times${stuck.code === null ? '' : ` (${stuck.code})`}`,
      )
    if (op.lastError !== null && op.state === 'failing')
      notes.push(
        `${op.server}: last error (${op.lastError.purpose}): ${clean(op.lastError.message)}`,
      )
    for (const b of op.backfills) {
      if (b.state === 'done') continue
      notes.push(
        `${op.server}: backfill ${at(b.from)} to ${at(b.to)} ${b.state}, ${b.windowsDone}/${b.windowsTotal} windows${b.error === null ? '' : ` (${b.error.code})`}`,
      )
    }
  }
  return notes
}

/**
 * The whole `status` text: the summary, then (without `--summary`) the table and the notes.
 * Times are the operation's local time; ages are from `nowMs`.
 */
export function renderStatus(document: StatusDocument, nowMs: number): string {
  const lines = renderSummary(document.summary, nowMs)
  if (document.operations !== undefined) {
    lines.push('', ...table(statusRows(document.operations, nowMs)))
    const notes = statusNotes(document.operations, nowMs)
    if (notes.length > 0) lines.push('', ...notes)
  }
  return `${lines.join('\n')}\n`
}
