/*
 * The figures `npm start` shows while it runs, from the services' /metrics and the poller's
 * /status/servers: pure functions over what was scraped, so the rendering is tested without services.
 */

/** One series of a metric: its labels and value. */
export interface Sample {
  labels: Record<string, string>
  value: number
}

/** Parses the Prometheus text format into samples by metric name (comments skipped). */
export function parseMetrics(text: string): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/u.exec(line)
    if (!match) continue
    const labels: Record<string, string> = {}
    for (const [, name, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/gu)) {
      labels[name!] = value!.replace(/\\(.)/gu, (_, c: string) => (c === 'n' ? '\n' : c))
    }
    const value = Number(match[3])
    if (Number.isNaN(value)) continue
    const list = out.get(match[1]!) ?? []
    list.push({ labels, value })
    out.set(match[1]!, list)
  }
  return out
}

/** The sum of a metric's series (those `where` accepts); 0 when it has none. */
export function sumOf(
  metrics: Map<string, Sample[]>,
  name: string,
  where: (labels: Record<string, string>) => boolean = () => true,
): number {
  return (metrics.get(name) ?? [])
    .filter((s) => where(s.labels))
    .reduce((sum, s) => sum + s.value, 0)
}

/** The poller's figures at one moment; `null` when it did not answer. */
export interface PollerFigures {
  published: number
  failedRequests: number
  /** The largest lag of its operations; `null` before the first watermark. */
  lagSeconds: number | null
  /** The latest successful poll of any operation. */
  lastPollAt: string | null
  lastError: { code: string; at: string } | null
}

/** A consumer's figures at one moment. */
export interface ConsumerFigures {
  applied: number
  lagMessages: number
  /** Dead letters and retries. */
  errors: number
}

/** Everything scraped in one round. */
export interface Snapshot {
  atMs: number
  poller: PollerFigures | null
  consumers: Record<string, ConsumerFigures | null>
}

/**
 * The parts of the poller's fleet summary read here: `summary` of `GET /status/servers` (or of
 * `GET /status`), the whole fleet's whatever the page (services/poller/src/status.ts).
 */
export interface StatusLike {
  summary: {
    /** The operation furthest behind; null before the first watermark. */
    maxLag: { server: string; seconds: number } | null
    lastPollAt: string | null
    lastError: { code: string; at: string } | null
  }
}

export function pollerFigures(metricsText: string, status: StatusLike): PollerFigures {
  const metrics = parseMetrics(metricsText)
  const { maxLag, lastPollAt, lastError } = status.summary
  return {
    published: sumOf(metrics, 'wolkvox_poller_events_published_total'),
    failedRequests: sumOf(metrics, 'wolkvox_poller_requests_total', (l) => l.outcome !== 'ok'),
    lagSeconds: maxLag?.seconds ?? null,
    lastPollAt,
    lastError: lastError === null ? null : { code: lastError.code, at: lastError.at },
  }
}

export function consumerFigures(metricsText: string): ConsumerFigures {
  const metrics = parseMetrics(metricsText)
  return {
    applied: sumOf(metrics, 'wolkvox_consumer_messages_total', (l) => l.outcome === 'applied'),
    lagMessages: sumOf(metrics, 'wolkvox_consumer_lag_messages'),
    errors:
      sumOf(metrics, 'wolkvox_consumer_dead_letters_total') +
      sumOf(metrics, 'wolkvox_consumer_retries_total'),
  }
}

const number = (n: number): string => Math.round(n).toLocaleString('en-US')

/** `42s`, `3m05s`, `2h10m`. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

const rate = (now: number, before: number | undefined, seconds: number): string =>
  before === undefined || seconds <= 0 ? '…' : number(Math.max(0, now - before) / seconds)

/**
 * One status line: events per second, lag, last poll and errors of each part, e.g.
 * `1m20s │ poller 410 ev/s, lag 2m05s, last poll 4s ago │ sentiment 380 msg/s, lag 0 │ … │ errors 0`.
 */
export function progressLine(
  current: Snapshot,
  previous: Snapshot | undefined,
  startedAtMs: number,
): string {
  const seconds = previous === undefined ? 0 : (current.atMs - previous.atMs) / 1000
  const parts = [shortDuration(current.atMs - startedAtMs)]
  let errors = 0
  const p = current.poller
  if (p === null) {
    parts.push('poller not answering')
  } else {
    errors += p.failedRequests
    const lag =
      p.lagSeconds === null ? 'no watermark yet' : `lag ${shortDuration(p.lagSeconds * 1000)}`
    const last =
      p.lastPollAt === null
        ? 'first poll running'
        : `last poll ${shortDuration(current.atMs - Date.parse(p.lastPollAt))} ago`
    parts.push(
      `poller ${rate(p.published, previous?.poller?.published, seconds)} ev/s, ${lag}, ${last}`,
    )
  }
  for (const [name, c] of Object.entries(current.consumers)) {
    if (c === null) {
      parts.push(`${name} not answering`)
      continue
    }
    errors += c.errors
    const before = previous?.consumers[name]?.applied
    parts.push(`${name} ${rate(c.applied, before, seconds)} msg/s, lag ${number(c.lagMessages)}`)
  }
  parts.push(`errors ${number(errors)}`)
  return parts.join(' │ ')
}
