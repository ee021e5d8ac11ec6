import { AppError } from '@wolkvox-chat-stream/errors'
import {
  createLogger,
  createStopSignals,
  REPEATED_SIGNAL_WINDOW_MS,
  type Logger,
} from '@wolkvox-chat-stream/observability'
import type { ConsumerService } from './consumer-service.js'

/** Options for {@link runService}; the defaults are what a service's `main.ts` wants. */
export interface RunServiceOptions {
  /** Default `process.exit`. */
  exit?: (code: number) => void
  /** Default `process`: where SIGTERM and SIGINT are trapped. */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>
  /** Used only when the service could not even be created (bad configuration). */
  logger?: Logger
  /** Default `Date.now`: when a signal came, to tell a repeated delivery from a second signal. */
  now?: () => number
}

/**
 * The composition root's last line: creates the service (so a `CONFIG_INVALID` becomes one fatal
 * log line and exit code 1), starts it, and traps SIGTERM and SIGINT to stop it gracefully, bounded
 * by `CONSUMER_SHUTDOWN_TIMEOUT`; a second signal exits at once. The same signal again within
 * `REPEATED_SIGNAL_WINDOW_MS` of the first is one signal delivered twice (systemd signals the
 * process group and npm and tsx forward it) and is ignored. Exits 0 after a requested stop, 1
 * when the service failed (too many dead letters in a row, a non-retriable error) or could not
 * stop in time. Signals are trapped here and nowhere else.
 */
export async function runService(
  create: ConsumerService | (() => ConsumerService | Promise<ConsumerService>),
  options: RunServiceOptions = {},
): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const signals = options.signals ?? process
  let service: ConsumerService
  try {
    service = typeof create === 'function' ? await create() : create
  } catch (error) {
    const logger = options.logger ?? createLogger({ name: 'consumer-service' })
    logger.fatal('consumer service could not be created', { err: error })
    exit(1)
    return
  }
  const { logger } = service
  let exiting = false
  const leave = (code: number): void => {
    if (exiting) return
    exiting = true
    signals.off('SIGTERM', onSignal)
    signals.off('SIGINT', onSignal)
    exit(code)
  }
  let stopRequested = false
  const kindOf = createStopSignals(options.now === undefined ? {} : { now: options.now })
  function onSignal(signal: NodeJS.Signals): void {
    const kind = kindOf(signal)
    if (kind === 'repeat') {
      logger.info('signal repeated (forwarded by npm or tsx): already stopping', {
        signal,
        windowMs: REPEATED_SIGNAL_WINDOW_MS,
      })
      return
    }
    if (kind === 'second') {
      logger.warn('second signal: exiting now', { signal })
      leave(1)
      return
    }
    stopRequested = true
    logger.info('signal received: stopping', { signal })
    service.stop().then(
      () => leave(0),
      () => leave(1),
    )
  }
  // Kept until exit (not `once`), so a second Ctrl-C reaches onSignal instead of Node's default.
  signals.on('SIGTERM', onSignal)
  signals.on('SIGINT', onSignal)

  try {
    await service.start()
  } catch (error) {
    logger.fatal('consumer service failed to start', { err: error })
    leave(1)
    return
  }
  try {
    await service.done
    if (!stopRequested) leave(0)
  } catch (error) {
    logger.fatal('consumer service stopped', {
      err: error,
      code: error instanceof AppError ? error.code : undefined,
    })
    leave(1)
  }
}
