/*
 * `stack:up --redis-cluster` as a user runs it: the real CLI in a child process, with a private
 * WOLKVOX_DEV_STACK_HOME in a temporary folder, so the user's own stack (its state file, brokers
 * and Redis) is never seen; only the cached Kafka jars are shared (linked, read only). The printed
 * variables reach the cluster as user wcs through the services' own reader and client; `status`
 * reports a killed node; `down` stops every node and removes the folders. `startPrivateStack` with
 * a TLS Redis Cluster gives the same variables to tests. The run's shared redis-server is not used.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readConfig } from '@wolkvox-chat-stream/config'
import {
  devStackHome,
  isAlive,
  kafkaVersionFromEnv,
  listProcesses,
  readStackState,
  startPrivateStack,
} from '@wolkvox-chat-stream/dev-stack'
import { createRedis, readRedisTarget, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { createTokenLock } from '@wolkvox-chat-stream/token-lock'
import { waitFor } from '../support/wait-for.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const cli = join(root, 'packages/dev-stack/src/cli.ts')

const log = (line: string): void => {
  process.stderr.write(`[dev-stack-redis-cluster] ${line}\n`)
}

/** A temporary dev-stack home sharing only the cached jars of the run's Kafka version. */
function privateHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'dev-stack-redis-cluster-'))
  const name = `kafka-${kafkaVersionFromEnv()}`
  const cached = join(devStackHome(), 'jars', name)
  if (existsSync(cached)) {
    mkdirSync(join(home, 'jars'))
    symlinkSync(cached, join(home, 'jars', name))
  }
  return home
}

/** The variables a user's shell may hold that would change what the CLI does. */
const STACK_VARIABLES = [
  'REDIS_URL',
  'REDIS_CLUSTER',
  'REDIS_CLUSTER_NODES',
  'REDIS_USERNAME',
  'REDIS_PASSWORD_FILE',
  'REDIS_TLS',
  'REDIS_TLS_CA_FILE',
  'KAFKA_NODES',
  'KAFKA_SECURE',
  'KAFKA_BROKERS',
]

/** Runs `cli.ts <args>` with the home and `env` over the test's environment. */
function runCli(
  home: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !STACK_VARIABLES.includes(name)),
  )
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', cli, ...args], {
    cwd: root,
    env: { ...base, WOLKVOX_DEV_STACK_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The `NAME=value` lines of the CLI's stdout. */
function parseVariables(stdout: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of stdout.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line)
    if (m) out[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1').replaceAll(`'\\''`, `'`)
  }
  return out
}

/**
 * Resolves once none of `pids` exists any more. The nodes of `stack:up` are detached: once its
 * command has exited, a node that ends is reaped by init, a moment later.
 */
async function gone(pids: readonly number[], what: string): Promise<void> {
  await waitFor(() => pids.every((pid) => !isAlive(pid)), { timeoutMs: 5_000, what })
}

/** SET then GET a key of the product's prefix with the services' reader and client. */
async function setAndGet(env: Record<string, string>, name: string): Promise<void> {
  const redis = createRedis(readConfig(env, readRedisTarget), { name })
  try {
    await waitUntilReady(redis, { timeoutMs: 10_000 })
    const key = `wcs:{t}:k-${Date.now()}`
    expect(await redis.set(key, 'v', 'EX', 60)).toBe('OK')
    expect(await redis.get(key)).toBe('v')
    // User wcs, not admin: a key outside the product's prefix is refused.
    await expect(redis.set('other:k', 'v')).rejects.toThrow(/NOPERM/)
  } finally {
    redis.disconnect()
  }
}

describe('stack:up --redis-cluster', () => {
  it('starts a Redis Cluster whose printed variables connect as wcs; status sees a node down; down stops every node', async () => {
    const home = privateHome()
    let up = false
    try {
      const started = Date.now()
      const result = await runCli(home, ['up', '--redis-cluster'])
      log(`stack:up --redis-cluster in ${Date.now() - started} ms:\n${result.stderr.trim()}`)
      expect(result.code, result.stderr).toBe(0)
      up = true
      const vars = parseVariables(result.stdout)
      expect(Object.keys(vars).sort()).toEqual([
        'KAFKA_BROKERS',
        'REDIS_CLUSTER_NODES',
        'REDIS_PASSWORD_FILE',
        'REDIS_USERNAME',
      ])
      expect(vars.REDIS_USERNAME).toBe('wcs')
      expect(vars.REDIS_CLUSTER_NODES!.split(',')).toHaveLength(6)

      const state = readStackState(home)!
      expect(state.redisUrl).toBe('')
      expect(state.redis).toBeUndefined()
      const cluster = state.redisCluster!
      expect(cluster.workDir.startsWith(join(home, 'redis-cluster'))).toBe(true)
      expect(existsSync(cluster.workDir)).toBe(true)
      expect(vars.REDIS_PASSWORD_FILE!.startsWith(cluster.workDir)).toBe(true)
      expect(cluster.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')).toBe(
        vars.REDIS_CLUSTER_NODES,
      )
      for (const node of cluster.nodes) expect(isAlive(node.pid)).toBe(true)
      // Detached: they outlived the command that started them.
      expect(listProcesses(home).filter((r) => r.kind === 'redis')).toHaveLength(6)

      await setAndGet(vars, 'dev-stack-redis-cluster-test')
      // A cluster the stack created is marked new: its first token lease is granted at once.
      const lockRedis = createRedis(readConfig(vars, readRedisTarget), {
        role: 'lock',
        name: 'stack-cluster-lock',
      })
      try {
        await waitUntilReady(lockRedis, { timeoutMs: 10_000 })
        const lock = createTokenLock({
          redis: lockRedis,
          server: '0010',
          token: 't',
          ttlMs: 90_000,
        })
        const lease = await lock.tryAcquire()
        expect(lease).not.toBeNull()
        await lease!.release()
      } finally {
        lockRedis.disconnect()
      }

      const status = await runCli(home, ['status'])
      expect(status.code, status.stderr).toBe(0)
      expect(parseVariables(status.stdout)).toEqual(vars)
      expect(status.stderr).toMatch(/Running since/)

      const killed = cluster.nodes.at(-1)!
      process.kill(killed.pid, 'SIGKILL')
      await gone([killed.pid], 'the killed node gone')
      const degraded = await runCli(home, ['status'])
      expect(degraded.code, degraded.stderr).toBe(0)
      expect(degraded.stderr).toContain(`Redis Cluster node(s) :${killed.port} are down`)

      const down = await runCli(home, ['down'])
      up = false
      expect(down.code, down.stderr).toBe(0)
      expect(down.stderr).toMatch(/Stopped Kafka .* and the Redis Cluster \(6 nodes\)/)
      await gone(
        [state.kafka.pid, ...cluster.nodes.map((n) => n.pid)],
        'every node and the broker gone',
      )
      expect(existsSync(cluster.workDir)).toBe(false)
      expect(existsSync(state.kafka.workDir)).toBe(false)
      expect(readStackState(home)).toBeNull()
      expect(listProcesses(home)).toEqual([])
    } finally {
      if (up) await runCli(home, ['down'])
      rmSync(home, { recursive: true, force: true })
    }
  })

  it('refuses a cluster beside REDIS_URL, and --redis-tls without a cluster, starting nothing', async () => {
    const home = privateHome()
    try {
      const beside = await runCli(home, ['up', '--redis-cluster'], {
        REDIS_URL: 'redis://127.0.0.1:1',
      })
      expect(beside.code).toBe(1)
      expect(beside.stderr).toMatch(/CONFIG_INVALID[\s\S]*REDIS_URL: .*unset REDIS_URL/)
      expect(beside.stdout).toBe('')
      const tlsAlone = await runCli(home, ['up', '--redis-tls'])
      expect(tlsAlone.code).toBe(1)
      expect(tlsAlone.stderr).toMatch(/--redis-tls: applies to a Redis Cluster/)
      expect(readStackState(home)).toBeNull()
      expect(existsSync(join(home, 'redis-cluster'))).toBe(false)
      expect(existsSync(join(home, 'brokers'))).toBe(false)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})

describe('startPrivateStack({ redisCluster })', () => {
  it('starts a TLS Redis Cluster instead of a redis-server, with the variables of user wcs, and stops it', async () => {
    const home = privateHome()
    try {
      const stack = await startPrivateStack({ home, redisCluster: { tls: true } })
      const pids = stack.redisCluster.nodes.map((n) => n.pid())
      try {
        log(`private stack with a TLS Redis Cluster: ready in ${stack.redisCluster.readyMs} ms`)
        expect(stack.redis).toBeUndefined()
        expect(stack.redisUrl).toBe('')
        expect(stack.redisEnv).toEqual({
          REDIS_CLUSTER_NODES: stack.redisCluster.seeds,
          REDIS_USERNAME: 'wcs',
          REDIS_PASSWORD_FILE: stack.redisCluster.passwordFile('wcs'),
          REDIS_TLS: 'true',
          REDIS_TLS_CA_FILE: stack.redisCluster.tls!.caFile,
        })
        await setAndGet(stack.redisEnv, 'dev-stack-private-cluster-test')
      } finally {
        await stack.stop()
      }
      for (const pid of pids) expect(isAlive(pid)).toBe(false)
      expect(existsSync(stack.redisCluster.workDir)).toBe(false)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})
