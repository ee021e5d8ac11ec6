import { describe, expect, it } from 'vitest'
import { createStateWriter, encodeGroups, type StateOp } from './state-ops.js'

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
