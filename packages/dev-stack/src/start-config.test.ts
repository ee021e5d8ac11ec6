import { describe, expect, it } from 'vitest'
import { readStartConfig } from './start-config.js'

describe('npm start configuration', () => {
  it('runs the simulator on the documented ports by default, starting a day back', () => {
    const config = readStartConfig({})
    expect(config).toMatchObject({
      source: 'simulator',
      ports: {
        dashboard: 8080,
        poller: 8081,
        sentiment: 8082,
        classifier: 8083,
        quality: 8084,
        simulator: 8089,
      },
      pollStart: '1d',
      pollInterval: '30s',
    })
    // The poller's own lock TTL holds here too: the private Redis is marked new, so no wait.
    expect(config).not.toHaveProperty('pollLockTtl')
    expect(config.kafkaBrokers).toBeUndefined()
    expect(config.redisUrl).toBeUndefined()
    expect(config.kafkaNodes).toBe(1)
  })

  it('starts a KRaft cluster with KAFKA_NODES, and refuses a count it cannot run', () => {
    expect(readStartConfig({ KAFKA_NODES: '3' }).kafkaNodes).toBe(3)
    expect(() => readStartConfig({ KAFKA_NODES: '0' })).toThrow(/KAFKA_NODES/)
    expect(() => readStartConfig({ KAFKA_NODES: 'three' })).toThrow(/KAFKA_NODES/)
  })

  it('polls the real API when an operation is configured', () => {
    for (const env of [
      { WOLKVOX_SERVER: '0010', WOLKVOX_TOKEN: 't' },
      { WOLKVOX_SERVER: '0010', WOLKVOX_TOKEN_FILE: '/run/secrets/t' },
      { WOLKVOX_OPERATIONS_FILE: 'ops.json' },
    ]) {
      const config = readStartConfig(env)
      expect(config.source).toBe('wolkvox')
      expect(config.pollInterval).toBe('5m')
    }
  })

  it('refuses half an operation instead of silently using the simulator', () => {
    expect(() => readStartConfig({ WOLKVOX_SERVER: '0010' })).toThrow(
      /WOLKVOX_SERVER: is set without WOLKVOX_TOKEN/,
    )
    expect(() => readStartConfig({ WOLKVOX_TOKEN: 'secret-value' })).toThrow(
      /WOLKVOX_TOKEN: is set without WOLKVOX_SERVER/,
    )
    try {
      readStartConfig({ WOLKVOX_TOKEN: 'secret-value' })
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('secret-value')
    }
  })

  it('takes every port from the environment, 0 meaning a free one, and rejects clashes', () => {
    const config = readStartConfig({
      DASHBOARD_PORT: '0',
      POLLER_PORT: '9001',
      KAFKA_PORT: '0',
      REDIS_PORT: '6390',
      START_RUN_DIR: '/tmp/run',
      KAFKA_BROKERS: 'broker:9092',
      REDIS_URL: 'redis://r:6379',
    })
    expect(config.ports.dashboard).toBe(0)
    expect(config.ports.poller).toBe(9001)
    expect(config).toMatchObject({
      kafkaPort: 0,
      redisPort: 6390,
      runDir: '/tmp/run',
      kafkaBrokers: 'broker:9092',
      redisUrl: 'redis://r:6379',
    })
    expect(() => readStartConfig({ POLLER_PORT: '8080' })).toThrow(
      /POLLER_PORT: 8080 is also the dashboard's port/,
    )
    expect(readStartConfig({ QUALITY_PORT: '9004' }).ports.quality).toBe(9004)
    expect(() => readStartConfig({ QUALITY_PORT: '8083' })).toThrow(
      /QUALITY_PORT: 8083 is also the classifier's port/,
    )
    expect(() => readStartConfig({ SENTIMENT_PORT: 'x', KAFKA_PORT: '70000' })).toThrow(
      /2 problems[\s\S]*SENTIMENT_PORT[\s\S]*KAFKA_PORT/,
    )
  })

  it('starts a schema registry only for SCHEMA_REGISTRY=true, and keeps a SCHEMA_REGISTRY_URL', () => {
    expect(readStartConfig({}).schemaRegistry).toBe(false)
    expect(readStartConfig({}).schemaRegistryUrl).toBeUndefined()
    expect(readStartConfig({ SCHEMA_REGISTRY: 'true' })).toMatchObject({ schemaRegistry: true })
    expect(readStartConfig({ SCHEMA_REGISTRY: 'off' }).schemaRegistry).toBe(false)
    expect(
      readStartConfig({
        SCHEMA_REGISTRY: 'true',
        SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7',
      }),
    ).toMatchObject({
      schemaRegistry: true,
      schemaRegistryUrl: 'http://registry:8080/apis/ccompat/v7',
    })
    expect(() => readStartConfig({ SCHEMA_REGISTRY: 'apicurio' })).toThrow(/SCHEMA_REGISTRY/)
  })

  it('passes the user’s poller settings on', () => {
    expect(readStartConfig({ POLL_START: '3h', POLL_INTERVAL: '1m' })).toMatchObject({
      pollStart: '3h',
      pollInterval: '1m',
    })
  })
})
