import { describe, expect, it } from 'vitest'
import { createOffsetCommits, type PartitionOffset } from './offset-commits.js'

function setup(owned: (partition: number) => boolean = () => true) {
  const calls: PartitionOffset[][] = []
  const errors: unknown[] = []
  let failNext = false
  let release: (() => void) | undefined
  let holdNext = false
  const commits = createOffsetCommits({
    commit: async (offsets) => {
      calls.push(offsets)
      if (holdNext) {
        holdNext = false
        await new Promise<void>((resolve) => (release = resolve))
      }
      if (failNext) {
        failNext = false
        throw new Error('rebalancing')
      }
    },
    owned,
    onError: (error) => errors.push(error),
  })
  return {
    commits,
    calls,
    errors,
    failNext: () => (failNext = true),
    holdNext: () => (holdNext = true),
    release: () => release?.(),
  }
}

describe('offset commits', () => {
  it('commits the next offset after the last stored, the newest of each partition', async () => {
    const { commits, calls } = setup()
    commits.stored(0, 9)
    commits.stored(0, 19)
    commits.stored(1, 4)
    await commits.flush()
    expect(calls).toEqual([
      [
        { partition: 0, offset: 20 },
        { partition: 1, offset: 5 },
      ],
    ])
    await commits.flush()
    expect(calls).toHaveLength(1)
  })

  it('sends what was stored during a commit in one more, after it', async () => {
    const { commits, calls, holdNext, release } = setup()
    holdNext()
    commits.stored(0, 9)
    const first = commits.flush()
    commits.stored(0, 29)
    const second = commits.flush()
    commits.stored(1, 3)
    void commits.flush()
    release()
    await Promise.all([first, second])
    expect(calls).toEqual([
      [{ partition: 0, offset: 10 }],
      [
        { partition: 0, offset: 30 },
        { partition: 1, offset: 4 },
      ],
    ])
  })

  it('keeps a failed commit for the next flush, unless a newer offset came', async () => {
    const { commits, calls, errors, failNext } = setup()
    failNext()
    commits.stored(0, 9)
    commits.stored(1, 9)
    await commits.flush()
    expect(errors).toHaveLength(1)
    commits.stored(1, 19)
    await commits.flush()
    expect(calls[1]).toEqual([
      { partition: 0, offset: 10 },
      { partition: 1, offset: 20 },
    ])
  })

  it('drops offsets of partitions this consumer no longer reads', async () => {
    const { commits, calls } = setup((partition) => partition !== 1)
    commits.stored(0, 1)
    commits.stored(1, 1)
    await commits.flush()
    expect(calls).toEqual([[{ partition: 0, offset: 2 }]])
  })
})
