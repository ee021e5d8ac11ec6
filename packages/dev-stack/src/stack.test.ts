import { describe, expect, it } from 'vitest'
import {
  deadKafkaLogs,
  redisClusterFromArgs,
  schemaRegistryFromArgs,
  stackRedisEnv,
  stackSchemaRegistryEnv,
  type StackState,
} from './stack.js'

describe('the Redis Cluster option of stack:up', () => {
  it('is off unless --redis-cluster or REDIS_CLUSTER=true asks for it', () => {
    expect(redisClusterFromArgs([], {})).toBeUndefined()
    expect(redisClusterFromArgs(['--brokers', '3', '--secure'], {})).toBeUndefined()
    expect(redisClusterFromArgs([], { REDIS_CLUSTER: 'false', REDIS_TLS: 'false' })).toBeUndefined()
    // A single Redis named by REDIS_URL is used as before.
    expect(redisClusterFromArgs([], { REDIS_URL: 'redis://127.0.0.1:6390' })).toBeUndefined()
  })

  it('is a plain cluster for --redis-cluster or REDIS_CLUSTER, on TLS with --redis-tls or REDIS_TLS', () => {
    expect(redisClusterFromArgs(['--redis-cluster'], {})).toEqual({ tls: false })
    expect(redisClusterFromArgs([], { REDIS_CLUSTER: 'true' })).toEqual({ tls: false })
    expect(redisClusterFromArgs(['--brokers', '3', '--redis-cluster', '--redis-tls'], {})).toEqual({
      tls: true,
    })
    expect(redisClusterFromArgs(['--redis-cluster'], { REDIS_TLS: 'true' })).toEqual({ tls: true })
    expect(redisClusterFromArgs([], { REDIS_CLUSTER: '1', REDIS_TLS: 'yes' })).toEqual({
      tls: true,
    })
    // An empty REDIS_URL is no Redis.
    expect(redisClusterFromArgs(['--redis-cluster'], { REDIS_URL: '' })).toEqual({ tls: false })
  })

  it('refuses a cluster while REDIS_URL names a Redis, without showing the URL', () => {
    const call = (): unknown =>
      redisClusterFromArgs(['--redis-cluster'], { REDIS_URL: 'redis://u:secret-pw@10.0.0.1:6379' })
    expect(call).toThrow(/REDIS_URL: names one Redis.*unset REDIS_URL/)
    expect(call).not.toThrow(/secret-pw/)
    expect(() =>
      redisClusterFromArgs([], { REDIS_CLUSTER: 'true', REDIS_URL: 'redis://127.0.0.1:6379' }),
    ).toThrow(/CONFIG_INVALID|Invalid configuration/)
  })

  it('refuses TLS without a cluster', () => {
    expect(() => redisClusterFromArgs(['--redis-tls'], {})).toThrow(
      /--redis-tls: applies to a Redis Cluster: add --redis-cluster/,
    )
    expect(() => redisClusterFromArgs([], { REDIS_TLS: 'true' })).toThrow(
      /REDIS_TLS: applies to a Redis Cluster/,
    )
  })

  it('refuses flag variables that are not booleans', () => {
    expect(() => redisClusterFromArgs([], { REDIS_CLUSTER: 'maybe' })).toThrow(/REDIS_CLUSTER/)
    expect(() => redisClusterFromArgs(['--redis-cluster'], { REDIS_TLS: 'sure' })).toThrow(
      /REDIS_TLS/,
    )
  })
})

describe('the Redis variables of a stack', () => {
  const base: StackState = {
    kafkaBrokers: '127.0.0.1:9092',
    redisUrl: 'redis://127.0.0.1:6379',
    kafka: { pid: 1, workDir: '/w/k', version: '3.9.2' },
    startedAt: '2025-01-01T00:00:00.000Z',
  }

  it('are REDIS_URL for one Redis', () => {
    expect(stackRedisEnv(base)).toEqual({ REDIS_URL: 'redis://127.0.0.1:6379' })
  })

  it("are the cluster's client variables, and no REDIS_URL, for a Redis Cluster", () => {
    const env = {
      REDIS_CLUSTER_NODES: '127.0.0.1:7000,127.0.0.1:7001',
      REDIS_USERNAME: 'wcs',
      REDIS_PASSWORD_FILE: '/w/r/secrets/wcs.password',
      REDIS_TLS: 'true',
      REDIS_TLS_CA_FILE: '/w/r/tls/ca.pem',
    }
    const state: StackState = {
      ...base,
      redisUrl: '',
      redisCluster: {
        workDir: '/w/r',
        nodes: [
          { port: 7000, pid: 2 },
          { port: 7001, pid: 3 },
        ],
        env,
      },
    }
    expect(stackRedisEnv(state)).toEqual(env)
    expect(stackRedisEnv(state)).not.toBe(env)
  })
})

describe('the schema registry option of stack:up', () => {
  it('is off unless --registry or SCHEMA_REGISTRY=true asks for it', () => {
    expect(schemaRegistryFromArgs([], {})).toBe(false)
    expect(schemaRegistryFromArgs(['--brokers', '3', '--redis-cluster'], {})).toBe(false)
    expect(schemaRegistryFromArgs([], { SCHEMA_REGISTRY: 'false' })).toBe(false)
    // A registry named by SCHEMA_REGISTRY_URL starts nothing.
    expect(
      schemaRegistryFromArgs([], { SCHEMA_REGISTRY_URL: 'http://r:8080/apis/ccompat/v7' }),
    ).toBe(false)
  })

  it('is on for --registry, SCHEMA_REGISTRY=true or its other spellings', () => {
    expect(schemaRegistryFromArgs(['--registry'], {})).toBe(true)
    expect(schemaRegistryFromArgs(['--brokers', '3', '--registry', '--secure'], {})).toBe(true)
    expect(schemaRegistryFromArgs([], { SCHEMA_REGISTRY: 'true' })).toBe(true)
    expect(schemaRegistryFromArgs([], { SCHEMA_REGISTRY: 'yes' })).toBe(true)
    expect(schemaRegistryFromArgs([], { SCHEMA_REGISTRY: '1' })).toBe(true)
    // The flag wins over a variable that says no.
    expect(schemaRegistryFromArgs(['--registry'], { SCHEMA_REGISTRY: 'false' })).toBe(true)
  })

  it('refuses a SCHEMA_REGISTRY that is not a boolean, even beside --registry', () => {
    expect(() => schemaRegistryFromArgs([], { SCHEMA_REGISTRY: 'apicurio' })).toThrow(
      /SCHEMA_REGISTRY: "apicurio" is not true or false/,
    )
    expect(() => schemaRegistryFromArgs(['--registry'], { SCHEMA_REGISTRY: 'maybe' })).toThrow(
      /SCHEMA_REGISTRY/,
    )
  })
})

describe('the schema registry variable of a stack', () => {
  const base: StackState = {
    kafkaBrokers: '127.0.0.1:9092',
    redisUrl: 'redis://127.0.0.1:6379',
    kafka: { pid: 1, workDir: '/w/k', version: '3.9.2' },
    startedAt: '2025-01-01T00:00:00.000Z',
  }

  it('is absent without a registry', () => {
    expect(stackSchemaRegistryEnv(base)).toEqual({})
  })

  it("is SCHEMA_REGISTRY_URL, the registry's Confluent-compatible API", () => {
    const state: StackState = {
      ...base,
      schemaRegistry: {
        pid: 4,
        workDir: '/w/s',
        url: 'http://127.0.0.1:40001',
        ccompatUrl: 'http://127.0.0.1:40001/apis/ccompat/v7',
        managementPort: 40002,
        version: '3.3.3',
      },
    }
    expect(stackSchemaRegistryEnv(state)).toEqual({
      SCHEMA_REGISTRY_URL: 'http://127.0.0.1:40001/apis/ccompat/v7',
    })
  })
})

describe('the logs `stack:status` shows for Kafka processes that ended', () => {
  const single: StackState = {
    kafkaBrokers: '127.0.0.1:9092',
    redisUrl: 'redis://127.0.0.1:6379',
    kafka: { pid: 10, workDir: '/w/k', version: '3.9.2', logFile: '/w/k/server.log' },
    startedAt: '2025-01-01T00:00:00.000Z',
  }
  const cluster: StackState = {
    ...single,
    kafka: {
      ...single.kafka,
      logFile: '/w/k/node-0/server.log',
      nodes: [0, 1, 2].map((nodeId) => ({
        nodeId,
        pid: 10 + nodeId,
        brokers: `127.0.0.1:${9092 + nodeId}`,
        logFile: `/w/k/node-${nodeId}/server.log`,
      })),
    },
  }
  const deadPids =
    (...pids: number[]) =>
    (pid: number) =>
      !pids.includes(pid)

  it("are a single broker's log once it is dead, and none while it runs", () => {
    expect(deadKafkaLogs(single, deadPids())).toEqual([])
    expect(deadKafkaLogs(single, deadPids(10))).toEqual([
      { who: 'the broker', logFile: '/w/k/server.log' },
    ])
    // A state written before the log was recorded: the broker's folder holds it.
    const { logFile: _, ...older } = single.kafka
    expect(deadKafkaLogs({ ...single, kafka: older }, deadPids(10))).toEqual([
      { who: 'the broker', logFile: '/w/k/server.log' },
    ])
  })

  it("are each dead node's own log for a cluster, whichever nodes they are", () => {
    expect(deadKafkaLogs(cluster, deadPids())).toEqual([])
    expect(deadKafkaLogs(cluster, deadPids(12))).toEqual([
      { who: 'node 2', logFile: '/w/k/node-2/server.log' },
    ])
    expect(deadKafkaLogs(cluster, deadPids(10, 11, 12)).map((d) => d.logFile)).toEqual([
      '/w/k/node-0/server.log',
      '/w/k/node-1/server.log',
      '/w/k/node-2/server.log',
    ])
  })
})
