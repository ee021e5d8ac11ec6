/*
 * When a conversation emitter runs: after each stored chunk (the partition it touched), and every
 * sweep interval over the partitions the service owns (idle chats, and retries of failed emits).
 * At most one round runs at a time; partitions asked for meanwhile join the next round. Emitting
 * runs beside consumption, never in its way: the dirty marks make it crash-safe.
 */
import type { ConsumerService } from './consumer-service.js'
import type { ConversationEmitter } from './conversation-emitter.js'

export interface EmitLoop {
  /** The kit stored a chunk of `partition` (call from `afterStateStored`): emit what it made due. */
  stored(partition: number): void
  /** Starts emitting with `emitter`: a sweep now, then one every interval. */
  start(emitter: ConversationEmitter): void
  /** Stops the sweeps (before the service stops). */
  pause(): void
  /**
   * After the service stopped: waits for the running round, then drains what the last chunks made
   * due; marks left by a failure are emitted after the next start. Never rejects.
   */
  finish(): Promise<void>
}

/** An emit loop of `service`: chats idle `idleTimeoutMs` (publish time) are due. */
export function createEmitLoop(options: {
  service: Pick<ConsumerService, 'status' | 'logger'>
  idleTimeoutMs: number
  sweepIntervalMs: number
  /** What is emitted, for the log ("classifications"). */
  what: string
}): EmitLoop {
  const { service } = options
  let emitter: ConversationEmitter | undefined
  let sweeper: NodeJS.Timeout | undefined
  const wanted = new Set<number>()
  let idleWanted = false
  let loop: Promise<void> | undefined
  let owned: number[] = []

  const run = async (): Promise<void> => {
    while (emitter !== undefined && (wanted.size > 0 || idleWanted)) {
      const targets = [...wanted]
      const idle = idleWanted
      wanted.clear()
      idleWanted = false
      const rebuilding = new Set(service.status().rebuilding)
      for (const partition of targets) {
        // Half-replayed state is not emitted: the end of the rebuild emits it.
        if (rebuilding.has(partition)) continue
        try {
          await emitter.drain(partition)
          if (idle) await emitter.sweepIdle(partition, Date.now() - options.idleTimeoutMs)
        } catch (error) {
          service.logger.warn(`emitting ${options.what} failed; retried by the next sweep`, {
            err: error,
            partition,
          })
        }
      }
    }
  }
  const schedule = (partitions: Iterable<number>, idle: boolean): void => {
    for (const partition of partitions) wanted.add(partition)
    if (idle) idleWanted = true
    loop ??= run().finally(() => {
      loop = undefined
      if (emitter !== undefined && (wanted.size > 0 || idleWanted)) schedule([], false)
    })
  }
  const sweep = (): void => {
    const { assigned } = service.status()
    if (assigned.length > 0) owned = assigned
    schedule(owned, true)
  }

  return {
    stored(partition) {
      if (!owned.includes(partition)) owned = [...owned, partition]
      schedule([partition], false)
    },
    start(next) {
      emitter = next
      sweep()
      sweeper = setInterval(sweep, options.sweepIntervalMs)
    },
    pause() {
      clearInterval(sweeper)
    },
    async finish() {
      clearInterval(sweeper)
      const last = emitter
      await loop
      emitter = undefined
      for (const partition of owned) await last?.drain(partition).catch(() => undefined)
    },
  }
}
