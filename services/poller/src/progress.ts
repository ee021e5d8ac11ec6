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
  // Clamped: a bar must never end the command (String#repeat throws on a negative count).
  const share = p.windowsTotal <= 0 ? 1 : Math.min(1, Math.max(0, p.windowsDone / p.windowsTotal))
  const filled = Math.round(share * width)
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`
  const eta = p.etaMs === null ? 'ETA …' : `ETA ${formatEta(p.etaMs)}`
  return `${p.server} backfill [${bar}] ${p.windowsDone}/${p.windowsTotal} windows ${Math.floor(share * 100)}% · ${p.published.toLocaleString('en-US')} published · ${eta}`
}

/** What progress is written to: a stream, a terminal when `isTTY`. */
export interface ProgressStream {
  write(text: string): unknown
  isTTY?: boolean
}

/** Erases the terminal line the cursor is on and returns to its start. */
const CLEAR_LINE = '\r\x1b[2K'

/**
 * The last line of a terminal, redrawn in place (a progress bar), that other output must not
 * print over. On a stream that is not a terminal it draws nothing.
 */
export interface LiveLine {
  /** Draws `text` in place of the line drawn before. */
  show(text: string): void
  /** Ends the line where it is, so later output starts below it. Idempotent. */
  done(): void
  /**
   * A stream writing through `inner` that first erases the live line and then draws it again
   * below what was written: give it to the logger, so a log line never lands on the bar. It keeps
   * `inner`'s `isTTY`, so the logger still picks its format by the real stream.
   */
  around(inner: ProgressStream): ProgressStream
}

/** A {@link LiveLine} on `out` (the terminal the bar is drawn on). */
export function createLiveLine(out: ProgressStream): LiveLine {
  const tty = out.isTTY === true
  let current: string | null = null
  return {
    show(text) {
      if (!tty) return
      current = text
      out.write(`${CLEAR_LINE}${text}`)
    },
    done() {
      if (current === null) return
      current = null
      out.write('\n')
    },
    around(inner) {
      const stream: ProgressStream = {
        write(chunk) {
          if (current === null) return inner.write(chunk)
          out.write(CLEAR_LINE)
          const written = inner.write(chunk)
          out.write(current)
          return written
        },
      }
      if (inner.isTTY !== undefined) stream.isTTY = inner.isTTY
      return stream
    },
  }
}

/**
 * Writes backfill progress: a bar redrawn in place on a terminal (on `live`, so log lines written
 * through `live.around(...)` go above it), a JSON line per window otherwise.
 */
export function createProgressReporter(
  stream: ProgressStream,
  live: LiveLine = createLiveLine(stream),
): {
  window(p: BackfillProgress): void
  end(summary: Record<string, unknown>): void
} {
  const tty = stream.isTTY === true
  return {
    window: (p) => {
      if (tty) {
        live.show(progressLine(p))
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
      live.done()
      stream.write(`${JSON.stringify({ event: 'end', ...summary })}\n`)
    },
  }
}
