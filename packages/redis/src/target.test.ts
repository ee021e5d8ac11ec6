import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readConfig, type Env } from '@wolkvox-chat-stream/config'
import { clusterOptions, connectionProblem, redisOptions } from './client.js'
import { describeRedis, readRedisTarget } from './target.js'

const dir = mkdtempSync(join(tmpdir(), 'redis-target-'))
const passwordFile = join(dir, 'password')
writeFileSync(passwordFile, 'canary-pw-91\n')
const caFile = join(dir, 'ca.pem')
writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
const notPem = join(dir, 'not.pem')
writeFileSync(notPem, 'hello')

const read = (env: Env) => readConfig(env, (r) => readRedisTarget(r))
const problems = (env: Env): string[] => {
  try {
    read(env)
  } catch (error) {
    return (
      error as { details: { problems: { variable: string; problem: string }[] } }
    ).details.problems.map((p) => `${p.variable}: ${p.problem}`)
  }
  return []
}

describe('readRedisTarget', () => {
  it('defaults to the local single node', () => {
    expect(read({})).toMatchObject({
      nodes: [{ host: '127.0.0.1', port: 6379 }],
      cluster: false,
      db: 0,
      tls: false,
    })
  })

  it('reads a cluster with a user, a password file and a private CA (TLS implied)', () => {
    const target = read({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002',
      REDIS_USERNAME: 'wcs',
      REDIS_PASSWORD_FILE: passwordFile,
      REDIS_TLS_CA_FILE: caFile,
    })
    expect(target).toMatchObject({
      cluster: true,
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'wcs',
      tls: true,
    })
    expect(target.password?.reveal()).toBe('canary-pw-91')
    expect(target.ca).toContain('BEGIN CERTIFICATE')
    // Logged, it shows no password.
    expect(JSON.stringify(target)).not.toContain('canary-pw-91')
    expect(describeRedis(target)).toBe(
      'rediss cluster 10.0.0.1:7000,redis-b:7001,[::1]:7002 as wcs',
    )
  })

  it('takes the password from a file for a URL without one', () => {
    const target = read({
      REDIS_URL: 'rediss://app@cache:6380/2',
      REDIS_PASSWORD_FILE: passwordFile,
    })
    expect(target).toMatchObject({ cluster: false, username: 'app', db: 2, tls: true })
    expect(target.password?.reveal()).toBe('canary-pw-91')
    expect(describeRedis(target)).toBe('rediss://app@cache:6380/2')
  })

  it('reports every misconfiguration at once, naming the variable, never the password', () => {
    const found = problems({
      REDIS_URL: 'redis://u:secret-in-url@h:1',
      REDIS_CLUSTER_NODES: 'a:1,nope',
      REDIS_PASSWORD_FILE: join(dir, 'missing'),
      REDIS_TLS_CA_FILE: notPem,
      REDIS_TLS: 'false',
    })
    expect(found).toEqual([
      `REDIS_PASSWORD_FILE: ${join(dir, 'missing')} cannot be read`,
      `REDIS_TLS_CA_FILE: ${notPem} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
      'REDIS_CLUSTER_NODES: set only one of REDIS_URL and REDIS_CLUSTER_NODES',
      'REDIS_TLS_CA_FILE: is set while REDIS_TLS is false',
      'REDIS_CLUSTER_NODES: "nope" is not host:port',
    ])
    expect(found.join('\n')).not.toContain('secret-in-url')
  })

  it('refuses a password in two places, a CA for redis://, and REDIS_TLS with a URL', () => {
    expect(
      problems({
        REDIS_URL: 'redis://u:pw@h:1',
        REDIS_USERNAME: 'v',
        REDIS_PASSWORD_FILE: passwordFile,
        REDIS_TLS_CA_FILE: caFile,
        REDIS_TLS: 'true',
      }),
    ).toEqual([
      'REDIS_TLS: applies to REDIS_CLUSTER_NODES; a URL says TLS with rediss://',
      'REDIS_USERNAME: set the user in REDIS_URL or in REDIS_USERNAME, not both',
      'REDIS_PASSWORD_FILE: REDIS_URL holds a password too: keep it only in REDIS_PASSWORD_FILE',
      'REDIS_TLS_CA_FILE: is set but REDIS_URL is redis://, not rediss://',
    ])
    expect(problems({ REDIS_URL: 'http://h' })).toEqual([
      'REDIS_URL: REDIS_URL must start with redis:// or rediss://, not http://',
    ])
  })
})

describe('clusterOptions', () => {
  const target = read({
    REDIS_CLUSTER_NODES: '127.0.0.1:7000',
    REDIS_USERNAME: 'wcs',
    REDIS_PASSWORD_FILE: passwordFile,
    REDIS_TLS_CA_FILE: caFile,
  })

  it('gives every node the credentials and the CA, and reads from masters only', () => {
    const options = clusterOptions(target)
    expect(options).toMatchObject({
      scaleReads: 'master',
      enableOfflineQueue: true,
      redisOptions: { username: 'wcs', password: 'canary-pw-91', maxRetriesPerRequest: 3 },
    })
    expect(options.redisOptions?.tls).toEqual({ ca: target.ca })
    expect(options.redisOptions).not.toHaveProperty('host')
  })

  it('never queues or retries lock commands on a cluster either', () => {
    const options = clusterOptions(target, { role: 'lock' })
    expect(options.enableOfflineQueue).toBe(false)
    expect(options.redisOptions).toMatchObject({
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
    })
  })

  it('keeps the single-node options for a URL', () => {
    expect(redisOptions(read({ REDIS_URL: 'rediss://h:1' }))).toMatchObject({
      host: 'h',
      port: 1,
      tls: {},
    })
  })
})

describe('connectionProblem', () => {
  it('tells refused credentials and a failed handshake from a network error', () => {
    const wrongpass = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      name: 'ReplyError',
    })
    expect(connectionProblem(wrongpass)?.code).toBe('REDIS_AUTH_FAILED')
    const tls = Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    })
    expect(connectionProblem(tls)?.code).toBe('REDIS_TLS_FAILED')
    // A cluster wraps the node's error.
    const wrapped = Object.assign(new Error('Failed to refresh slots cache.'), {
      lastNodeError: tls,
    })
    expect(connectionProblem(wrapped)?.code).toBe('REDIS_TLS_FAILED')
    expect(connectionProblem(new Error('connect ECONNREFUSED 127.0.0.1:1'))).toBeUndefined()
  })
})
