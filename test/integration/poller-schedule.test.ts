/*
 * The poller's schedule on a private redis-server (so every command counted is its own): the
 * tick's check of the schedulers costs one command while they are all there, and brings back
 * exactly the ones that went missing (issue 23: 200 operations, three replicas).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { createBullSchedule, type SchedulerSpec } from '@wolkvox-chat-stream/poller'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'

/** Calls per command so far (INFO commandstats). */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats')
  return new Map(
    [...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]),
  )
}

describe('the schedule check on every tick', () => {
  let server: RedisServer
  let connection: Redis
  let probe: Redis

  beforeAll(async () => {
    server = await startRedisServer()
    connection = createRedis(server.url, { role: 'blocking', name: 'schedule-test' })
    probe = createRedis(server.url, { name: 'schedule-probe' })
    await Promise.all([waitUntilReady(connection), waitUntilReady(probe)])
  })

  afterAll(async () => {
    connection?.disconnect()
    probe?.disconnect()
    await server?.stop()
  })

  it('checks its schedulers with one command, and re-creates only those that went missing', async () => {
    const schedule = createBullSchedule({
      connection,
      concurrency: 1,
      onError: (error) => {
        throw error
      },
    })
    try {
      const specs: SchedulerSpec[] = Array.from({ length: 200 }, (_, i) => [
        { server: String(300_001 + i), kind: 'poll' as const, everyMs: 300_000 },
        { server: String(300_001 + i), kind: 'sweep' as const, everyMs: 3_600_000 },
      ]).flat()
      expect(await schedule.ensure(specs)).toHaveLength(400)

      const before = await commandCalls(probe)
      expect(await schedule.ensure(specs, { quick: true })).toEqual([])
      const after = await commandCalls(probe)
      const used = [...after]
        .map(([name, calls]) => [name, calls - (before.get(name) ?? 0)] as const)
        .filter(([name, calls]) => calls > 0 && name !== 'info')
      // One ZMSCORE of the scheduler set: no script, no read per scheduler.
      expect(Object.fromEntries(used)).toEqual({ zmscore: 1 })

      // Two schedulers lost (an eviction, a partial restore): the count differs, each is checked.
      const lost = [specs[7]!, specs[250]!]
      const queueKeys = await probe.keys('*:repeat')
      expect(queueKeys).toHaveLength(1)
      for (const spec of lost) await probe.zrem(queueKeys[0]!, `${spec.kind}-${spec.server}`)
      expect(await schedule.ensure(specs, { quick: true })).toEqual(lost)
      expect(await schedule.ensure(specs, { quick: true })).toEqual([])

      // Another poller's schedulers on the same queue (other operations) do not hide a missing
      // one of ours, even when the counts match.
      const others: SchedulerSpec[] = [{ server: '399999', kind: 'poll', everyMs: 300_000 }]
      expect(await schedule.ensure([...specs, ...others])).toEqual(others)
      await probe.zrem(queueKeys[0]!, `${specs[3]!.kind}-${specs[3]!.server}`)
      expect(await schedule.ensure(specs, { quick: true })).toEqual([specs[3]])
    } finally {
      await schedule.close()
    }
  })
})
