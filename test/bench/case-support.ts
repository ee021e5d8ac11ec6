/** What a benchmark case prints as its last stdout line, read by the harness. */
export interface CaseResult {
  items: number
  durationMs: number
  peakRssBytes: number
  /** Latency rows (no baseline): percentiles in ms, medians over the case's windows. */
  latencyMs?: {
    p50: number
    p99: number
    worstP99: number
    windows: number
    messagesPerWindow: number
  }
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
