/*
 * Redis Cluster slots of the product's keys. On a cluster, a command on several keys (DEL, MGET),
 * a MULTI/EXEC, a Lua script and an ioredis pipeline must keep every key in one hash slot, or the
 * cluster (CROSSSLOT) or ioredis ("All keys in the pipeline should belong to the same slots
 * allocation group") refuses it. Each `it` below is one such operation of the product, named by
 * file and function, with its keys built by the product's own builders, or captured by running the
 * function itself against a stand-in for Redis that records every command, pipeline and
 * transaction it is sent. Keys of different servers, partitions and services must spread over
 * slots, so a cluster shares the load.
 */
import { describe, expect, it } from 'vitest'
import type { ChatMessage } from '@wolkvox-chat-stream/events'
import type { EventProducer } from '@wolkvox-chat-stream/kafka'
import {
  SCHEDULE_PREFIX,
  backfillKeys,
  bindingKeys,
  createBackfillStore,
  createOperationStore,
  createRedisPublishedSet,
  operationKeys,
  publishedSetKeys,
  scheduleKeys,
} from '@wolkvox-chat-stream/poller'
import { recordBatch as recordSentimentBatch } from '@wolkvox-chat-stream/sentiment-aggregator'
import {
  applyScriptKeys,
  createStateReader,
  createTestContext,
  deleteServiceState,
  serviceKeys,
  stateCommands,
  type OpGroup,
  type StateOp,
} from '@wolkvox-chat-stream/service-kit'
import { createTokenLock } from '@wolkvox-chat-stream/token-lock'
import {
  compileRules,
  conversationKey,
  createEmitter,
  memberOf,
  parseRules,
  recordBatch as recordClassifierBatch,
  recordScriptKeys,
  rematchScriptKeys,
  type LoadedRules,
} from '@wolkvox-chat-stream/tramite-classifier'
import type { Redis } from './client.js'
import { redisKeys } from './keys.js'
import { hashTagOf } from './scan.js'

// --- the slot, as Redis Cluster computes it -------------------------------------------------------

/** CRC16/XMODEM (polynomial 0x1021, initial 0), the checksum Redis Cluster hashes keys with. */
function crc16(bytes: Uint8Array): number {
  let crc = 0
  for (const byte of bytes) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc
}

/** The slot of `key`: of the text inside its first `{…}` when that is not empty, else of all of it. */
function slotOf(key: string): number {
  const bytes = Buffer.from(key, 'utf8')
  const open = bytes.indexOf('{')
  if (open !== -1) {
    const close = bytes.indexOf('}', open + 1)
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % 16_384
  }
  return crc16(bytes) % 16_384
}

function expectOneSlot(keys: readonly string[], what = 'the keys'): void {
  expect(keys.length, `${what}: no keys`).toBeGreaterThan(0)
  const slots = [...new Set(keys.map(slotOf))]
  expect(
    slots,
    `${what} span slots ${slots.join(', ')}: ${keys.map((k) => `${k} (${slotOf(k)})`).join(', ')}`,
  ).toHaveLength(1)
}

function expectSpread(keys: readonly string[], what: string): void {
  expect(new Set(keys.map(slotOf)).size, `${what} all land in one slot`).toBeGreaterThan(1)
}

// --- a stand-in for Redis that records what it is sent ---------------------------------------------

interface Sent {
  command: string
  args: string[]
}

/** One unit a cluster routes to one node: a command, a pipeline, or a MULTI/EXEC transaction. */
interface Unit {
  kind: 'command' | 'pipeline' | 'multi'
  sent: Sent[]
}

const toSent = (command: string, args: readonly unknown[]): Sent => ({
  command: command.toLowerCase(),
  args: args
    .flatMap((a) =>
      Array.isArray(a)
        ? (a as unknown[])
        : typeof a === 'object' && a !== null && !Buffer.isBuffer(a)
          ? Object.entries(a as Record<string, unknown>).flat()
          : [a],
    )
    .map(String),
})

const MULTI_KEY = new Set(['del', 'unlink', 'exists', 'mget', 'touch', 'watch'])
const KEYLESS = new Set(['scan', 'ping', 'time', 'info', 'dbsize', 'wait', 'flushdb', 'flushall'])

/** The keys of a command, as Redis Cluster reads them. */
function keysOf({ command, args }: Sent): string[] {
  if (command === 'eval' || command === 'evalsha') return args.slice(2, 2 + Number(args[1]))
  if (MULTI_KEY.has(command)) return args
  if (KEYLESS.has(command)) return []
  return args.slice(0, 1)
}

/**
 * A `Redis` whose every command resolves to `reply(sent)`; `units` holds what was sent, in order.
 * `pipeline()` and `multi()` record their commands as one unit when executed.
 */
function recordingRedis(reply: (sent: Sent) => unknown): { redis: Redis; units: Unit[] } {
  const units: Unit[] = []
  const send = (sent: Sent): Promise<unknown> => {
    units.push({ kind: 'command', sent: [sent] })
    try {
      return Promise.resolve(reply(sent))
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }
  const batch = (kind: 'pipeline' | 'multi', initial: readonly unknown[][] = []): object => {
    const sent = initial.map(([name, ...args]) => toSent(String(name), args))
    const proxy: object = new Proxy(
      {},
      {
        get(_, name) {
          if (typeof name !== 'string' || name === 'then') return undefined
          if (name === 'exec')
            return () => {
              units.push({ kind, sent })
              return Promise.resolve(sent.map((s) => [null, reply(s)]))
            }
          return (...args: unknown[]) => {
            sent.push(toSent(name, args))
            return proxy
          }
        },
      },
    )
    return proxy
  }
  const redis = new Proxy(
    {},
    {
      get(_, name) {
        if (typeof name !== 'string' || name === 'then') return undefined
        if (name === 'pipeline') return (initial?: unknown[][]) => batch('pipeline', initial)
        if (name === 'multi') return () => batch('multi')
        if (name === 'call')
          return (command: string, ...args: unknown[]) => send(toSent(command, args))
        return (...args: unknown[]) => send(toSent(name, args))
      },
    },
  )
  return { redis: redis as Redis, units }
}

/** Every unit that names keys keeps them in one slot. */
function expectUnitsInOneSlot(units: readonly Unit[]): void {
  expect(units.length).toBeGreaterThan(0)
  for (const unit of units) {
    const keys = unit.sent.flatMap(keysOf)
    if (keys.length > 0)
      expectOneSlot(keys, `${unit.kind} of ${unit.sent.map((s) => s.command).join(', ')}`)
  }
}

const unitsWith = (units: readonly Unit[], kind: Unit['kind']): Unit[] =>
  units.filter((u) => u.kind === kind && u.sent.some((s) => keysOf(s).length > 0))

// --- what the product is fed ----------------------------------------------------------------------

const SERVERS = ['0010', '0011', '0042', '1234', '9']
const PARTITIONS = Array.from({ length: 12 }, (_, i) => i)
const CLASSIFIER = 'tramite-classifier'
const AGGREGATOR = 'sentiment-aggregator'

const ruleSet = parseRules(
  {
    version: 'v1',
    tramites: [{ id: 'certificado', label: 'Certificados', keywords: ['certificad*'] }],
  },
  'slots.json',
)
const rules: LoadedRules = {
  version: 'v1',
  compiled: compileRules(ruleSet),
  ruleSet,
  file: 'slots.json',
  loadedAt: new Date(0),
}

function chatMessage(n: number, fields: Partial<ChatMessage> = {}): ChatMessage {
  return {
    event_id: `e${n}`,
    revision: 'r1',
    server: SERVERS[n % SERVERS.length]!,
    report: 'chat_2',
    conn_id: `c${n % 3}`,
    agent_name: `Agent ${n % 2}`,
    customer_name: 'Cliente',
    channel: 'WhatsApp',
    from: n % 2 === 0 ? 'CUSTOMER' : 'AGENT',
    from_name: 'Cliente',
    to_name: 'Ana',
    date: '2025-02-11 10:00:00',
    message: n % 2 === 0 ? 'un certificado' : 'hola',
    customer_id: '1',
    feeling: null,
    customer_phone: null,
    sent_at: new Date(Date.UTC(2025, 1, 11, 15, n)),
    position: n,
    conversation_length: 8,
    channel_normalized: 'whatsapp',
    sender: n % 2 === 0 ? 'customer' : 'agent',
    sentiment: n % 3 === 0 ? 'negative' : 'neutral',
    extra: {},
    polled_at: new Date(Date.UTC(2025, 1, 11, 16)),
    window_start: new Date(Date.UTC(2025, 1, 11, 15)),
    window_end: new Date(Date.UTC(2025, 1, 11, 16)),
    ...fields,
  }
}

/** A batch of one partition as the kit hands it to a handler (several servers and chats). */
const delivered = <T>(partition: number, events: readonly T[]) =>
  events.map((event, i) => ({
    event,
    topic: 'wolkvox.chat.message.v1',
    partition,
    offset: String(100 + i),
    key: null,
    timestamp: String(1_739_286_000_000 + i),
  }))

/** The groups the kit would apply for `ops` recorded by a handler. */
const groupsOf = (ops: readonly StateOp[]): OpGroup[] => [
  { events: [{ offset: '100', eventId: 'e0' }], ops },
]

/** The ops of every command a handler may record, on assorted paths. */
function everyStateOp(): StateOp[] {
  const { ctx, ops } = createTestContext({}, ['fn'])
  const s = ctx.state
  s.hincrby('counts', 'a')
  s.hincrby(['agent', 'Ana María', 'hour'], 'a', 2)
  s.hincrbyfloat(['x', 'y'], 'f', 0.5)
  s.hset(['conv', '0010', 'c:1'], { a: 1 })
  s.hsetnx('names', 'a', 'b')
  s.hdel('names', 'a')
  s.incrby('total')
  s.incrbyfloat('float', 1.5)
  s.set(['cache', '{odd}'], 'v', { ttlMs: 1_000 })
  s.del('gone')
  s.sadd('set', 'm')
  s.srem('set', 'm')
  s.zadd('z', 1, 'm')
  s.zincrby('z', 1, 'm')
  s.zrem('z', 'm')
  s.expire('cache', 1_000)
  s.pfadd('hll', 'e')
  s.rpush(['list', ''], 'v')
  s.ltrim(['list', ''], 0, 10)
  s.lua('fn', ['a', ['b', 'c'], 'd:e'], [1])
  expect(new Set(ops.map((o) => o.command))).toEqual(new Set(stateCommands))
  return ops
}

const producer = { send: () => Promise.resolve([]) } as unknown as EventProducer

// --- the tests ------------------------------------------------------------------------------------

describe('the slot computation of this test', () => {
  it('is Redis Cluster’s: CRC16/XMODEM of the hash tag or the key, mod 16384', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3)
    // CLUSTER KEYSLOT on a real cluster
    expect(slotOf('foo')).toBe(12_182)
    expect(slotOf('hello')).toBe(866)
    expect(slotOf('{user1000}.following')).toBe(3_443)
    expect(slotOf('{user1000}.followers')).toBe(3_443)
    // an empty tag hashes the whole key; only the first tag counts
    expect(slotOf('{}foo')).toBe(crc16(Buffer.from('{}foo')) % 16_384)
    expect(slotOf('a{b}{c}')).toBe(slotOf('{b}'))
  })

  it('agrees with the hash tag the redis package groups keys by (scan.ts hashTagOf)', () => {
    for (const key of [
      'foo',
      '{x}a',
      'a{x}b{y}',
      '{}a',
      'a{',
      'a}{b',
      'wcs:{0010}:lock',
      'wcs:{s.p3}:s',
    ])
      expect(slotOf(key), key).toBe(crc16(Buffer.from(hashTagOf(key))) % 16_384)
  })
})

describe('packages/redis/src/keys.ts', () => {
  it('redisKeys.key: every key of a server in its slot, servers spread', () => {
    for (const server of SERVERS) {
      expectOneSlot(
        [redisKeys.key(server, 'watermark', 'chat_2'), redisKeys.key(server, 'a', 'b', 'c')],
        `keys of ${server}`,
      )
    }
    expectSpread(
      SERVERS.map((s) => redisKeys.key(s, 'x')),
      'the servers',
    )
  })
})

describe('packages/service-kit', () => {
  it('keys.ts serviceKeys: a partition’s keys in one slot; partitions and services spread', () => {
    for (const name of [CLASSIFIER, AGGREGATOR, 'toy']) {
      const keys = serviceKeys(name)
      expectOneSlot([keys.epoch, keys.partitions], `${name}'s own keys`)
      for (const p of PARTITIONS) {
        expectOneSlot(
          [keys.meta(p), keys.events(p), keys.revisions(p), keys.state(p, ['a', 'b:c'])],
          `${name} partition ${p}`,
        )
        expect(hashTagOf(keys.partitionPattern(p))).toBe(keys.tag(p))
      }
      expectSpread(
        PARTITIONS.map((p) => keys.meta(p)),
        `the partitions of ${name}`,
      )
      expectSpread(
        [keys.epoch, ...PARTITIONS.map((p) => keys.meta(p))],
        `${name} and its partitions`,
      )
    }
    expectSpread(
      [CLASSIFIER, AGGREGATOR, 'toy'].map((n) => serviceKeys(n).epoch),
      'the services',
    )
  })

  it('state-store.ts apply (apply-chunk script): meta, event_ids, revisions and every state key', () => {
    const keys = serviceKeys('toy')
    const ops = everyStateOp()
    for (const p of PARTITIONS) {
      const { keys: scriptKeys } = applyScriptKeys(keys, p, groupsOf(ops))
      expect(scriptKeys.slice(0, 3)).toEqual([keys.meta(p), keys.events(p), keys.revisions(p)])
      expect(scriptKeys.length).toBeGreaterThan(15)
      expectOneSlot(scriptKeys, `apply-chunk on partition ${p}`)
    }
  })

  it('state-store.ts prefilter (pipeline: HMGET meta, ZMSCORE event_ids, HMGET revisions)', () => {
    const keys = serviceKeys(CLASSIFIER)
    for (const p of PARTITIONS)
      expectOneSlot([keys.meta(p), keys.events(p), keys.revisions(p)], `prefilter ${p}`)
  })

  it('state-store.ts wipePartition / operator.ts deleteServiceState: SCAN patterns and DELs', async () => {
    const keys = serviceKeys(CLASSIFIER)
    // A partition's pattern lies inside its hash tag: one master holds every key it matches.
    for (const p of PARTITIONS) expect(slotOf(keys.partitionPattern(p))).toBe(slotOf(keys.meta(p)))
    const { redis, units } = recordingRedis((s) => (s.command === 'scan' ? ['0', []] : 0))
    await deleteServiceState(redis, CLASSIFIER)
    expect(units.map((u) => u.sent[0]!.command)).toEqual(['scan', 'del'])
    expect(units[1]!.sent[0]!.args).toEqual([keys.epoch, keys.partitions, keys.deadLetters])
    expectUnitsInOneSlot(units)
  })

  it('state-reader.ts createStateReader: merged reads send one command per partition, never a cross-slot pipeline', async () => {
    const keys = serviceKeys(AGGREGATOR)
    const { redis, units } = recordingRedis((s) => {
      if (s.command === 'get') return s.args[0] === keys.epoch ? 'epoch-1' : '2'
      if (s.command === 'smembers')
        return s.args[0] === keys.partitions ? ['0', '1', '2', '3'] : ['m']
      if (s.command === 'hget') return 'epoch-1'
      if (s.command === 'hgetall') return { a: '1' }
      return '2'
    })
    const reader = createStateReader({ redis, name: AGGREGATOR })
    expect(await reader.partitions()).toEqual([0, 1, 2, 3])
    expect(await reader.sumHash('counts')).toEqual({ a: 4 })
    expect(await reader.sum('total')).toBe(8)
    expect(await reader.unionSet('set')).toEqual(['m'])
    expect(unitsWith(units, 'pipeline')).toEqual([])
    expect(unitsWith(units, 'multi')).toEqual([])
    expectUnitsInOneSlot(units)
    // Why: the partitions it merges are in several slots.
    expectSpread(
      [0, 1, 2, 3].map((p) => keys.state(p, 'counts')),
      'the merged partitions',
    )
  })
})

describe('services/tramite-classifier', () => {
  it('service.ts recordBatch (conversation function inside apply-chunk): conversation, dirty, pending', () => {
    const keys = serviceKeys(CLASSIFIER)
    const { ctx, ops } = createTestContext({}, ['conversation'])
    const batch = delivered(
      0,
      Array.from({ length: 9 }, (_, n) => chatMessage(n)),
    )
    recordClassifierBatch(batch, ctx, rules)
    expect(ops.filter((o) => o.command === 'LUA').length).toBeGreaterThan(3)
    for (const p of PARTITIONS)
      expectOneSlot(applyScriptKeys(keys, p, groupsOf(ops)).keys, `conversation on partition ${p}`)
  })

  it('scripts.ts recordScriptKeys (record script) and rematchScriptKeys (rematch script)', () => {
    const keys = serviceKeys(CLASSIFIER)
    for (const p of PARTITIONS) {
      for (const server of SERVERS) {
        const member = memberOf(server, 'conn:1 {x}')
        const record = recordScriptKeys(keys, p, member, 'v2', 'v1')
        expect(record).toHaveLength(5)
        expect(record[4]).toBe(keys.meta(p))
        expectOneSlot(record, `record ${member} on ${p}`)
        expectOneSlot(rematchScriptKeys(keys, p, member), `rematch ${member} on ${p}`)
        expect(conversationKey(keys, p, member)).toBe(record[0])
      }
    }
  })

  it('emitter.ts emit: the read pipeline and the record pipeline each in the partition’s slot; the epoch read apart', async () => {
    const keys = serviceKeys(CLASSIFIER)
    const partition = PARTITIONS.find((p) => slotOf(keys.meta(p)) !== slotOf(keys.epoch))!
    const { redis, units } = recordingRedis((s) => {
      if (s.command === 'hgetall')
        return {
          first: '1739286000000',
          fpos: '0',
          ch: 'whatsapp',
          pub: '1',
          done: '1',
          v: 'v1',
          n: '2',
        }
      if (s.command === 'get') return 'epoch-1'
      if (s.command === 'eval') return 1
      return null
    })
    const emitter = createEmitter({ name: CLASSIFIER, redis, producer, topic: 't', zone: 'UTC' })
    const members = SERVERS.map((s) => memberOf(s, 'c1'))
    const outcomes = await emitter.emit(partition, members)
    expect(outcomes.map((o) => o.action)).toEqual(members.map(() => 'emitted'))
    expectUnitsInOneSlot(units)
    const pipelines = unitsWith(units, 'pipeline')
    expect(pipelines.map((u) => u.sent.map((s) => s.command))).toEqual([
      members.map(() => 'hgetall'),
      members.map(() => 'eval'),
    ])
    const epochRead = units.find((u) => u.kind === 'command' && u.sent[0]!.command === 'get')
    expect(epochRead?.sent[0]!.args).toEqual([keys.epoch])
  })

  it('emitter.ts drain and sweepIdle: HSCAN, clear-dirty script, ZRANGEBYSCORE on one partition', async () => {
    const member = memberOf('0010', 'c1')
    const { redis, units } = recordingRedis((s) => {
      if (s.command === 'hscan') return ['0', [member, '1']]
      if (s.command === 'zrangebyscore') return [member]
      if (s.command === 'hgetall') return {}
      if (s.command === 'get') return 'epoch-1'
      return 0
    })
    const emitter = createEmitter({ name: CLASSIFIER, redis, producer, topic: 't', zone: 'UTC' })
    await emitter.drain(3)
    await emitter.sweepIdle(3, Date.now())
    expect(units.some((u) => u.sent[0]!.command === 'eval')).toBe(true)
    expectUnitsInOneSlot(units)
  })
})

describe('services/sentiment-aggregator', () => {
  it('service.ts recordBatch (batch function inside apply-chunk): dirty, names, conversations, agents', () => {
    const keys = serviceKeys(AGGREGATOR)
    const { ctx, ops } = createTestContext({}, ['batch'])
    const batch = delivered(
      0,
      Array.from({ length: 12 }, (_, n) => chatMessage(n)),
    )
    recordSentimentBatch(batch, ctx, 'America/Bogota')
    const lua = ops.filter((o) => o.command === 'LUA')
    expect(lua).toHaveLength(1)
    expect(lua[0]!.keys.length).toBeGreaterThan(8)
    for (const p of PARTITIONS)
      expectOneSlot(applyScriptKeys(keys, p, groupsOf(ops)).keys, `batch on partition ${p}`)
  })
})

describe('packages/token-lock', () => {
  it('token-lock.ts acquire, extend, release and fencedSet: each script’s keys in the server’s slot; the global epoch read apart', async () => {
    const { redis, units } = recordingRedis((s) => {
      if (s.command === 'exists') return 1
      if (s.command === 'eval')
        return Number(s.args[1]) === 3 ? [1, 7] : Number(s.args[1]) === 2 ? [1] : 1
      return 'OK'
    })
    for (const server of SERVERS) {
      const lock = createTokenLock({ redis, server, token: `token-${server}` })
      expectOneSlot(
        [lock.keys.lock, lock.keys.fence, lock.keys.epoch, lock.keys.state('watermark.chat_2')],
        `the lock of ${server}`,
      )
      expect(slotOf(lock.keys.lock)).toBe(slotOf(redisKeys.key(server, 'x')))
      const lease = await lock.tryAcquire()
      expect(lease?.fence).toBe(7)
      expect(await lease!.fencedSet('watermark.chat_2', '1000', '999')).toEqual({ ok: true })
      await lease!.release()
      const kept = await lock.tryAcquire()
      kept!.keepAfterAbortedCall()
      await kept!.release()
    }
    const scripts = units.filter((u) => u.sent[0]!.command === 'eval')
    // Per server: the Redis-wide epoch read (its own slot), acquire, fencedSet, release, then
    // the epoch read and acquire again, and release.
    expect(scripts.map((u) => keysOf(u.sent[0]!).length)).toEqual(
      SERVERS.flatMap(() => [1, 3, 2, 1, 1, 3, 1]),
    )
    expectUnitsInOneSlot(units)
    const global = redisKeys.globalKey('lock-epoch')
    expect(units.filter((u) => u.sent.some((s) => keysOf(s).includes(global)))).toHaveLength(
      2 * SERVERS.length,
    )
    expectSpread(
      SERVERS.map((server) => createTokenLock({ redis, server, token: 't' }).keys.lock),
      'the locks of the servers',
    )
  })
})

describe('services/poller', () => {
  const day = Date.UTC(2025, 1, 11, 12)

  it('operation-store.ts createOperationStore: quota script, MULTIs on pause and status, coverage script', async () => {
    for (const server of SERVERS) {
      const k = operationKeys(server, 'chat_2')
      expectOneSlot(
        [k.quota('20250211'), k.pause, k.record, k.coverage, k.wanted, redisKeys.key(server, 'x')],
        `the operation keys of ${server}`,
      )
    }
    const { redis, units } = recordingRedis((s) => {
      if (s.command === 'eval') return [1, 1]
      if (s.command === 'hgetall') return {}
      if (s.command === 'zrange') return []
      if (s.command === 'get') return null
      return 1
    })
    const store = createOperationStore({
      redis,
      server: '0010',
      report: 'chat_2',
      zone: 'America/Bogota',
      now: () => day,
    })
    await store.quotaUsed()
    await store.takeCall(10)
    await store.countCall()
    await store.pause({ reason: 'x', untilMs: day + 1e6, sinceMs: day, token: 'h' })
    await store.readPause('h')
    await store.clearPause()
    await store.recordSuccess({ atMs: day, purpose: 'live', window: null, published: 1 })
    await store.recordFailure({
      atMs: day,
      purpose: 'live',
      code: 'X',
      message: 'm',
      watermarkMs: 1,
    })
    await store.readRecord()
    await store.addCoverage({ fromMs: day - 60_000, toMs: day })
    await store.readCoverage()
    await store.wantToken(1_000)
    await store.tokenServed()
    await store.isTokenWanted()
    expect(unitsWith(units, 'multi')).toHaveLength(4)
    expectUnitsInOneSlot(units)
  })

  it('backfill-store.ts createBackfillStore: MULTIs on the record and the index, runner scripts', async () => {
    for (const server of SERVERS) {
      const k = backfillKeys(server, '1739280000-1739286000')
      expectOneSlot([k.index, k.record, k.runner], `the backfill keys of ${server}`)
    }
    const { redis, units } = recordingRedis((s) => (s.command === 'hgetall' ? {} : 'OK'))
    const store = createBackfillStore(redis, '0042', { fromMs: day - 3_600_000, toMs: day })
    await store.begin({ fromMs: day - 3_600_000, toMs: day }, 600_000, day)
    const progress = {
      nextMs: day - 600_000,
      windowsDone: 5,
      windowsTotal: 6,
      published: 10,
      fetched: 10,
      state: 'running' as const,
      failures: 1,
    }
    await store.save({ ...progress, error: { code: 'X', message: 'm' } }, day)
    await store.save({ ...progress, error: null }, day)
    expect(await store.claim(1_000)).toBe(true)
    await store.release()
    await store.read()
    await store.forget()
    expect(unitsWith(units, 'multi')).toHaveLength(4)
    expectUnitsInOneSlot(units)
  })

  it('adapters/published-set.ts createRedisPublishedSet: EXISTS pipeline, lookups, multi-key DEL, HSET pipeline', async () => {
    for (const server of SERVERS) {
      const k = publishedSetKeys(server, 'chat_2')
      expectOneSlot(
        [0, 1, 2, 3].flatMap((d) => [
          k.revisions(day - d * 86_400_000),
          k.legacy(day - d * 86_400_000),
        ]),
        `the published sets of ${server}`,
      )
    }
    const { redis, units } = recordingRedis((s) => {
      if (s.command === 'exists') return 1
      if (s.command === 'hmget') return s.args.slice(1).map(() => null)
      if (s.command === 'smismember') return s.args.slice(1).map(() => 0)
      return 1
    })
    const set = createRedisPublishedSet({
      redis,
      server: '0011',
      report: 'chat_2',
      horizonMs: 3 * 86_400_000,
      now: () => day,
    })
    const events = [
      { eventId: 'a', revision: 'r' },
      { eventId: 'b', revision: 'r' },
    ]
    expect([...(await set.unpublished(events)).values()]).toEqual(['new', 'new'])
    await set.add(events)
    await set.clear()
    const del = units.find((u) => u.sent[0]!.command === 'del')!
    expect(keysOf(del.sent[0]!).length).toBeGreaterThan(4)
    expect(unitsWith(units, 'pipeline')).toHaveLength(2)
    expectUnitsInOneSlot(units)
  })

  it('adapters/checkpoint-log.ts bindingKeys: location and refusal of an operation', () => {
    for (const server of SERVERS) {
      const k = bindingKeys(server, 'chat_2')
      expectOneSlot([k.location, k.missing, redisKeys.key(server, 'x')], `the binding of ${server}`)
    }
  })

  it('adapters/bullmq-schedule.ts createBullSchedule: every BullMQ key of the schedule in one slot', () => {
    expect(SCHEDULE_PREFIX).toBe('wcs:{bullmq}')
    const keys = scheduleKeys([
      'repeat:poll-0010',
      'repeat:sweep-0011',
      'repeat:poll-0010:1739286000000',
      '42',
    ])
    expect(keys).toContain('wcs:{bullmq}:poller:wait')
    expect(keys).toContain('wcs:{bullmq}:poller:repeat:poll-0010')
    expectOneSlot(keys, 'the schedule queue')
    // Another queue name stays in the same slot too (the tag is the prefix's).
    expectOneSlot([...keys, ...scheduleKeys([], 'other')], 'two queues')
  })
})
