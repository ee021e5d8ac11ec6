/*
 * The consumer's intake: batches taken off kafkajs as they arrive go into one lane per partition
 * and are processed there in order, while kafkajs fetches the next ones. When the lanes together
 * hold more than their bytes, a partition that brings more is paused until they have drained to
 * half of them, so memory stays bounded whatever the backlog. A seek or a revocation clears a lane: what it held was read
 * from a position that no longer holds, and the batch being processed sees its generation change.
 */

/** A batch of one partition, with its size in bytes (for back-pressure). */
export interface LaneBatch {
  partition: number
  bytes: number
}

/** What a lane asks of the consumer around it. */
export interface LaneHooks<B extends LaneBatch> {
  /** Processes one batch; `generation` is the lane's when it started (see {@link PartitionLanes.current}). */
  process(batch: B, generation: number): Promise<void>
  /** Stops fetching the partition (the lanes are full). */
  pause(partition: number): void
  /** Fetches the partition again. */
  resume(partition: number): void
}

/** Lanes of every partition this consumer reads. */
export interface PartitionLanes<B extends LaneBatch> {
  /** Queues a batch in its partition's lane (and starts the lane); pauses it when full. */
  push(batch: B): void
  /** Drops what a partition's lane holds (a seek, a revocation), and resumes it if paused. */
  clear(partition: number): void
  /** Whether `generation` is still the partition's: nothing cleared it since. */
  current(partition: number, generation: number): boolean
  /** Bytes queued in every lane (the batches being processed included). */
  queuedBytes(): number
  /** Resolves once no lane is processing (after a stop, the batches in flight end). */
  idle(): Promise<void>
}

interface Lane<B> {
  queue: B[]
  /** Bytes of the queue and of the batch being processed. */
  bytes: number
  paused: boolean
  generation: number
  running: Promise<void> | undefined
}

/**
 * Creates the lanes. At most `concurrency` lanes process a batch at once (the others wait their
 * turn, in the order they asked); a partition whose batch brings the lanes over `maxBytes` is
 * paused, and every paused one is resumed once they hold half of that. `stopped()` ends every
 * lane at its next batch.
 */
export function createPartitionLanes<B extends LaneBatch>(options: {
  maxBytes: number
  concurrency: number
  hooks: LaneHooks<B>
  stopped: () => boolean
}): PartitionLanes<B> {
  const { hooks } = options
  const lanes = new Map<number, Lane<B>>()
  let active = 0
  let total = 0
  const waiting: (() => void)[] = []

  const lane = (partition: number): Lane<B> => {
    let found = lanes.get(partition)
    if (found === undefined) {
      found = { queue: [], bytes: 0, paused: false, generation: 0, running: undefined }
      lanes.set(partition, found)
    }
    return found
  }

  const acquire = async (): Promise<void> => {
    if (active < options.concurrency) {
      active++
      return
    }
    await new Promise<void>((resolve) => waiting.push(resolve))
  }

  const release = (): void => {
    const next = waiting.shift()
    if (next) next()
    else active--
  }

  const settle = (): void => {
    if (total > options.maxBytes / 2) return
    for (const [partition, l] of lanes) {
      if (!l.paused) continue
      l.paused = false
      hooks.resume(partition)
    }
  }

  const run = async (l: Lane<B>): Promise<void> => {
    while (l.queue.length > 0 && !options.stopped()) {
      const batch = l.queue[0]!
      const generation = l.generation
      await acquire()
      try {
        if (l.generation === generation && !options.stopped())
          await hooks.process(batch, generation)
      } finally {
        release()
      }
      // A clear meanwhile emptied the queue (and counted its bytes out) already.
      if (l.generation === generation) {
        l.queue.shift()
        l.bytes -= batch.bytes
        total -= batch.bytes
      }
      settle()
    }
  }

  const start = (partition: number, l: Lane<B>): void => {
    if (l.running !== undefined) return
    l.running = run(l).finally(() => {
      l.running = undefined
      // A batch pushed while the loop was ending.
      if (l.queue.length > 0 && !options.stopped()) start(partition, l)
    })
  }

  return {
    push: (batch) => {
      const l = lane(batch.partition)
      l.queue.push(batch)
      l.bytes += batch.bytes
      total += batch.bytes
      if (!l.paused && total > options.maxBytes) {
        l.paused = true
        hooks.pause(batch.partition)
      }
      start(batch.partition, l)
    },
    clear: (partition) => {
      const l = lanes.get(partition)
      if (l === undefined) return
      l.generation++
      l.queue = []
      total -= l.bytes
      l.bytes = 0
      settle()
    },
    current: (partition, generation) => lanes.get(partition)?.generation === generation,
    queuedBytes: () => total,
    idle: async () => {
      for (;;) {
        const running = [...lanes.values()].flatMap((l) => (l.running ? [l.running] : []))
        if (running.length === 0) return
        await Promise.allSettled(running)
      }
    },
  }
}
