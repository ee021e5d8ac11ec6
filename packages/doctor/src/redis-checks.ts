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

/** The slots a `CLUSTER SLOTS` answer assigns. */
export function assignedSlots(answer: readonly unknown[]): number {
  let count = 0
  for (const range of answer) {
    const [start, end] = range as [number, number]
    count += end - start + 1
  }
  return count
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
      const assigned = assignedSlots(await redis.cluster('SLOTS'))
      results.push(
        assigned === SLOTS
          ? passed('redis cluster slots', `all ${SLOTS} slots served by ${masters.length} masters`)
          : failed(
              'redis cluster slots',
              `${SLOTS - assigned} of ${SLOTS} slots are not served (cluster_state is not ok)`,
              'assign the missing slots (redis-cli --cluster fix <host:port>) or bring their master back',
            ),
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
