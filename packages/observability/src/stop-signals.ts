/**
 * Repeats of one stop signal within this long of its first count as one. systemd sends SIGTERM to
 * the whole process group, and `npm run` and tsx forward it to their child as well, so a service
 * receives the same SIGTERM two or three times within milliseconds; only a signal after this window
 * (a person pressing Ctrl-C again) means "exit now".
 */
export const REPEATED_SIGNAL_WINDOW_MS = 1_000

/** What a stop signal means: the first asks for a graceful stop; a repeat is ignored. */
export type StopSignalKind = 'first' | 'repeat' | 'second'

/**
 * Classifies the stop signals (SIGTERM, SIGINT) a process receives: `first`, then `repeat` for the
 * same signal again within `windowMs` of the first (one signal delivered several times), then
 * `second` for any later one, or another signal, which should end the process at once.
 */
export function createStopSignals(
  options: { windowMs?: number; now?: () => number } = {},
): (signal: string) => StopSignalKind {
  const windowMs = options.windowMs ?? REPEATED_SIGNAL_WINDOW_MS
  const now = options.now ?? Date.now
  let first: { signal: string; atMs: number } | undefined
  return (signal) => {
    const at = now()
    if (first === undefined) {
      first = { signal, atMs: at }
      return 'first'
    }
    return signal === first.signal && at - first.atMs < windowMs ? 'repeat' : 'second'
  }
}
