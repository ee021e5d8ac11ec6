/*
 * A real Redis Cluster from the dev stack (startRedisCluster): six redis-server processes, three
 * masters and three replicas, as users run Redis. A plain cluster serves keys of every slot to
 * ioredis's Cluster; a TLS cluster with ACL users lets the product's user in with the private CA
 * and its password only, and only to `wcs:*` keys; a killed master is failed over to its replica
 * within seconds and comes back as a replica. Each test starts and stops its own cluster; none
 * touches the run's shared redis-server.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster, Redis, type RedisOptions } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { readConfig } from '@wolkvox-chat-stream/config'
import {
  isAlive,
  listProcesses,
  startRedisCluster,
  type RedisCluster,
} from '@wolkvox-chat-stream/dev-stack'
import { createRedis, readRedisTarget, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { waitFor } from '../support/wait-for.js'

const log = (line: string): void => {
  process.stderr.write(`[redis-cluster] ${line}\n`)
}

/** ioredis's Cluster on every node of `cluster`, as `user`, with the CA when it has TLS. */
function clusterClient(cluster: RedisCluster, user: string): Cluster {
  const ca = cluster.tls ? readFileSync(cluster.tls.caFile) : undefined
  return new Cluster(
    cluster.seeds
      .split(',')
      .map((seed) => ({ host: '127.0.0.1', port: Number(seed.split(':')[1]) })),
    {
      redisOptions: {
        username: user,
        password: cluster.password(user),
        ...(ca ? { tls: { ca } } : {}),
      },
    },
  )
}

/** Stops the cluster and checks that nothing of it is left: no process, no folder. */
async function stopAndCheck(cluster: RedisCluster): Promise<void> {
  const pids = cluster.nodes.map((n) => n.pid())
  await cluster.stop()
  for (const pid of pids) expect(isAlive(pid)).toBe(false)
  expect(existsSync(cluster.workDir)).toBe(false)
}

/** A single connection that fails at once instead of retrying, and the first error it reported. */
async function firstError(options: RedisOptions): Promise<Error> {
  const redis = new Redis({
    ...options,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  })
  const errors: Error[] = []
  redis.on('error', (error: Error) => errors.push(error))
  try {
    await redis.connect().then(() => redis.ping())
  } catch (error) {
    errors.push(error as Error)
  } finally {
    redis.disconnect()
  }
  expect(errors.length).toBeGreaterThan(0)
  return errors[0]!
}

describe('a local Redis Cluster', () => {
  it('of 3 masters and 3 replicas serves keys of many slots to ioredis Cluster', async () => {
    const cluster = await startRedisCluster()
    log(`plain 3+3 cluster at ${cluster.seeds}: ready in ${cluster.readyMs} ms`)
    const client = clusterClient(cluster, 'admin')
    try {
      expect(cluster.nodes).toHaveLength(6)
      expect(cluster.users).toEqual(['admin'])
      expect(cluster.env()).toEqual({ REDIS_CLUSTER_NODES: cluster.seeds })
      const roles = await Promise.all(
        cluster.nodes.map(async (n) => (await n.command('ROLE')).split('\n')[0]),
      )
      expect(roles.filter((r) => r === 'master')).toHaveLength(3)
      expect(roles.filter((r) => r === 'slave')).toHaveLength(3)

      const keys = Array.from({ length: 300 }, (_, i) => `wcs:key-${i}`)
      await Promise.all(keys.map((key) => client.set(key, `value of ${key}`)))
      expect(await Promise.all(keys.map((key) => client.get(key)))).toEqual(
        keys.map((key) => `value of ${key}`),
      )
      // The keys are spread over every master, in many slots.
      const slots = new Set(await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key))))
      expect(slots.size).toBeGreaterThan(250)
      const masters = new Set(await Promise.all(keys.slice(0, 30).map((k) => cluster.masterOf(k))))
      expect(masters.size).toBe(3)
      for (const master of masters)
        expect(Number(await master.command('DBSIZE'))).toBeGreaterThan(0)
    } finally {
      client.disconnect()
      await stopAndCheck(cluster)
    }
  })

  it('with TLS and ACLs lets the product user in with the CA and its password, to wcs:* only', async () => {
    const cluster = await startRedisCluster({ tls: true, users: ['wcs'] })
    log(`TLS 3+3 cluster with user wcs at ${cluster.seeds}: ready in ${cluster.readyMs} ms`)
    const client = clusterClient(cluster, 'wcs')
    try {
      expect(cluster.users).toEqual(['admin', 'wcs'])
      expect(cluster.env('wcs')).toEqual({
        REDIS_CLUSTER_NODES: cluster.seeds,
        REDIS_USERNAME: 'wcs',
        REDIS_PASSWORD_FILE: cluster.passwordFile('wcs'),
        REDIS_TLS: 'true',
        REDIS_TLS_CA_FILE: cluster.tls!.caFile,
      })
      expect(readFileSync(cluster.passwordFile('wcs'), 'utf8')).toBe(cluster.password('wcs'))
      expect(statSync(cluster.passwordFile('wcs')).mode & 0o777).toBe(0o600)
      expect(() => cluster.password('nobody')).toThrow(RangeError)

      expect(await client.set('wcs:{x}:k', 'v')).toBe('OK')
      expect(await client.get('wcs:{x}:k')).toBe('v')
      await expect(client.set('other:k', 'v')).rejects.toThrow(/NOPERM/)
      await expect(client.flushall()).rejects.toThrow(/NOPERM/)

      // The services' own reader and client take the cluster's variables as they are.
      const product = createRedis(readConfig(cluster.env('wcs'), readRedisTarget), {
        name: 'redis-cluster-test',
      })
      try {
        await waitUntilReady(product, { timeoutMs: 10_000 })
        expect(await product.set('wcs:{y}:k', 'w')).toBe('OK')
        expect(await client.get('wcs:{y}:k')).toBe('w')
      } finally {
        product.disconnect()
      }

      const port = cluster.nodes[0]!.port
      const credentials = { username: 'wcs', password: cluster.password('wcs') }
      // Without the private CA the handshake fails: the system's CAs do not know the nodes'.
      const untrusted = await firstError({ host: '127.0.0.1', port, tls: {}, ...credentials })
      expect(`${(untrusted as NodeJS.ErrnoException).code} ${untrusted.message}`).toMatch(
        /SELF_SIGNED|UNABLE_TO_VERIFY|certificate/i,
      )
      const ca = readFileSync(cluster.tls!.caFile)
      const wrong = await firstError({
        host: '127.0.0.1',
        port,
        tls: { ca },
        username: 'wcs',
        password: 'not-the-password',
      })
      expect(wrong.message).toMatch(/WRONGPASS/)
      // The default user is off: no access without credentials.
      const anonymous = await firstError({ host: '127.0.0.1', port, tls: { ca } })
      expect(anonymous.message).toMatch(/NOAUTH/)

      // No password on any node's command line (ps shows those); each node's config is 0600.
      for (const node of cluster.nodes) {
        const cmdline = readFileSync(`/proc/${node.pid()}/cmdline`, 'utf8')
        for (const user of cluster.users) expect(cmdline).not.toContain(cluster.password(user))
        expect(statSync(`${node.dir}/redis.conf`).mode & 0o777).toBe(0o600)
      }
    } finally {
      client.disconnect()
      await stopAndCheck(cluster)
    }
  })

  it('fails a killed master over to its replica, which serves the key; the old master returns as a replica', async () => {
    const cluster = await startRedisCluster({ users: ['wcs'] })
    log(`3+3 cluster with user wcs at ${cluster.seeds}: ready in ${cluster.readyMs} ms`)
    const client = clusterClient(cluster, 'wcs')
    try {
      const key = 'wcs:{0010}:x'
      // Acknowledged by the replica too (WAIT on the master's connection), so it survives the kill.
      const [set, wait] = (await client
        .pipeline()
        .set(key, 'before')
        .call('WAIT', 1, 5_000)
        .exec())!
      expect([set![1], wait![1]]).toEqual(['OK', 1])

      const master = await cluster.masterOf(key)
      const replicaOf = async (node: (typeof cluster.nodes)[number]): Promise<number | null> => {
        const [role, , masterPort] = (await node.command('ROLE')).split('\n')
        return role === 'slave' ? Number(masterPort) : null
      }
      const replicas = []
      for (const node of cluster.nodes)
        if ((await replicaOf(node)) === master.port) replicas.push(node)
      expect(replicas).toHaveLength(1)
      const replica = replicas[0]!

      const pid = master.pid()
      const killedAt = Date.now()
      master.kill('SIGKILL')
      await cluster.waitHealthy(15_000)
      const failoverMs = Date.now() - killedAt
      expect(isAlive(pid)).toBe(false)
      expect((await cluster.masterOf(key)).port).toBe(replica.port)
      expect(await client.get(key)).toBe('before')
      expect(await client.set(key, 'after')).toBe('OK')

      const restartedAt = Date.now()
      await master.start()
      expect(master.pid()).not.toBe(pid)
      await cluster.waitHealthy(15_000)
      await waitFor(async () => ((await replicaOf(master)) === replica.port ? true : null), {
        what: `the old master :${master.port} replicating :${replica.port}`,
        timeoutMs: 15_000,
        intervalMs: 100,
      })
      const rejoinMs = Date.now() - restartedAt
      log(
        `failover of :${master.port} to :${replica.port} in ${failoverMs} ms; back as a replica in ${rejoinMs} ms`,
      )
      expect(failoverMs).toBeLessThan(15_000)
      expect((await cluster.masterOf(key)).port).toBe(replica.port)
      expect(await client.get(key)).toBe('after')
    } finally {
      client.disconnect()
      await stopAndCheck(cluster)
    }
  })

  it('that fails to start stops every node it started and leaves no folder or record', async () => {
    // A home of its own: other runs may start clusters in the shared one meanwhile.
    const home = mkdtempSync(join(tmpdir(), 'redis-cluster-failure-'))
    try {
      // No time at all to be ready: the first node that does not answer at once fails the start.
      await expect(
        startRedisCluster({ home, users: ['wcs'], readyTimeoutMs: 1 }),
      ).rejects.toMatchObject({
        code: 'DEV_STACK_REDIS_CLUSTER_FAILED',
        message: expect.stringMatching(
          /redis-server of the cluster on port \d+ did not answer PING/,
        ),
      })
      expect(readdirSync(join(home, 'redis-cluster'))).toEqual([])
      expect(listProcesses(home)).toEqual([])
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
