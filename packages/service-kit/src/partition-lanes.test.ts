import { describe, expect, it } from 'vitest'
import { createPartitionLanes, type LaneBatch } from './partition-lanes.js'

interface Batch extends LaneBatch {
  name: string
}

/** A gate a test opens: the batch being processed waits on it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined
  const wait = new Promise<void>((resolve) => (open = resolve))
  return { wait, open }
}

function setup(options: { maxBytes?: number; concurrency?: number } = {}) {
  const processed: string[] = []
  const events: string[] = []
  const gates = new Map<string, ReturnType<typeof gate>>()
  let stopped = false
  const lanes = createPartitionLanes<Batch>({
    maxBytes: options.maxBytes ?? 100,
    concurrency: options.concurrency ?? 10,
    stopped: () => stopped,
    hooks: {
      process: async (batch, generation) => {
        events.push(`start ${batch.name}`)
        await gates.get(batch.name)?.wait
        if (lanes.current(batch.partition, generation)) processed.push(batch.name)
        events.push(`end ${batch.name}`)
      },
      pause: (partition) => events.push(`pause ${partition}`),
      resume: (partition) => events.push(`resume ${partition}`),
    },
  })
  const hold = (name: string) => {
    const g = gate()
    gates.set(name, g)
    return g
  }
  return { lanes, processed, events, hold, stop: () => (stopped = true) }
}

const batch = (partition: number, name: string, bytes = 10): Batch => ({ partition, name, bytes })

describe('partition lanes', () => {
  it('processes each partition in order, partitions side by side', async () => {
    const { lanes, processed, hold } = setup()
    const a1 = hold('a1')
    lanes.push(batch(0, 'a1'))
    lanes.push(batch(0, 'a2'))
    lanes.push(batch(1, 'b1'))
    await new Promise((resolve) => setImmediate(resolve))
    // Partition 1 is not held up by partition 0's batch in progress.
    expect(processed).toEqual(['b1'])
    a1.open()
    await lanes.idle()
    expect(processed).toEqual(['b1', 'a1', 'a2'])
  })

  it('runs at most `concurrency` batches at once', async () => {
    const { lanes, events, hold } = setup({ concurrency: 1 })
    const a = hold('a')
    lanes.push(batch(0, 'a'))
    lanes.push(batch(1, 'b'))
    await new Promise((resolve) => setImmediate(resolve))
    expect(events).toEqual(['start a'])
    a.open()
    await lanes.idle()
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b'])
  })

  it('pauses a partition over its bytes and resumes it at half', async () => {
    const { lanes, events, hold } = setup({ maxBytes: 100 })
    const gates = ['x1', 'x2', 'x3'].map((name) => hold(name))
    lanes.push(batch(0, 'x1', 60))
    lanes.push(batch(0, 'x2', 30))
    expect(events).not.toContain('pause 0')
    lanes.push(batch(0, 'x3', 20))
    expect(events).toContain('pause 0')
    expect(lanes.queuedBytes()).toBe(110)
    gates[0]!.open()
    await new Promise((resolve) => setTimeout(resolve, 0))
    // 50 left: half of 100.
    expect(lanes.queuedBytes()).toBe(50)
    expect(events.filter((e) => e.startsWith('resume'))).toEqual(['resume 0'])
    gates[1]!.open()
    gates[2]!.open()
    await lanes.idle()
    expect(lanes.queuedBytes()).toBe(0)
  })

  it('bounds the bytes of every lane together: a partition that brings more is paused', async () => {
    const { lanes, events, hold } = setup({ maxBytes: 100 })
    const gates = ['a', 'b'].map((name) => hold(name))
    lanes.push(batch(0, 'a', 60))
    lanes.push(batch(1, 'b', 45))
    expect(events.filter((e) => e.startsWith('pause'))).toEqual(['pause 1'])
    gates[0]!.open()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(events.filter((e) => e.startsWith('resume'))).toEqual(['resume 1'])
    gates[1]!.open()
    await lanes.idle()
  })

  it('drops what a cleared lane holds; the batch in progress sees its generation end', async () => {
    const { lanes, processed, events, hold } = setup({ maxBytes: 15 })
    const first = hold('old1')
    lanes.push(batch(0, 'old1'))
    lanes.push(batch(0, 'old2'))
    expect(events).toContain('pause 0')
    await new Promise((resolve) => setImmediate(resolve))
    lanes.clear(0)
    expect(events).toContain('resume 0')
    lanes.push(batch(0, 'new1'))
    first.open()
    await lanes.idle()
    expect(processed).toEqual(['new1'])
    expect(events).not.toContain('start old2')
    expect(lanes.queuedBytes()).toBe(0)
  })

  it('stops taking batches once stopped; the batch in progress ends', async () => {
    const { lanes, processed, hold, stop } = setup()
    const a = hold('a')
    lanes.push(batch(0, 'a'))
    lanes.push(batch(0, 'b'))
    await new Promise((resolve) => setImmediate(resolve))
    stop()
    a.open()
    await lanes.idle()
    expect(processed).toEqual(['a'])
  })
})
