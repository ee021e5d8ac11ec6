import { scoreText } from './score.js'

/** The outcome of {@link measureThroughput}. */
export interface Throughput {
  /** Messages scored in the timed rounds. */
  messages: number
  durationMs: number
  messagesPerSecond: number
  /** CPU time of the process (all its threads, so the garbage collector's too) in the timed rounds. */
  cpuMs: number
  /** Messages per second of CPU time: steadier than wall time on a machine that is busy. */
  messagesPerCpuSecond: number
}

/** Options of {@link measureThroughput}. */
export interface ThroughputOptions {
  /** Keep scoring whole rounds of `texts` until at least this long has passed (default 1000). */
  minDurationMs?: number
  /** Untimed rounds first, so the JIT has compiled the hot paths (default 3). */
  warmupRounds?: number
  /** The scorer to time (default {@link scoreText}), so another one can be measured alike. */
  score?: (text: string) => unknown
}

/**
 * Measures single-core throughput: scores `texts` round after round, on the calling thread,
 * until `minDurationMs` has passed, and divides, by wall time and by the process's CPU time. The result of each call is kept in a variable
 * the optimiser cannot drop.
 *
 * @throws RangeError when `texts` is empty.
 */
export function measureThroughput(
  texts: readonly string[],
  options: ThroughputOptions = {},
): Throughput {
  if (texts.length === 0) throw new RangeError('measureThroughput needs at least one text')
  const { minDurationMs = 1000, warmupRounds = 3, score = scoreText } = options
  let sink: unknown
  for (let r = 0; r < warmupRounds; r++) for (const text of texts) sink = score(text)
  let messages = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  let elapsed: number
  do {
    for (const text of texts) sink = score(text)
    messages += texts.length
    elapsed = performance.now() - started
  } while (elapsed < minDurationMs)
  const used = process.cpuUsage(cpu)
  const cpuMs = (used.user + used.system) / 1000
  if (sink === Symbol.for('never')) messages++
  return {
    messages,
    durationMs: elapsed,
    messagesPerSecond: (messages / elapsed) * 1000,
    cpuMs,
    messagesPerCpuSecond: cpuMs === 0 ? 0 : (messages / cpuMs) * 1000,
  }
}
