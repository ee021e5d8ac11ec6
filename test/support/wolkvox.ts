/*
 * Shared by the Wolkvox client and simulator suites: a canary token that must never surface, and
 * loggers that keep every line they write so a test can prove it.
 */
import { inspect } from 'node:util'
import { createLogger, type Logger } from '@wolkvox-chat-stream/observability'

/** A token unique to this run; any output that contains it is a leak. */
export const canaryToken = `canary-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`

/** The simulator's clock in these suites: history and truth do not move while tests run. */
export const simulatorNowMs = Date.parse('2025-03-01T17:00:00Z')

/** Everything written by {@link captureLogger} loggers and passed to {@link keepOutput}. */
export const capturedOutput: string[] = []

/** A debug-level logger whose lines are kept in {@link capturedOutput}. */
export function captureLogger(name: string): Logger {
  return createLogger({
    name,
    level: 'trace',
    stream: { write: (line) => capturedOutput.push(line) },
  })
}

/** Keeps a value as a user would see it: JSON, `util.inspect` with causes, and `String()`. */
export function keepOutput(value: unknown): void {
  capturedOutput.push(
    JSON.stringify(value) ?? 'undefined',
    inspect(value, { depth: Infinity, showHidden: true }),
    String(value),
  )
}

/** The lines of {@link capturedOutput} that hold the canary (none, when nothing leaked). */
export function canaryLeaks(): string[] {
  return capturedOutput.filter((line) => line.includes(canaryToken))
}
