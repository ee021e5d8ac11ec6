import { describe, expect, it } from 'vitest'
import type { KeyPath } from './keys.js'
import {
  coalesceOps,
  createStateWriter,
  encodeGroups,
  mergeGroups,
  type StateOp,
} from './state-ops.js'

const record = (fn: (w: ReturnType<typeof createStateWriter>) => void): StateOp[] => {
  const ops: StateOp[] = []
  fn(createStateWriter(ops, new Set(['moveConversation'])))
  return ops
}

describe('the state writer', () => {
  it('records commands in order, with numbers as text', () => {
    expect(
      record((w) => {
        w.hincrby('counts', 'messages')
        w.hset(['conv', 'c 1'], { last: 5, agent: 'ana' })
        w.set('seen', 'x', { ttlMs: 1000 })
        w.zadd('z', 1.5, 'm')
        w.lua('moveConversation', [['conv', 'c 1'], 'hours'], ['a', 2])
      }),
    ).toEqual([
      { command: 'HINCRBY', keys: ['counts'], args: ['messages', '1'] },
      { command: 'HSET', keys: [['conv', 'c 1']], args: ['last', '5', 'agent', 'ana'] },
      { command: 'SET', keys: ['seen'], args: ['x', 'PX', '1000'] },
      { command: 'ZADD', keys: ['z'], args: ['1.5', 'm'] },
      { command: 'LUA', keys: [['conv', 'c 1'], 'hours'], args: ['moveConversation', 'a', '2'] },
    ])
  })

  it.each([
    ['a fractional HINCRBY', (w: ReturnType<typeof createStateWriter>) => w.hincrby('k', 'f', 1.5)],
    ['a NaN score', (w: ReturnType<typeof createStateWriter>) => w.zadd('k', Number.NaN, 'm')],
    ['a zero TTL', (w: ReturnType<typeof createStateWriter>) => w.expire('k', 0)],
    ['an empty SADD', (w: ReturnType<typeof createStateWriter>) => w.sadd('k')],
    ['an unknown function', (w: ReturnType<typeof createStateWriter>) => w.lua('nope', ['k'])],
  ])('refuses %s with CONSUMER_STATE_OP_REJECTED', (_, fn) => {
    expect(() => record(fn)).toThrow(
      expect.objectContaining({ code: 'CONSUMER_STATE_OP_REJECTED' }),
    )
  })

  it('sends a run of HINCRBYs on one key as one op with all its pairs', () => {
    const path = ['agent', 'Ana']
    const { keys, argv } = encodeGroups(
      [
        {
          events: [{ offset: '3', eventId: 'e3' }],
          ops: [
            { command: 'HINCRBY', keys: [path], args: ['a', '1'] },
            { command: 'HINCRBY', keys: [['agent', 'Ana']], args: ['b', '2'] },
            { command: 'HINCRBY', keys: ['other'], args: ['c', '-1'] },
            { command: 'SADD', keys: [path], args: ['m'] },
            { command: 'HINCRBY', keys: [path], args: ['a', '4'] },
          ],
        },
      ],
      (p) => `K(${String(p)})`,
    )
    expect(keys).toEqual(['K(agent,Ana)', 'K(other)'])
    expect(argv.slice(7)).toEqual([
      '4',
      ...['HINCRBY', '1', '4', '4', 'a', '1', 'b', '2'],
      ...['HINCRBY', '1', '2', '5', 'c', '-1'],
      ...['SADD', '1', '1', '4', 'm'],
      ...['HINCRBY', '1', '2', '4', 'a', '4'],
    ])
  })

  it("encodes a group at offset 0, and ends a HINCRBY run at another command on the run's key", () => {
    const path = ['agent', 'Ana']
    const { argv } = encodeGroups(
      [
        {
          events: [{ offset: '0', eventId: 'e0' }],
          ops: [
            { command: 'HINCRBY', keys: [path], args: ['a', '1'] },
            { command: 'SADD', keys: [path], args: ['m'] },
          ],
        },
      ],
      (p) => `K(${String(p)})`,
    )
    expect(argv).toEqual([
      '1',
      ...['1', '0', '0'],
      ...['e0', '', ''],
      '2',
      ...['HINCRBY', '1', '2', '4', 'a', '1'],
      ...['SADD', '1', '1', '4', 'm'],
    ])
  })

  it('encodes groups as the apply script reads them', () => {
    const { keys, argv } = encodeGroups(
      [
        {
          events: [{ offset: '7', eventId: 'e1', expect: 'x', token: 'y' }],
          ops: [{ command: 'HINCRBY', keys: ['counts'], args: ['m', '1'] }],
        },
        { events: [{ offset: '8', eventId: undefined }], ops: [] },
      ],
      (path) => `K(${String(path)})`,
    )
    expect(keys).toEqual(['K(counts)'])
    // Per group: event count, lowest and highest offset, per event its id and the revision tokens
    // expected and left, op count, ops (key indexes from KEYS[4]).
    expect(argv).toEqual([
      '2',
      '1',
      '7',
      '7',
      'e1',
      'x',
      'y',
      '1',
      'HINCRBY',
      '1',
      '2',
      '4',
      'm',
      '1',
      '1',
      '8',
      '8',
      '',
      '',
      '',
      '0',
    ])
  })
})

describe('every command a handler may record', () => {
  it('records each writer method as its Redis command, keys and arguments', () => {
    expect(
      record((w) => {
        w.hincrby('h', 'f', -3)
        w.hincrbyfloat('h', 'f', 0.25)
        w.hsetnx('h', 'name', 'Ana')
        w.hsetnx('h', 'n', 7)
        w.hdel('h', 'a', 'b')
        w.incrby('n')
        w.incrby('n', 5)
        w.incrbyfloat('n', -1.5)
        w.set('s', 42)
        w.del('s')
        w.sadd('set', 'x', 'y')
        w.srem('set', 'x')
        w.zincrby('z', 2, 'm')
        w.zrem('z', 'm', 'n')
        w.expire('s', 60_000)
        w.pfadd('hll', 'a', 'b')
        w.rpush('list', 'v1', 'v2')
        w.ltrim('list', 0, -1)
        w.lua('moveConversation', ['k'])
      }),
    ).toEqual([
      { command: 'HINCRBY', keys: ['h'], args: ['f', '-3'] },
      { command: 'HINCRBYFLOAT', keys: ['h'], args: ['f', '0.25'] },
      { command: 'HSETNX', keys: ['h'], args: ['name', 'Ana'] },
      { command: 'HSETNX', keys: ['h'], args: ['n', '7'] },
      { command: 'HDEL', keys: ['h'], args: ['a', 'b'] },
      { command: 'INCRBY', keys: ['n'], args: ['1'] },
      { command: 'INCRBY', keys: ['n'], args: ['5'] },
      { command: 'INCRBYFLOAT', keys: ['n'], args: ['-1.5'] },
      { command: 'SET', keys: ['s'], args: ['42'] },
      { command: 'DEL', keys: ['s'], args: [] },
      { command: 'SADD', keys: ['set'], args: ['x', 'y'] },
      { command: 'SREM', keys: ['set'], args: ['x'] },
      { command: 'ZINCRBY', keys: ['z'], args: ['2', 'm'] },
      { command: 'ZREM', keys: ['z'], args: ['m', 'n'] },
      { command: 'PEXPIRE', keys: ['s'], args: ['60000'] },
      { command: 'PFADD', keys: ['hll'], args: ['a', 'b'] },
      { command: 'RPUSH', keys: ['list'], args: ['v1', 'v2'] },
      { command: 'LTRIM', keys: ['list'], args: ['0', '-1'] },
      { command: 'LUA', keys: ['k'], args: ['moveConversation'] },
    ])
  })

  const rejected = (fn: (w: ReturnType<typeof createStateWriter>) => void): string => {
    try {
      record(fn)
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONSUMER_STATE_OP_REJECTED' })
      return (error as Error).message
    }
    throw new Error('expected CONSUMER_STATE_OP_REJECTED')
  }

  it('says which number is wrong and why, so the dead letter explains itself', () => {
    expect(rejected((w) => w.hincrby('k', 'f', 2 ** 53))).toBe(
      `by must be a safe integer, not ${2 ** 53}`,
    )
    expect(rejected((w) => w.incrby('k', 0.5))).toBe('by must be a safe integer, not 0.5')
    expect(rejected((w) => w.ltrim('k', 0.5, 1))).toBe('start must be a safe integer, not 0.5')
    expect(rejected((w) => w.ltrim('k', 0, 1.5))).toBe('stop must be a safe integer, not 1.5')
    expect(rejected((w) => w.hincrbyfloat('k', 'f', Infinity))).toBe(
      'by must be a finite number, not Infinity',
    )
    expect(rejected((w) => w.incrbyfloat('k', Number.NaN))).toBe(
      'by must be a finite number, not NaN',
    )
    expect(rejected((w) => w.zadd('k', -Infinity, 'm'))).toBe(
      'score must be a finite number, not -Infinity',
    )
    expect(rejected((w) => w.zincrby('k', Number.NaN, 'm'))).toBe(
      'by must be a finite number, not NaN',
    )
    expect(rejected((w) => w.set('k', Infinity))).toBe(
      'a value must be a finite number, not Infinity',
    )
    expect(rejected((w) => w.hset('k', { f: Number.NaN }))).toBe(
      'a value must be a finite number, not NaN',
    )
    expect(rejected((w) => w.hsetnx('k', 'f', Infinity))).toBe(
      'a value must be a finite number, not Infinity',
    )
    expect(rejected((w) => w.lua('moveConversation', ['k'], [Number.NaN]))).toBe(
      'a value must be a finite number, not NaN',
    )
    expect(rejected((w) => w.set('k', 'v', { ttlMs: -5 }))).toBe(
      'ttlMs must be a positive integer, not -5',
    )
    expect(rejected((w) => w.expire('k', 1.5))).toBe('ttlMs must be a positive integer, not 1.5')
    expect(rejected((w) => w.lua('nope', ['k']))).toBe('No Lua function "nope" is registered')
    expect(() => record((w) => w.lua('nope', ['k']))).toThrow(
      expect.objectContaining({ details: { name: 'nope' } }),
    )
    // A one-millisecond TTL is the smallest allowed.
    expect(record((w) => w.expire('k', 1))).toEqual([
      { command: 'PEXPIRE', keys: ['k'], args: ['1'] },
    ])
  })

  it.each([
    ['hset', (w: ReturnType<typeof createStateWriter>) => w.hset('k', {})],
    ['hdel', (w: ReturnType<typeof createStateWriter>) => w.hdel('k')],
    ['sadd', (w: ReturnType<typeof createStateWriter>) => w.sadd('k')],
    ['srem', (w: ReturnType<typeof createStateWriter>) => w.srem('k')],
    ['zrem', (w: ReturnType<typeof createStateWriter>) => w.zrem('k')],
    ['pfadd', (w: ReturnType<typeof createStateWriter>) => w.pfadd('k')],
    ['rpush', (w: ReturnType<typeof createStateWriter>) => w.rpush('k')],
  ])('refuses an empty %s, naming it', (name, fn) => {
    expect(rejected(fn)).toBe(`${name} needs at least one`)
  })
})

describe('coalescing and merging groups', () => {
  const inc = (key: KeyPath, field: string, by: string): StateOp => ({
    command: 'HINCRBY',
    keys: [key],
    args: [field, by],
  })

  it('sums the HINCRBYs between two other operations per key and field, in first-seen order', () => {
    const sadd: StateOp = { command: 'SADD', keys: ['s'], args: ['m'] }
    const ops = [
      inc(['agent', 'Ana'], 'a', '1'),
      inc('other', 'a', '5'),
      inc(['agent', 'Ana'], 'b', '2'),
      // The same path as another array: the same key.
      inc(['agent', 'Ana'], 'a', '-4'),
      sadd,
      inc(['agent', 'Ana'], 'a', '10'),
      inc(['agent', 'Ana'], 'a', '7'),
    ]
    expect(coalesceOps(ops)).toEqual([
      inc(['agent', 'Ana'], 'a', '-3'),
      inc(['agent', 'Ana'], 'b', '2'),
      inc('other', 'a', '5'),
      sadd,
      inc(['agent', 'Ana'], 'a', '17'),
    ])
    // The input is left as it was.
    expect(ops[0]).toEqual(inc(['agent', 'Ana'], 'a', '1'))
  })

  it('keeps the sums of two different keys apart', () => {
    const ops = [
      inc(['agent', 'Ana'], 'a', '1'),
      inc(['agent', 'Luis'], 'a', '2'),
      inc(['agent', 'Ana'], 'a', '3'),
      inc(['agent', 'Luis'], 'a', '4'),
    ]
    expect(coalesceOps(ops)).toEqual([
      inc(['agent', 'Ana'], 'a', '4'),
      inc(['agent', 'Luis'], 'a', '6'),
    ])
  })

  it('merges groups into one: every event, every op in group order, coalesced', () => {
    const merged = mergeGroups([
      { events: [{ offset: '4', eventId: 'a' }], ops: [inc('k', 'f', '1')] },
      {
        events: [
          { offset: '5', eventId: 'b' },
          { offset: '6', eventId: 'c' },
        ],
        ops: [inc('k', 'f', '2'), { command: 'DEL', keys: ['d'], args: [] }],
      },
    ])
    expect(merged).toEqual({
      events: [
        { offset: '4', eventId: 'a' },
        { offset: '5', eventId: 'b' },
        { offset: '6', eventId: 'c' },
      ],
      ops: [inc('k', 'f', '3'), { command: 'DEL', keys: ['d'], args: [] }],
    })
  })

  it('encodes the lowest and highest offset of a group whatever the order, and each key once', () => {
    const { keys, argv } = encodeGroups(
      [
        {
          events: [
            { offset: '12', eventId: 'b' },
            { offset: '9', eventId: 'a' },
            { offset: '15', eventId: 'c' },
          ],
          ops: [
            inc(['x', 'y'], 'f', '1'),
            // Another path that resolves to the same key: one KEYS entry, one HINCRBY run.
            inc('x:y', 'g', '2'),
            { command: 'ZADD', keys: ['z', ['x', 'y']], args: ['1', 'm'] },
          ],
        },
      ],
      (path) => (typeof path === 'string' ? path : path.join(':')),
      2,
    )
    expect(keys).toEqual(['x:y', 'z'])
    expect(argv).toEqual([
      '1',
      ...['3', '9', '15'],
      ...['b', '', '', 'a', '', '', 'c', '', ''],
      '2',
      ...['HINCRBY', '1', '4', '2', 'f', '1', 'g', '2'],
      ...['ZADD', '2', '2', '3', '2', '1', 'm'],
    ])
  })
})
