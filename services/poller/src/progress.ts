import type { Range } from './window.js'

/** Where a backfill stands after a window. */
export interface BackfillProgress {
  server: string
  window: Range
  windowsDone: number
  windowsTotal: number
  published: number
  fetched: number
  /** Estimated time left, from this run's pace; null before the first window of the run. */
  etaMs: number | null
}

/** Time left at the pace of this run: windows done in it, and the time they took. */
export function estimateEtaMs(input: {
  doneThisRun: number
  elapsedMs: number
  remaining: number
}): number | null {
  if (input.doneThisRun <= 0) return null
  return Math.round((input.elapsedMs / input.doneThisRun) * Math.max(0, input.remaining))
}

/** `1h 02m`, `4m 10s`, `12s`. */
export function formatEta(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`
  return `${sec}s`
}

/** The progress line a terminal shows (redrawn in place). */
export function progressLine(p: BackfillProgress, width = 24): string {
  const share = p.windowsTotal === 0 ? 1 : p.windowsDone / p.windowsTotal
  const filled = Math.round(share * width)
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`
  const eta = p.etaMs === null ? 'ETA …' : `ETA ${formatEta(p.etaMs)}`
  return `${p.server} backfill [${bar}] ${p.windowsDone}/${p.windowsTotal} windows ${Math.floor(share * 100)}% · ${p.published.toLocaleString('en-US')} published · ${eta}`
}

/** Writes backfill progress: a line redrawn in place on a terminal, a JSON line per window otherwise. */
export function createProgressReporter(stream: { write(text: string): unknown; isTTY?: boolean }): {
  window(p: BackfillProgress): void
  end(summary: Record<string, unknown>): void
} {
  const tty = stream.isTTY === true
  return {
    window: (p) => {
      if (tty) {
        stream.write(`\r\x1b[2K${progressLine(p)}`)
        return
      }
      stream.write(
        `${JSON.stringify({
          event: 'window',
          server: p.server,
          window: {
            from: new Date(p.window.fromMs).toISOString(),
            to: new Date(p.window.toMs).toISOString(),
          },
          windowsDone: p.windowsDone,
          windowsTotal: p.windowsTotal,
          published: p.published,
          fetched: p.fetched,
          etaSeconds: p.etaMs === null ? null : Math.round(p.etaMs / 1000),
        })}\n`,
      )
    },
    end: (summary) => {
      stream.write(`${tty ? '\n' : ''}${JSON.stringify({ event: 'end', ...summary })}\n`)
    },
  }
}
