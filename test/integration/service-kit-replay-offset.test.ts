/*
 * The apply script's offset check on its own: a chunk at or below the partition's applied offset
 * changes nothing even where the event_id set cannot tell, for events that carry no event_id (a
 * service's `eventId` may return none) and for a replay that comes after their ids have expired
 * (CONSUMER_EVENT_ID_TTL). service-kit-state.test.ts replays events whose ids are still known, so
 * the id check alone passes it; the sabotage check `kit-offset-check` (test/sabotage) relies on
 * this file.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import {
  buildApplyScript,
  deleteServiceState,
  serviceKeys,
  type StateOp,
} from '@wolkvox-chat-stream/service-kit'
import {
  createStateStore,
  type ApplyInput,
  type StateStore,
} from '../../packages/service-kit/src/state-store.js'
import { createStateWriter, type OpGroup } from '../../packages/service-kit/src/state-ops.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

describe('the apply script refuses a replay at or below the applied offset', () => {
  let redis: Redis
  const names: string[] = []
  const script = buildApplyScript()

  beforeAll(async () => {
    redis = createRedis(inject('redisUrl'), { name: 'service-kit-replay-offset-test' })
    await waitUntilReady(redis)
  })

  afterAll(async () => {
    for (const name of names) await deleteServiceState(redis, name)
    await redis.quit()
  })

  const setup = (): { store: StateStore; keys: ReturnType<typeof serviceKeys> } => {
    const name = uniqueName('replay-offset')
    names.push(name)
    return { store: createStateStore(redis, serviceKeys(name), script), keys: serviceKeys(name) }
  }
  /** One message counted: the state a replay must leave alone. */
  const countOne = (): StateOp[] => {
    const ops: StateOp[] = []
    createStateWriter(ops, script.functions).hincrby('counts', 'messages')
    return ops
  }
  /** A group of the events at `offsets`, counting each once; `id` gives their event_ids. */
  const group = (offsets: number[], id: (offset: number) => string | undefined): OpGroup => ({
    events: offsets.map((offset) => ({ offset: String(offset), eventId: id(offset) })),
    ops: offsets.flatMap(countOne),
  })
  const noId = (): undefined => undefined
  const input = (
    groups: OpGroup[],
    lastOffset: number,
    more: Partial<ApplyInput> = {},
  ): ApplyInput => ({
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

  it('skips events without an event_id at or below the stored offset, and a group across it is a conflict', async () => {
    const { store, keys } = setup()
    const first = [0, 1, 2].map((offset) => group([offset], noId))
    expect(await store.apply(input(first, 2, { fresh: true }))).toMatchObject({ status: 'OK' })
    // A consumer restarted before its commit reads offsets 1 and 2 again, then the new offset 3.
    const again = [1, 2, 3].map((offset) => group([offset], noId))
    expect(await store.apply(input(again, 3))).toEqual({
      status: 'OK',
      skipped: [0, 1],
      opErrors: [],
    })
    // Offsets 0, 1, 2 and 3, each counted once.
    expect(await redis.hget(keys.state(0, 'counts'), 'messages')).toBe('4')
    // A group of offsets 3 and 4 (3 applied already): applying it would count 3 twice.
    expect(await store.apply(input([group([3, 4], noId)], 4))).toEqual({ status: 'CONFLICT' })
    expect(await redis.hget(keys.state(0, 'counts'), 'messages')).toBe('4')
    expect(await redis.hget(keys.meta(0), 'offset')).toBe('3')
  })

  it('skips a replay of the whole partition after its event_ids have expired', async () => {
    const { store, keys } = setup()
    const ids = (offset: number): string => `event-${offset}`
    // Ids remembered for 200 ms only: long enough to apply, then gone, as after CONSUMER_EVENT_ID_TTL.
    const first = [0, 1, 2].map((offset) => group([offset], ids))
    const short = { eventIdTtlMs: 200 }
    expect(await store.apply(input(first, 2, { fresh: true, ...short }))).toMatchObject({
      status: 'OK',
    })
    await waitFor(async () => (await redis.exists(keys.events(0))) === 0, {
      timeoutMs: 10_000,
      what: 'the applied event_ids to expire',
    })
    // Offsets reset to the earliest: the same three events, at the same offsets, arrive again.
    expect(await store.apply(input(first, 2, short))).toEqual({
      status: 'OK',
      skipped: [0, 1, 2],
      opErrors: [],
    })
    expect(await redis.hget(keys.state(0, 'counts'), 'messages')).toBe('3')
  })
})
