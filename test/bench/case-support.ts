/** What a benchmark case prints as its last stdout line, read by the harness. */
export interface CaseResult {
  items: number
  durationMs: number
  peakRssBytes: number
  /**
   * Latency rows (no baseline): p50 and p99 in ms over every message of every window of the case
   * (pooled, not a median of per-window figures), the worst window's p99 and its slowest message.
   */
  latencyMs?: {
    p50: number
    p99: number
    worstP99: number
    /** The slowest message of the case (the worst window's last). */
    max: number
    windows: number
    messagesPerWindow: number
    /** `[ms, messages]`: how many messages became visible at each sampled time, every window. */
    points: [number, number][]
  }
  /** Figures a row states beside its rate (the poller fleet's schedule adherence, Redis, CPU). */
  figures?: Record<string, number | string>
}

/**
 * The time by which a share `q` of the messages became visible, over `points` (`[ms, messages]`)
 * pooled from any number of windows: the smallest sampled time with at least ⌈q·total⌉ messages at
 * or before it.
 */
export function pooledQuantile(points: readonly (readonly [number, number])[], q: number): number {
  const sorted = [...points].sort((a, b) => a[0] - b[0])
  const total = sorted.reduce((n, [, count]) => n + count, 0)
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (const [ms, count] of sorted) {
    seen += count
    if (seen >= rank) return ms
  }
  return NaN
}

export function numberFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`)
  return value
}

/**
 * Prints the case's result with the process's peak resident memory (or the one given, for a case
 * whose work runs in a child), then lets the process end.
 */
export function reportResult(
  result: Omit<CaseResult, 'peakRssBytes'> & { peakRssBytes?: number },
): void {
  const peakRssBytes = result.peakRssBytes ?? process.resourceUsage().maxRSS * 1024
  process.stdout.write(
    `BENCH_RESULT ${JSON.stringify({ ...result, peakRssBytes } satisfies CaseResult)}\n`,
  )
}
