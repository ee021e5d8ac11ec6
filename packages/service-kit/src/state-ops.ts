import { AppError } from '@wolkvox-chat-stream/errors'
import type { KeyPath } from './keys.js'

/** The Redis commands a handler may record, each on keys of its own partition. */
export const stateCommands = [
  'HINCRBY',
  'HINCRBYFLOAT',
  'HSET',
  'HSETNX',
  'HDEL',
  'INCRBY',
  'INCRBYFLOAT',
  'SET',
  'DEL',
  'SADD',
  'SREM',
  'ZADD',
  'ZINCRBY',
  'ZREM',
  'PEXPIRE',
  'PFADD',
  'RPUSH',
  'LTRIM',
  'LUA',
] as const

/** One of {@link stateCommands}. */
export type StateCommand = (typeof stateCommands)[number]

/** One recorded operation: a command, the keys it touches (relative paths) and its arguments. */
export interface StateOp {
  command: StateCommand
  keys: KeyPath[]
  args: string[]
}

/**
 * What a handler changes in Redis, recorded during the batch and applied later by one Lua script,
 * atomically with the partition's applied offset. Nothing is written when a method is called, so
 * there is nothing to read back: state that decides what to write goes in a registered Lua
 * function ({@link StateWriter.lua}). Keys are relative to the event's partition (see README:
 * cross-partition state). Numbers are checked here, so a bad one fails the handler (and sends the
 * event to the dead-letter topic) instead of failing the script.
 */
export interface StateWriter {
  /** `HINCRBY key field by` (default 1). */
  hincrby(key: KeyPath, field: string, by?: number): void
  /** `HINCRBYFLOAT key field by`. */
  hincrbyfloat(key: KeyPath, field: string, by: number): void
  /** `HSET key field value [field value …]`. */
  hset(key: KeyPath, fields: Readonly<Record<string, string | number>>): void
  /** `HSETNX key field value`: first writer wins (a first-seen display name). */
  hsetnx(key: KeyPath, field: string, value: string | number): void
  /** `HDEL key field …`. */
  hdel(key: KeyPath, ...fields: string[]): void
  /** `INCRBY key by` (default 1). */
  incrby(key: KeyPath, by?: number): void
  /** `INCRBYFLOAT key by`. */
  incrbyfloat(key: KeyPath, by: number): void
  /** `SET key value [PX ttlMs]`. */
  set(key: KeyPath, value: string | number, options?: { ttlMs?: number }): void
  /** `DEL key`. */
  del(key: KeyPath): void
  /** `SADD key member …`. */
  sadd(key: KeyPath, ...members: string[]): void
  /** `SREM key member …`. */
  srem(key: KeyPath, ...members: string[]): void
  /** `ZADD key score member`. */
  zadd(key: KeyPath, score: number, member: string): void
  /** `ZINCRBY key by member`. */
  zincrby(key: KeyPath, by: number, member: string): void
  /** `ZREM key member …`. */
  zrem(key: KeyPath, ...members: string[]): void
  /** `PEXPIRE key ttlMs`: for caches; state the service must rebuild never expires. */
  expire(key: KeyPath, ttlMs: number): void
  /** `PFADD key element …` (HyperLogLog distinct counts). */
  pfadd(key: KeyPath, ...elements: string[]): void
  /** `RPUSH key value …`. */
  rpush(key: KeyPath, ...values: string[]): void
  /** `LTRIM key start stop`. */
  ltrim(key: KeyPath, start: number, stop: number): void
  /**
   * Runs the Lua function `name` registered in the service's `scripts`, inside the same script,
   * with its own `KEYS` (the paths given, resolved in the partition) and `ARGV`. It may read state
   * and decide what to write; it must check before it writes (an error after a write leaves that
   * write in place). Its return value is ignored.
   */
  lua(name: string, keys: readonly KeyPath[], args?: readonly (string | number)[]): void
}

const invalid = (message: string, details: Record<string, unknown> = {}): AppError =>
  new AppError('CONSUMER_STATE_OP_REJECTED', message, { details })

function integer(what: string, value: number): string {
  if (!Number.isSafeInteger(value)) throw invalid(`${what} must be a safe integer, not ${value}`)
  return String(value)
}

function finite(what: string, value: number): string {
  if (!Number.isFinite(value)) throw invalid(`${what} must be a finite number, not ${value}`)
  return String(value)
}

function text(value: string | number): string {
  return typeof value === 'number' ? finite('a value', value) : value
}

function nonEmpty<T>(what: string, list: readonly T[]): readonly T[] {
  if (list.length === 0) throw invalid(`${what} needs at least one`)
  return list
}

/** Records into an array; one per event (or batch), so it is a class: no closures per event. */
class StateRecorder implements StateWriter {
  constructor(
    private readonly ops: StateOp[],
    private readonly scripts: ReadonlySet<string>,
  ) {}

  private push(command: StateCommand, keys: KeyPath[], args: string[]): void {
    this.ops.push({ command, keys, args })
  }

  hincrby(key: KeyPath, field: string, by = 1): void {
    this.push('HINCRBY', [key], [field, integer('by', by)])
  }
  hincrbyfloat(key: KeyPath, field: string, by: number): void {
    this.push('HINCRBYFLOAT', [key], [field, finite('by', by)])
  }
  hset(key: KeyPath, fields: Readonly<Record<string, string | number>>): void {
    const entries = nonEmpty('hset', Object.entries(fields))
    this.push(
      'HSET',
      [key],
      entries.flatMap(([field, value]) => [field, text(value)]),
    )
  }
  hsetnx(key: KeyPath, field: string, value: string | number): void {
    this.push('HSETNX', [key], [field, text(value)])
  }
  hdel(key: KeyPath, ...fields: string[]): void {
    this.push('HDEL', [key], [...nonEmpty('hdel', fields)])
  }
  incrby(key: KeyPath, by = 1): void {
    this.push('INCRBY', [key], [integer('by', by)])
  }
  incrbyfloat(key: KeyPath, by: number): void {
    this.push('INCRBYFLOAT', [key], [finite('by', by)])
  }
  set(key: KeyPath, value: string | number, options: { ttlMs?: number } = {}): void {
    if (options.ttlMs === undefined) return this.push('SET', [key], [text(value)])
    this.push('SET', [key], [text(value), 'PX', ttl(options.ttlMs)])
  }
  del(key: KeyPath): void {
    this.push('DEL', [key], [])
  }
  sadd(key: KeyPath, ...members: string[]): void {
    this.push('SADD', [key], [...nonEmpty('sadd', members)])
  }
  srem(key: KeyPath, ...members: string[]): void {
    this.push('SREM', [key], [...nonEmpty('srem', members)])
  }
  zadd(key: KeyPath, score: number, member: string): void {
    this.push('ZADD', [key], [finite('score', score), member])
  }
  zincrby(key: KeyPath, by: number, member: string): void {
    this.push('ZINCRBY', [key], [finite('by', by), member])
  }
  zrem(key: KeyPath, ...members: string[]): void {
    this.push('ZREM', [key], [...nonEmpty('zrem', members)])
  }
  expire(key: KeyPath, ttlMs: number): void {
    this.push('PEXPIRE', [key], [ttl(ttlMs)])
  }
  pfadd(key: KeyPath, ...elements: string[]): void {
    this.push('PFADD', [key], [...nonEmpty('pfadd', elements)])
  }
  rpush(key: KeyPath, ...values: string[]): void {
    this.push('RPUSH', [key], [...nonEmpty('rpush', values)])
  }
  ltrim(key: KeyPath, start: number, stop: number): void {
    this.push('LTRIM', [key], [integer('start', start), integer('stop', stop)])
  }
  lua(name: string, keys: readonly KeyPath[], args: readonly (string | number)[] = []): void {
    if (!this.scripts.has(name)) throw invalid(`No Lua function "${name}" is registered`, { name })
    this.push('LUA', [...keys], [name, ...args.map(text)])
  }
}

function ttl(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw invalid(`ttlMs must be a positive integer, not ${ms}`)
  return String(ms)
}

/**
 * A {@link StateWriter} that appends to `ops`. `scripts` are the registered Lua function names;
 * any other name given to `lua` throws `CONSUMER_STATE_OP_REJECTED`.
 */
export function createStateWriter(ops: StateOp[], scripts: ReadonlySet<string>): StateWriter {
  return new StateRecorder(ops, scripts)
}

/** The events of one group, applied all together or not at all. */
export interface OpGroup {
  events: readonly GroupEvent[]
  ops: readonly StateOp[]
}

/** One event of a group, as the apply script checks it. */
export interface GroupEvent {
  offset: string
  eventId: string | undefined
  /** The revision token the partition must hold for the event now: '' for none (a new event). */
  expect?: string
  /** The revision token the event leaves: '' when the service keeps no revisions. */
  token?: string
}

// A handler usually passes the same path array for many ops: its id is computed once.
const pathIds = new WeakMap<readonly string[], string>()
const pathId = (path: KeyPath): string => {
  if (typeof path === 'string') return path
  let id = pathIds.get(path)
  if (id === undefined) pathIds.set(path, (id = JSON.stringify(path)))
  return id
}

/**
 * The same changes in fewer operations: `HINCRBY`s commute, so those between two other operations
 * are summed per key and field (in first-seen order); every other operation keeps its place.
 */
export function coalesceOps(ops: readonly StateOp[]): StateOp[] {
  const out: StateOp[] = []
  // key path -> field -> the summing op (its args[1] is rewritten at the end)
  let sums = new Map<string, Map<string, { op: StateOp; by: number }>>()
  const flush = (): void => {
    for (const fields of sums.values()) {
      for (const { op, by } of fields.values()) {
        op.args[1] = String(by)
        out.push(op)
      }
    }
    sums = new Map()
  }
  for (const op of ops) {
    if (op.command !== 'HINCRBY') {
      if (sums.size > 0) flush()
      out.push(op)
      continue
    }
    const key = op.keys[0]!
    const field = op.args[0]!
    const id = pathId(key)
    let fields = sums.get(id)
    if (fields === undefined) {
      fields = new Map<string, { op: StateOp; by: number }>()
      sums.set(id, fields)
    }
    const entry = fields.get(field)
    // Safe integers in, and a chunk's sum stays far below 2^53.
    if (entry === undefined) {
      fields.set(field, {
        op: { command: 'HINCRBY', keys: [key], args: [field, ''] },
        by: Number(op.args[1]),
      })
    } else entry.by += Number(op.args[1])
  }
  flush()
  return out
}

/** Several groups as one: all their events, their operations (in group order) coalesced. */
export function mergeGroups(groups: readonly OpGroup[]): OpGroup {
  const events: OpGroup['events'][number][] = []
  const ops: StateOp[] = []
  for (const group of groups) {
    for (const event of group.events) events.push(event)
    for (const op of group.ops) ops.push(op)
  }
  return { events, ops: coalesceOps(ops) }
}

/**
 * Flattens groups into the KEYS and ARGV tail of the apply script (see its header): per group the
 * event count, its lowest and highest offset, per event its id and the revision tokens it expects
 * and leaves, the op count, then per op `command, key
 * count, arg count, key indexes…, args…`. Each distinct key is resolved and sent once;
 * `firstKeyIndex` is the KEYS index (1-based) of the first of them. A run of `HINCRBY`s on one key
 * goes as one op with all its field, increment pairs.
 */
export function encodeGroups(
  groups: readonly OpGroup[],
  resolveKey: (path: KeyPath) => string,
  firstKeyIndex = 4,
): { keys: string[]; argv: string[] } {
  const keys: string[] = []
  const byPath = new Map<string, string>()
  const byKey = new Map<string, string>()
  const keyIndex = (path: KeyPath): string => {
    const id = pathId(path)
    let index = byPath.get(id)
    if (index === undefined) {
      const key = resolveKey(path)
      index = byKey.get(key)
      if (index === undefined) {
        index = String(firstKeyIndex + keys.push(key) - 1)
        byKey.set(key, index)
      }
      byPath.set(id, index)
    }
    return index
  }
  const argv: string[] = [String(groups.length)]
  for (const group of groups) {
    let first = -1
    let last = -1
    for (const { offset } of group.events) {
      const value = Number(offset)
      if (first === -1 || value < first) first = value
      if (value > last) last = value
    }
    argv.push(String(group.events.length), String(first), String(last))
    for (const event of group.events)
      argv.push(event.eventId ?? '', event.expect ?? '', event.token ?? '')
    const countAt = argv.push('') - 1
    let count = 0
    const { ops } = group
    for (let j = 0; j < ops.length; j++) {
      const op = ops[j]!
      count++
      if (op.command === 'HINCRBY') {
        const key = keyIndex(op.keys[0]!)
        let end = j + 1
        while (end < ops.length && ops[end]!.command === 'HINCRBY') {
          const next = ops[end]!.keys[0]!
          if (next !== op.keys[0] && keyIndex(next) !== key) break
          end++
        }
        argv.push('HINCRBY', '1', String(2 * (end - j)), key)
        for (; j < end; j++) argv.push(ops[j]!.args[0]!, ops[j]!.args[1]!)
        j--
        continue
      }
      argv.push(op.command, String(op.keys.length), String(op.args.length))
      for (const key of op.keys) argv.push(keyIndex(key))
      for (const arg of op.args) argv.push(arg)
    }
    argv[countAt] = String(count)
  }
  return { keys, argv }
}
