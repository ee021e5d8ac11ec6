import { randomBytes } from 'node:crypto'
import { AppError } from '@wolkvox-chat-stream/errors'
import {
  redisKeys,
  replicasOf,
  tokenKeyPart,
  toRedisError,
  type Redis,
} from '@wolkvox-chat-stream/redis'
import { ACQUIRE, EXTEND, FENCED_SET, GLOBAL_EPOCH, RELEASE } from './scripts.js'

/** Something that can reveal a token: the config package's `Secret`, or a plain string in tests. */
export type TokenSource = { reveal(): string } | string

/** Callbacks for metrics; none of them receives the token or its hash. */
export interface TokenLockHooks {
  /** A lease was granted after waiting `waitMs`; `contended` when at least one try found it busy. */
  onAcquired?(info: { waitMs: number; contended: boolean }): void
  /**
   * The lock is held back because Redis had no lock epoch (a new Redis, or one that lost its data):
   * no lease for `waitMs` more (at most one TTL, `ttlMs`). Called once per wait, so a caller can
   * say why it waits; {@link markRedisInitialised} spares a Redis the stack has just created.
   */
  onQuarantine?(info: { waitMs: number; ttlMs: number }): void
  /** The wait ended without a lease. */
  onBusy?(info: { waitMs: number; reason: 'busy' | 'quarantine' }): void
  /** A lease ended; `heldMs` from grant to release (or to the decision to keep it). */
  onReleased?(info: { heldMs: number; kept: boolean }): void
  /** A holder found its lease gone (expired, taken over, or Redis lost it) or could not confirm it. */
  onLost?(info: { reason: LeaseLostReason }): void
  /** A lease, renewal or fenced write reached fewer replicas than asked in time (not counted). */
  onUnreplicated?(info: { what: 'lease' | 'renewal' | 'write' }): void
}

/** Why a holder's signal aborted: every value, for metrics that start each at zero. */
export const leaseLostReasons = ['expired', 'lost', 'unconfirmed'] as const

/** Why a holder's signal aborted. */
export type LeaseLostReason = (typeof leaseLostReasons)[number]

/** Options for {@link createTokenLock}. */
export interface TokenLockOptions {
  /** A connection with the `lock` role (offline queue off, command timeout, no replays). */
  redis: Redis
  /** The operation's server code: the Redis hash tag, so the lock and its state share a slot. */
  server: string
  token: TokenSource
  /** Lease length; renewed every third of it while the work runs. Default 30 s. */
  ttlMs?: number
  /**
   * The holder's signal fires this long before the lease could end, so that work stops (and a
   * request is never started) while the lease is still certainly held. Default 2 s or TTL/5.
   */
  safetyMarginMs?: number
  /** How long the upstream may keep running a call the client gave up on. Default 60 s. */
  upstreamLimitMs?: number
  hooks?: TokenLockHooks
  /**
   * Replicas each lease, renewal and fenced write must reach (`WAIT`) before it counts: a lease
   * granted, or a watermark written, only on a master that then dies is lost with it when Redis
   * replication is asynchronous, and a replica promoted without it would grant the token twice.
   * On a cluster, at most as many as the keys' master has (none right after a failover, until a
   * replica joins: then no promotion can lose a write). Default 0.
   */
  replicas?: number
  /** How long to wait for those replicas; fewer by then means not granted. Default 1 s. */
  replicaWaitMs?: number
  /** Clock, for tests. */
  now?: () => number
}

/** A granted lease. Work checks {@link Lease.signal} and passes {@link Lease.deadline} down. */
export interface Lease {
  /** Fencing token: greater than every fence granted before for this lock. */
  readonly fence: number
  /** Aborts before the lease could end, or as soon as renewal finds it lost. */
  readonly signal: AbortSignal
  /** Epoch ms by which work must be finished (the signal fires then at the latest). */
  deadline(): number
  /** Call when a request on the token was abandoned while it may still run upstream. */
  keepAfterAbortedCall(): void
  /**
   * A state write that succeeds only while this lease is held and no newer fence wrote it:
   * the poller's watermark. `expected` adds a compare-and-set on the current value.
   */
  fencedSet(name: string, value: string, expected?: string): Promise<FencedSetResult>
  /** Reads a value written by {@link Lease.fencedSet}. */
  readState(name: string): Promise<string | null>
}

export type FencedSetResult =
  { ok: true } | { ok: false; reason: 'lease_lost' | 'stale_fence' | 'conflict'; current?: string }

/** What {@link TokenLock.withLock} returns. */
export type WithLockResult<T> =
  | { status: 'done'; value: T; fence: number; waitMs: number; heldMs: number }
  | { status: 'busy'; waitMs: number; reason: 'busy' | 'quarantine' }

export interface TokenLock {
  /** One try: a lease, or `null` when another holder has it (contention is not an error). */
  tryAcquire(): Promise<LeaseHandle | null>
  /**
   * Waits up to `waitMs` for the lease, runs `work` with its signal and fence while renewing it,
   * then releases it (or keeps it for the upstream limit when a call was aborted).
   * @throws AppError `REDIS_UNAVAILABLE` when Redis does not answer while acquiring; whatever
   *   `work` throws.
   */
  withLock<T>(
    options: { waitMs: number; signal?: AbortSignal },
    work: (signal: AbortSignal, fence: number, lease: Lease) => Promise<T>,
  ): Promise<WithLockResult<T>>
  /** Reads a state value of this lock's operation without holding the lease. */
  readState(name: string): Promise<string | null>
  /** The Redis keys of this lock (derived from the token's hash), for tests and operators. */
  readonly keys: {
    lock: string
    fence: string
    epoch: string
    globalEpoch: string
    state(name: string): string
  }
}

/** A lease plus its end: `release()` stops renewal and frees it (or keeps it after an abort). */
export interface LeaseHandle extends Lease {
  release(): Promise<void>
}

const TOKEN_HASH_PREFIX = 'tok'

/** The Redis-wide lock epoch: present while Redis keeps the history of every lock on it. */
const GLOBAL_EPOCH_KEY = redisKeys.globalKey('lock-epoch')

/**
 * Marks a Redis **that has just been created** as one that never held a lease, so the first
 * lease on it is granted at once instead of after one TTL (see the quarantine in `ACQUIRE`).
 * Writes the Redis-wide lock epoch if it is missing; an existing one is left as it is.
 *
 * Only for a Redis created a moment ago by the caller (the dev stack's own redis-server): on a
 * Redis that may have lost its data while a lease was held, the quarantine is what keeps a
 * second caller off the token, and marking it would take that away.
 * @returns true when the marker was written, false when it was there already.
 * @throws AppError `REDIS_UNAVAILABLE` when Redis does not answer.
 */
export async function markRedisInitialised(redis: Redis): Promise<boolean> {
  try {
    const written = await redis.set(GLOBAL_EPOCH_KEY, 'new', 'NX')
    return written === 'OK'
  } catch (error) {
    throw toRedisError(error)
  }
}

function tokenValue(token: TokenSource): string {
  return typeof token === 'string' ? token : token.reveal()
}

/**
 * The single-use token lock (QUALITY.md promise 3): at most one holder per Wolkvox token, a
 * fencing token per lease, and a holder that stops itself before its lease could end.
 */
export function createTokenLock(options: TokenLockOptions): TokenLock {
  const ttlMs = options.ttlMs ?? 30_000
  const safetyMarginMs = options.safetyMarginMs ?? Math.min(2_000, Math.floor(ttlMs / 5))
  const upstreamLimitMs = options.upstreamLimitMs ?? 60_000
  const now = options.now ?? Date.now
  const hooks = options.hooks ?? {}
  const redis = options.redis
  if (ttlMs < 100 || safetyMarginMs >= ttlMs / 2) {
    throw new AppError(
      'CONFIG_INVALID',
      'token lock: ttlMs must be ≥ 100 and the safety margin under half of it',
    )
  }
  // The token itself never reaches Redis: keys carry a hash of it, values are random.
  const lockName = `${TOKEN_HASH_PREFIX}-${tokenKeyPart(tokenValue(options.token))}`
  const keys = {
    lock: redisKeys.key(options.server, 'lock', lockName),
    fence: redisKeys.key(options.server, 'lock', lockName, 'fence'),
    epoch: redisKeys.key(options.server, 'lock', lockName, 'epoch'),
    globalEpoch: GLOBAL_EPOCH_KEY,
    state: (name: string) => redisKeys.key(options.server, 'state', name),
  }

  const replicas = options.replicas ?? 0
  const replicaWaitMs = options.replicaWaitMs ?? 1_000

  const evalScript = async (
    script: string,
    keyList: string[],
    args: (string | number)[],
  ): Promise<unknown> => {
    try {
      return await redis.eval(script, keyList.length, ...keyList, ...args.map(String))
    } catch (error) {
      throw toRedisError(error)
    }
  }

  /**
   * Runs a writing script, then `WAIT`s for the replicas asked (at most those the slot's master
   * has: right after a failover the promoted master has none, and nothing can be lost by promotion
   * until one joins). Both go in one pipeline, which a cluster client sends to the master of the
   * keys' slot, so `WAIT` covers the script's writes. Its reply, and whether they are replicated.
   */
  const evalReplicated = async (
    script: string,
    keyList: string[],
    args: (string | number)[],
  ): Promise<{ reply: unknown; replicated: boolean }> => {
    const wanted = Math.min(replicas, replicasOf(redis, keyList[0]!) ?? replicas)
    if (wanted === 0) return { reply: await evalScript(script, keyList, args), replicated: true }
    let results: [Error | null, unknown][] | null
    try {
      results = await redis
        .pipeline()
        .eval(script, keyList.length, ...keyList, ...args.map(String))
        .call('WAIT', String(wanted), String(replicaWaitMs))
        .exec()
    } catch (error) {
      throw toRedisError(error)
    }
    const [scripted, waited] = results ?? []
    if (scripted?.[0]) throw toRedisError(scripted[0])
    return {
      reply: scripted?.[1],
      replicated: !waited?.[0] && Number(waited?.[1]) >= wanted,
    }
  }

  const readState = async (name: string): Promise<string | null> => {
    try {
      return await redis.hget(keys.state(name), 'value')
    } catch (error) {
      throw toRedisError(error)
    }
  }

  const tryOnce = async (): Promise<
    { handle: LeaseHandle } | { busy: 'busy' | 'quarantine'; retryInMs: number }
  > => {
    const value = randomBytes(16).toString('hex')
    // The Redis-wide epoch tells a lock never used before (no quarantine) from a Redis that lost
    // its data (every lock quarantined until one TTL after the loss was seen). It lives outside
    // the lock's slot, so it is read (or written) apart from the script; a flush in the
    // microseconds between the two is the one case not covered.
    const globalEpoch = String(await evalScript(GLOBAL_EPOCH, [keys.globalEpoch], []))
    const sentAt = now()
    // On an error the outcome is unknown: the SET may have happened. The lock is then treated as
    // not ours (the error propagates); if it was set, it expires after one TTL. The lock-role
    // connection never replays the command after a reconnect.
    const { reply, replicated } = await evalReplicated(
      ACQUIRE,
      [keys.lock, keys.fence, keys.epoch],
      [value, ttlMs, randomBytes(8).toString('hex'), globalEpoch],
    )
    const [granted, second, third] = reply as [number, number | string, number?]
    if (granted === 1 && !replicated) {
      // Granted on the master alone: a failover now could hand the token to someone else. Give
      // it back and try again shortly, as if it were busy.
      await evalScript(RELEASE, [keys.lock], [value]).catch(() => undefined)
      hooks.onUnreplicated?.({ what: 'lease' })
      return { busy: 'busy', retryInMs: replicaWaitMs }
    }
    if (granted !== 1) {
      return {
        busy: second === 'quarantine' ? 'quarantine' : 'busy',
        retryInMs: Math.max(0, Number(third ?? 0)),
      }
    }
    return { handle: startLease(value, Number(second), sentAt) }
  }

  const startLease = (value: string, fence: number, sentAt: number): LeaseHandle => {
    const controller = new AbortController()
    const grantedAt = now()
    // Counted from when the acquire was *sent*: the server's expiry cannot be later than that.
    let expiresAt = sentAt + ttlMs
    let keep = false
    let ended = false
    let deadlineTimer: NodeJS.Timeout | undefined

    const lose = (reason: LeaseLostReason): void => {
      if (controller.signal.aborted) return
      hooks.onLost?.({ reason })
      controller.abort(
        new AppError(
          'LOCK_LEASE_LOST',
          `The token lease was ${reason === 'unconfirmed' ? 'not confirmed' : reason}`,
          {
            details: { reason },
          },
        ),
      )
    }

    const armDeadline = (): void => {
      clearTimeout(deadlineTimer)
      const ms = expiresAt - safetyMarginMs - now()
      if (ms <= 0) return lose('expired')
      deadlineTimer = setTimeout(() => lose('expired'), ms)
      deadlineTimer.unref()
    }

    const renew = async (): Promise<void> => {
      if (ended || controller.signal.aborted) return
      const sent = now()
      try {
        const { reply: extended, replicated } = await evalReplicated(
          EXTEND,
          [keys.lock],
          [value, ttlMs],
        )
        if (ended) return
        if (extended === 1 && !replicated) {
          // The longer lease exists on the master only: a promoted replica would end it sooner.
          hooks.onUnreplicated?.({ what: 'renewal' })
          lose('unconfirmed')
        } else if (extended === 1) {
          expiresAt = sent + ttlMs
          armDeadline()
        } else {
          lose('lost')
        }
      } catch {
        // Not confirmed is not held: stop the work rather than risk a second caller.
        lose('unconfirmed')
      }
    }

    const renewTimer = setInterval(() => void renew(), Math.max(50, Math.floor(ttlMs / 3)))
    renewTimer.unref()
    armDeadline()

    const lease: LeaseHandle = {
      fence,
      signal: controller.signal,
      deadline: () => expiresAt - safetyMarginMs,
      keepAfterAbortedCall: () => {
        keep = true
      },
      fencedSet: async (name, newValue, expected) => {
        const written = await evalReplicated(
          FENCED_SET,
          [keys.lock, keys.state(name)],
          [value, fence, newValue, expected ?? ''],
        )
        const reply = written.reply as [number, string?, string?]
        if (reply[0] === 1 && !written.replicated) {
          hooks.onUnreplicated?.({ what: 'write' })
          throw new AppError(
            'REDIS_UNAVAILABLE',
            `The ${name} write reached fewer than ${replicas} Redis replica(s) within ${replicaWaitMs} ms; it is not counted on`,
            { details: { replicas, waitMs: replicaWaitMs } },
          )
        }
        if (reply[0] === 1) return { ok: true }
        const reason = reply[1] as 'lease_lost' | 'stale_fence' | 'conflict'
        return reply[2] === undefined
          ? { ok: false, reason }
          : { ok: false, reason, current: reply[2] }
      },
      readState,
      release: async () => {
        if (ended) return
        ended = true
        clearInterval(renewTimer)
        clearTimeout(deadlineTimer)
        const heldMs = now() - grantedAt
        // After any abort a request may have been cut off mid-flight and still run upstream.
        const kept = keep || controller.signal.aborted
        if (!controller.signal.aborted)
          controller.abort(
            new AppError('LOCK_LEASE_LOST', 'The token lease was released', {
              details: { reason: 'released' },
            }),
          )
        try {
          if (kept) {
            // A call given up on may still run upstream: keep others off the token until it must
            // have ended. If the lease is already gone, there is nothing left to keep.
            await evalScript(EXTEND, [keys.lock], [value, upstreamLimitMs])
          } else {
            await evalScript(RELEASE, [keys.lock], [value])
          }
        } catch {
          // Unknown outcome: the lease expires by itself after at most one TTL.
        }
        hooks.onReleased?.({ heldMs, kept })
      },
    }
    return lease
  }

  const lock: TokenLock = {
    keys,
    readState,
    tryAcquire: async () => {
      const result = await tryOnce()
      return 'handle' in result ? result.handle : null
    },
    withLock: async (withOptions, work) => {
      const started = now()
      let contended = false
      let quarantineSeen = false
      let attempt = 0
      for (;;) {
        const result = await tryOnce()
        if ('handle' in result) {
          const lease = result.handle
          const waitMs = now() - started
          hooks.onAcquired?.({ waitMs, contended })
          try {
            const value = await work(lease.signal, lease.fence, lease)
            return {
              status: 'done',
              value,
              fence: lease.fence,
              waitMs,
              heldMs: now() - started - waitMs,
            }
          } catch (error) {
            // An abort may leave a call running upstream; the lease is kept for it (see release).
            if (lease.signal.aborted) lease.keepAfterAbortedCall()
            throw error
          } finally {
            await lease.release()
          }
        }
        contended = true
        const lastReason = result.busy
        if (lastReason === 'quarantine' && !quarantineSeen) {
          quarantineSeen = true
          hooks.onQuarantine?.({ waitMs: result.retryInMs, ttlMs })
        }
        const elapsed = now() - started
        const remaining = withOptions.waitMs - elapsed
        if (remaining <= 0 || withOptions.signal?.aborted) {
          hooks.onBusy?.({ waitMs: elapsed, reason: lastReason })
          return { status: 'busy', waitMs: elapsed, reason: lastReason }
        }
        // Jittered backoff, capped by what the holder still has and by the wait left.
        attempt++
        const backoff = Math.min(1_000, 20 * 2 ** Math.min(attempt, 6))
        const pause = Math.min(
          remaining,
          Math.max(5, Math.random() * backoff),
          result.retryInMs > 0 ? result.retryInMs + 5 : Infinity,
        )
        await new Promise((resolve) => setTimeout(resolve, pause))
      }
    },
  }
  return lock
}
