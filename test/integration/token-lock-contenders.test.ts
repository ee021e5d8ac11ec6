import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { runScript } from '../support/child-lines.js'

const CONTENDERS = 20
const CALLS_EACH = 3

async function race(sim: RunningSimulator, mode: 'lock' | 'raw', token: string): Promise<number[]> {
  const server = String(100_000 + Math.floor(Math.random() * 800_000))
  const children = Array.from({ length: CONTENDERS }, () =>
    runScript('lock-contender-child.ts', [
      inject('redisUrl'),
      sim.url,
      server,
      token,
      String(CALLS_EACH),
      mode,
    ]),
  )
  const finished = await Promise.all(children.map((child) => child.next('finished', 150_000)))
  await Promise.all(children.map((child) => child.exited))
  return finished.map((line) => Number(line.done))
}

describe('20 contenders in separate processes on one token', () => {
  let sim: RunningSimulator
  const token = 'canary-contender-token-0b7e'

  beforeAll(async () => {
    // Each call takes 40 ms of server time, so unserialised callers overlap for sure.
    sim = await startSimulator({
      tokens: [token],
      latencyMs: 40,
      concurrentLimit: 2,
      dailyQuota: 100_000,
    })
  })

  afterAll(async () => {
    await sim.close()
  })

  it('never has two calls in flight at once through the lock, and every call is made', async () => {
    sim.clearCalls()
    const done = await race(sim, 'lock', token)
    expect(done).toEqual(Array(CONTENDERS).fill(CALLS_EACH))
    const calls = sim.calls()
    expect(calls).toHaveLength(CONTENDERS * CALLS_EACH)
    expect(calls.every((call) => call.outcome === 'completed')).toBe(true)
    expect(sim.overlaps()).toEqual([])
  })

  it('sees overlaps without the lock (the check can fail)', async () => {
    sim.clearCalls()
    await race(sim, 'raw', token)
    expect(sim.overlaps().length).toBeGreaterThan(0)
  })
})
