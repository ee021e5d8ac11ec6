/*
 * The apply script and the merged reads of the service kit, on the run's private Redis: the rules
 * that make a consumer idempotent (offset, event_id, all-or-nothing groups, epochs) checked one by
 * one, without Kafka.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import {
  buildApplyScript,
  createStateReader,
  deleteServiceState,
  serviceKeys,
  type StateOp,
  type StateWriter,
} from '@wolkvox-chat-stream/service-kit'
import {
  createStateStore,
  type ApplyInput,
  type StateStore,
} from '../../packages/service-kit/src/state-store.js'
import {
  createStateWriter,
  mergeGroups,
  type OpGroup,
} from '../../packages/service-kit/src/state-ops.js'
import { uniqueName } from '../support/wait-for.js'

const KEEP_MAX = `-- keepMax: KEYS[1] a hash; ARGV[1] a field, ARGV[2] a number. Keeps the larger number.
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '')
if current == nil or tonumber(ARGV[2]) > current then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end`

describe('the apply script', () => {
  let redis: Redis
  const names: string[] = []
  const script = buildApplyScript({ keepMax: KEEP_MAX })

  beforeAll(async () => {
    redis = createRedis(inject('redisUrl'), { name: 'service-kit-state-test' })
    await waitUntilReady(redis)
  })

  afterAll(async () => {
    for (const name of names) await deleteServiceState(redis, name)
    await redis.quit()
  })

  const setup = (): { store: StateStore; name: string; keys: ReturnType<typeof serviceKeys> } => {
    const name = uniqueName('state')
    names.push(name)
    return {
      store: createStateStore(redis, serviceKeys(name), script),
      name,
      keys: serviceKeys(name),
    }
  }
  const ops = (record: (state: StateWriter) => void): StateOp[] => {
    const list: StateOp[] = []
    record(createStateWriter(list, script.functions))
    return list
  }
  const event = (offset: number, id: string, record: (state: StateWriter) => void): OpGroup => ({
    events: [{ offset: String(offset), eventId: id }],
    ops: ops(record),
  })
  const input = (groups: OpGroup[], lastOffset: number, more: Partial<ApplyInput> = {}) => ({
    partition: 0,
    epoch: 'E1',
    fresh: false,
    eventIdTtlMs: 60_000,
    lastOffset: String(lastOffset),
    lastMark: `mark-${lastOffset}`,
    log: { cluster: 'C1', topic: 'in' },
    groups,
    ...more,
  })
  const count = (state: StateWriter) => state.hincrby('counts', 'messages')

  it('writes nothing for a partition whose state is gone, unless it starts fresh', async () => {
    const { store, keys } = setup()
    expect(await store.apply(input([event(0, 'a', count)], 0))).toEqual({ status: 'LOST' })
    expect(await redis.exists(keys.state(0, 'counts'))).toBe(0)
    expect(await store.apply(input([event(0, 'a', count)], 0, { fresh: true }))).toMatchObject({
      status: 'OK',
    })
    expect(await redis.hgetall(keys.meta(0))).toMatchObject({
      offset: '0',
      mark: 'mark-0',
      epoch: 'E1',
      cluster: 'C1',
      topic: 'in',
      applied: '1',
    })
  })

  it('writes nothing on state built from another cluster or topic, and keeps the mark with the offset', async () => {
    const { store, keys } = setup()
    await store.apply(input([event(0, 'a', count)], 0, { fresh: true }))
    const other = { status: 'FOREIGN' }
    expect(
      await store.apply(input([event(1, 'b', count)], 1, { log: { cluster: 'C2', topic: 'in' } })),
    ).toEqual(other)
    expect(
      await store.apply(input([event(1, 'b', count)], 1, { log: { cluster: 'C1', topic: 'x' } })),
    ).toEqual(other)
    expect(await redis.hget(keys.state(0, 'counts'), 'messages')).toBe('1')
    // Only duplicates: the offset and its mark stay together.
    await store.apply(input([event(0, 'a', count)], 0, { lastMark: 'other' }))
    expect(await redis.hmget(keys.meta(0), 'offset', 'mark')).toEqual(['0', 'mark-0'])
    await store.apply(input([event(1, 'b', count)], 1))
    expect(await redis.hmget(keys.meta(0), 'offset', 'mark')).toEqual(['1', 'mark-1'])
  })

  it('skips events at or below the stored offset and event_ids already applied', async () => {
    const { store, keys } = setup()
    await store.apply(input([event(0, 'a', count), event(1, 'b', count)], 1, { fresh: true }))
    const again = await store.apply(
      input([event(1, 'b', count), event(2, 'a', count), event(3, 'c', count)], 3),
    )
    expect(again).toEqual({ status: 'OK', skipped: [0, 1], opErrors: [] })
    // The same event twice in one call counts once.
    await store.apply(input([event(4, 'd', count), event(5, 'd', count)], 5))
    expect(await redis.hget(keys.state(0, 'counts'), 'messages')).toBe('4')
    expect(await redis.hget(keys.meta(0), 'offset')).toBe('5')
    expect(await redis.zcard(keys.events(0))).toBe(4)
    expect(await redis.pttl(keys.events(0))).toBeGreaterThan(50_000)
  })

  it('applies a group all or nothing, and sums HINCRBYs without changing the outcome', async () => {
    const { store, keys } = setup()
    await store.apply(input([event(0, 'a', count)], 0, { fresh: true }))
    const merged = mergeGroups([
      event(1, 'b', (s) => (s.hincrby('counts', 'messages'), s.hincrby('counts', 'x', 2))),
      event(2, 'c', (s) => (s.hset('last', { offset: 2 }), s.hincrby('counts', 'messages'))),
      event(3, 'd', (s) => s.hincrby('counts', 'x', -1)),
    ])
    expect(merged.ops.map((op) => [op.command, ...op.args])).toEqual([
      ['HINCRBY', 'messages', '1'],
      ['HINCRBY', 'x', '2'],
      ['HSET', 'offset', '2'],
      ['HINCRBY', 'messages', '1'],
      ['HINCRBY', 'x', '-1'],
    ])
    expect(await store.apply(input([merged], 3))).toMatchObject({ status: 'OK', skipped: [] })
    expect(await redis.hgetall(keys.state(0, 'counts'))).toEqual({ messages: '3', x: '1' })
    // A group partly applied already (a zombie consumer got there first) is a conflict.
    const partly = mergeGroups([event(3, 'd', count), event(4, 'e', count)])
    expect(await store.apply(input([partly], 4))).toEqual({ status: 'CONFLICT' })
    expect(await redis.hget(keys.meta(0), 'offset')).toBe('3')
  })

  it('rejects a group whose operation cannot apply, before writing anything', async () => {
    const { store, keys } = setup()
    await store.apply(input([event(0, 'a', count)], 0, { fresh: true }))
    const result = await store.apply(
      input([event(1, 'b', count), event(2, 'c', (s) => s.sadd('counts', 'x'))], 2),
    )
    expect(result).toEqual({
      status: 'REJECTED',
      rejected: [{ group: 1, reason: expect.stringContaining('SADD needs a set') }],
    })
    expect(await redis.hget(keys.state(0, 'counts'), 'messages')).toBe('1')
    expect(await redis.hget(keys.meta(0), 'offset')).toBe('0')
  })

  it('refuses state of another epoch, and runs registered Lua functions inside the script', async () => {
    const { store, keys } = setup()
    const keepMax = (value: number) => (s: StateWriter) =>
      s.lua('keepMax', [['max', 'a b']], ['v', value])
    await store.apply(
      input([event(0, 'a', keepMax(5)), event(1, 'b', keepMax(3)), event(2, 'c', keepMax(9))], 2, {
        fresh: true,
      }),
    )
    expect(await redis.hget(keys.state(0, ['max', 'a b']), 'v')).toBe('9')
    expect(keys.state(0, ['max', 'a b'])).toMatch(/:s:max:a%20b$/)
    expect(await store.apply(input([event(3, 'd', count)], 3, { epoch: 'E2' }))).toEqual({
      status: 'STALE',
      epoch: 'E1',
    })
  })

  it('merges partitions of the current epoch only', async () => {
    const { store, name, keys } = setup()
    await redis.set(keys.epoch, 'E1')
    for (const partition of [0, 1, 2]) {
      await store.registerPartition(partition)
      await store.apply({
        ...input(
          [event(0, `p${partition}`, (s) => (count(s), s.sadd('agents', `a${partition}`)))],
          0,
        ),
        partition,
        fresh: true,
        epoch: partition === 2 ? 'OLD' : 'E1',
      })
    }
    const reader = createStateReader({ redis, name })
    expect(await reader.partitions()).toEqual([0, 1])
    expect(await reader.sumHash('counts')).toEqual({ messages: 2 })
    expect(await reader.unionSet('agents')).toEqual(['a0', 'a1'])
    await redis.del(keys.epoch)
    expect(await reader.partitions()).toEqual([])
  })
})
