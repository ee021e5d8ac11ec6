/*
 * The consumer's commits: the kit commits an offset only once the state of every event before it
 * is stored in Redis. Offsets stored while a commit is in flight wait for it and go together in
 * the next, so there is at most one commit request at a time. (A partition replayed from its start
 * for a rebuild commits its lower offsets again as they are stored.) A failed commit (a rebalance, the coordinator away) is not
 * retried on its own: the next stored chunk, or the stop, commits again; until then a restart
 * reads a few events again, which the stored offset makes harmless.
 */

/** A partition's next offset to read (the last stored one + 1). */
export interface PartitionOffset {
  partition: number
  offset: number
}

/** Offsets to commit, gathered from the lanes. */
export interface OffsetCommits {
  /** The state of `lastOffset` (and everything before it) of `partition` is stored. */
  stored(partition: number, lastOffset: number): void
  /** Commits what is stored and not yet committed; resolves when that commit has ended. */
  flush(): Promise<void>
}

export function createOffsetCommits(options: {
  commit: (offsets: PartitionOffset[]) => Promise<void>
  /** Whether this consumer still reads `partition` (commits of others are dropped). */
  owned: (partition: number) => boolean
  onError: (error: unknown) => void
}): OffsetCommits {
  const pending = new Map<number, number>()
  let inFlight: Promise<void> | undefined
  let again = false

  const once = async (): Promise<void> => {
    const offsets: PartitionOffset[] = []
    for (const [partition, offset] of pending) {
      if (options.owned(partition)) offsets.push({ partition, offset })
    }
    pending.clear()
    if (offsets.length === 0) return
    try {
      await options.commit(offsets)
    } catch (error) {
      // Kept for the next flush unless a newer offset arrived meanwhile.
      for (const { partition, offset } of offsets)
        if ((pending.get(partition) ?? -1) < offset) pending.set(partition, offset)
      options.onError(error)
    }
  }

  const flush = (): Promise<void> => {
    if (inFlight !== undefined) {
      again = true
      return inFlight
    }
    inFlight = (async () => {
      try {
        do {
          again = false
          await once()
        } while (again && pending.size > 0)
      } finally {
        inFlight = undefined
      }
    })()
    return inFlight
  }

  return {
    stored: (partition, lastOffset) => {
      const next = lastOffset + 1
      if ((pending.get(partition) ?? -1) < next) pending.set(partition, next)
    },
    flush,
  }
}
