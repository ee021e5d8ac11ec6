/*
 * Check 3: Redis reachable and authenticated, `maxmemory-policy noeviction` on every master, and
 * on a cluster every one of the 16384 slots served. Read-only commands only.
 */
import {
  createRedis,
  describeRedis,
  isCluster,
  toRedisError,
  waitUntilReady,
  type Redis,
  type RedisTarget,
} from '@wolkvox-chat-stream/redis'
import { describeError, failed, passed, skipped, warned, type CheckResult } from './result.js'

const SLOTS = 16_384

function connectionFix(code: string, target: RedisTarget): string {
  switch (code) {
    case 'REDIS_AUTH_FAILED':
      return 'check REDIS_USERNAME and REDIS_PASSWORD_FILE (or the user and password in REDIS_URL) against the ACL user'
    case 'REDIS_TLS_FAILED':
      return "check REDIS_TLS_CA_FILE (the CA of the servers' certificates) and that the server speaks TLS on that port"
    default:
      return `check that ${target.cluster ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL'} (${describeRedis(target)}) names a running Redis reachable from here`
  }
}

/** `maxmemory-policy` of one node: the policy, or `refused` when the user may not run CONFIG GET. */
async function policyOf(node: Redis): Promise<string> {
  try {
    const answer = (await node.config('GET', 'maxmemory-policy')) as string[]
    return answer[1] ?? '(none)'
  } catch (error) {
    if (/NOPERM|no permissions|unknown command/iu.test((error as Error).message)) return 'refused'
    throw error
  }
}

/**
 * The slots no range of a `CLUSTER SLOTS` answer assigns, as ranges (`[[0, 99], [5000, 5000]]`),
 * in order; empty when all {@link SLOTS} are assigned.
 */
export function uncoveredSlots(answer: readonly unknown[]): [number, number][] {
  const served = new Uint8Array(SLOTS)
  for (const range of answer) {
    const [start, end] = range as [number, number]
    served.fill(1, Math.max(0, start), Math.min(SLOTS, end + 1))
  }
  const gaps: [number, number][] = []
  for (let slot = 0; slot < SLOTS; slot++) {
    if (served[slot] === 1) continue
    const last = gaps.at(-1)
    if (last !== undefined && last[1] === slot - 1) last[1] = slot
    else gaps.push([slot, slot])
  }
  return gaps
}

/** Uncovered slot ranges as `0-99, 5000` (the first 10 ranges, then how many more). */
export function describeSlots(gaps: readonly [number, number][]): string {
  const shown = gaps.slice(0, 10).map(([a, b]) => (a === b ? String(a) : `${a}-${b}`))
  const count = gaps.reduce((n, [a, b]) => n + b - a + 1, 0)
  const more = gaps.length > 10 ? ` and ${gaps.length - 10} more ranges` : ''
  return `${count} of ${SLOTS} slots are not served: ${shown.join(', ')}${more}`
}

const SLOTS_FIX =
  'assign the missing slots (redis-cli --cluster fix <host:port>) or bring their master back'

/**
 * A cluster that never became ready (its client waits for cluster_state:ok): what each seed node
 * says of its state and slots over a plain connection, the first that answers; undefined when
 * none answers or the one that does sees a healthy cluster (the failure is then something else).
 */
async function downCluster(
  target: RedisTarget,
  timeoutMs: number,
): Promise<{ node: string; state: string; gaps: [number, number][] } | undefined> {
  for (const seed of target.nodes) {
    const node = createRedis(
      { ...target, cluster: false, nodes: [seed] },
      { name: 'wcs-doctor', role: 'lock' },
    )
    try {
      await waitUntilReady(node, { timeoutMs: Math.min(timeoutMs, 2_000) })
      const info = String(await node.cluster('INFO'))
      const state = /^cluster_state:(\w+)/mu.exec(info)?.[1] ?? '?'
      const gaps = uncoveredSlots(await node.cluster('SLOTS'))
      if (state === 'ok' && gaps.length === 0) return undefined
      return { node: `${seed.host}:${seed.port}`, state, gaps }
    } catch {
      // this seed does not answer: the next may
    } finally {
      node.disconnect()
    }
  }
  return undefined
}

/**
 * `redis connection`, `redis maxmemory-policy` and `redis cluster slots`: connects as the
 * services do (user, password, TLS from the target), then reads.
 */
export async function checkRedis(target: RedisTarget, timeoutMs: number): Promise<CheckResult[]> {
  const redis = createRedis(target, { name: 'wcs-doctor' })
  const shown = describeRedis(target)
  try {
    try {
      await waitUntilReady(redis, { timeoutMs })
      await redis.ping()
    } catch (error) {
      const mapped = toRedisError(error)
      const cause = mapped.cause instanceof Error ? `: ${mapped.cause.message}` : ''
      // A cluster with a slot no master serves is down (cluster_state:fail): its nodes answer,
      // but no client becomes ready. Say which slots, not only that time ran out.
      const down =
        target.cluster && mapped.code === 'REDIS_UNAVAILABLE'
          ? await downCluster(target, timeoutMs)
          : undefined
      if (down !== undefined) {
        const view = `cluster_state:${down.state} in the view of ${down.node}`
        return [
          failed(
            'redis connection',
            `REDIS_UNAVAILABLE: the nodes of ${shown} answer, but the cluster is down (${view})`,
            down.gaps.length > 0
              ? 'fix its slots first (see redis cluster slots): a cluster missing a slot refuses every command'
              : "see the nodes' logs (CLUSTER INFO) for why the cluster is down",
          ),
          skipped('redis maxmemory-policy', 'not checked (no connection)'),
          down.gaps.length > 0
            ? failed('redis cluster slots', `${describeSlots(down.gaps)} (${view})`, SLOTS_FIX)
            : skipped('redis cluster slots', 'not checked (no connection)'),
        ]
      }
      return [
        failed(
          'redis connection',
          `${mapped.code}: ${mapped.message}${cause} (${shown})`,
          connectionFix(mapped.code, target),
        ),
        skipped('redis maxmemory-policy', 'not checked (no connection)'),
        skipped(
          'redis cluster slots',
          target.cluster ? 'not checked (no connection)' : 'not configured (a single node)',
        ),
      ]
    }
    const results = [
      passed(
        'redis connection',
        `${shown}${target.tls ? ', TLS' : ''}${target.password === undefined ? '' : ', authenticated'}`,
      ),
    ]
    const masters = isCluster(redis) ? redis.nodes('master') : [redis]
    const policies = await Promise.all(masters.map(policyOf))
    const wrong = [...new Set(policies.filter((p) => p !== 'noeviction' && p !== 'refused'))]
    if (wrong.length > 0) {
      results.push(
        failed(
          'redis maxmemory-policy',
          `is ${wrong.join(', ')}: Redis may evict the product's state (a lost key is lost state, not a cache miss)`,
          'CONFIG SET maxmemory-policy noeviction, and set it in redis.conf (README: Production Redis)',
        ),
      )
    } else if (policies.includes('refused')) {
      results.push(
        warned(
          'redis maxmemory-policy',
          `could not be checked: the user ${target.username ?? 'default'} may not run CONFIG GET`,
          'ask whoever runs the Redis to confirm maxmemory-policy noeviction (README: Production Redis), or run the doctor as a user allowed CONFIG GET',
        ),
      )
    } else {
      results.push(
        passed(
          'redis maxmemory-policy',
          `noeviction on ${masters.length} node${masters.length === 1 ? '' : 's'}`,
        ),
      )
    }
    if (!isCluster(redis)) {
      results.push(skipped('redis cluster slots', 'not configured (a single node)'))
    } else {
      const gaps = uncoveredSlots(await redis.cluster('SLOTS'))
      results.push(
        gaps.length === 0
          ? passed('redis cluster slots', `all ${SLOTS} slots served by ${masters.length} masters`)
          : failed('redis cluster slots', describeSlots(gaps), SLOTS_FIX),
      )
    }
    return results
  } catch (error) {
    return [
      failed(
        'redis connection',
        `${describeError(toRedisError(error))} (${shown})`,
        connectionFix('', target),
      ),
    ]
  } finally {
    redis.disconnect()
  }
}
