import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readDashboardConfig } from './config.js'

describe('dashboard configuration', () => {
  it('defaults to 127.0.0.1:8080 and the services on their documented ports', () => {
    expect(readDashboardConfig({})).toEqual({
      httpPort: 8080,
      httpHost: '127.0.0.1',
      httpSecurity: { ratePerSecond: 100 },
      upstreams: {
        poller: 'http://127.0.0.1:8081',
        sentiment: 'http://127.0.0.1:8082',
        classifier: 'http://127.0.0.1:8083',
        quality: 'http://127.0.0.1:8084',
      },
      proxyTimeoutMs: 5000,
      refreshMs: 5000,
      logLevel: 'info',
    })
  })

  it('keeps a path prefix and drops a trailing slash', () => {
    const config = readDashboardConfig({
      HTTP_PORT: '0',
      POLLER_URL: 'https://poller.internal/base/',
      SENTIMENT_URL: 'http://10.0.0.5:9000',
      QUALITY_URL: 'http://quality.internal:8084/',
      DASHBOARD_PROXY_TIMEOUT: '2s',
      DASHBOARD_REFRESH: '1s',
    })
    expect(config.httpPort).toBe(0)
    expect(config.upstreams.poller).toBe('https://poller.internal/base')
    expect(config.upstreams.sentiment).toBe('http://10.0.0.5:9000')
    expect(config.upstreams.quality).toBe('http://quality.internal:8084')
    expect(config.proxyTimeoutMs).toBe(2000)
    expect(config.refreshMs).toBe(1000)
  })

  it('reports every bad value at once', () => {
    expect(() =>
      readDashboardConfig({
        POLLER_URL: 'not a url',
        SENTIMENT_URL: 'ftp://host',
        CLASSIFIER_URL: 'http://user:pw@host?q=1',
        QUALITY_URL: 'http://host:8084/#top',
        DASHBOARD_PROXY_TIMEOUT: '10m',
        HTTP_PORT: '99999',
      }),
    ).toThrow(
      /6 problems[\s\S]*DASHBOARD_PROXY_TIMEOUT[\s\S]*POLLER_URL[\s\S]*SENTIMENT_URL: must be an http[\s\S]*CLASSIFIER_URL: must not carry credentials[\s\S]*QUALITY_URL: must not have a query or a fragment[\s\S]*HTTP_PORT/,
    )
  })

  it('binds HTTP_HOST, and refuses what is neither an address nor a host name', () => {
    expect(readDashboardConfig({ HTTP_HOST: '0.0.0.0' }).httpHost).toBe('0.0.0.0')
    expect(readDashboardConfig({ HTTP_HOST: '::' }).httpHost).toBe('::')
    expect(() => readDashboardConfig({ HTTP_HOST: 'http://x' })).toThrow(/HTTP_HOST/)
  })

  it('reads the upstream token file as the services read theirs: the first token is sent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-token-'))
    const file = join(dir, 'token')
    writeFileSync(file, '# for the proxy\n  first-token-0123456789  \nsecond-token-0123456789\n')
    expect(
      readDashboardConfig({ DASHBOARD_UPSTREAM_TOKEN_FILE: file }).upstreamToken?.reveal(),
    ).toBe('first-token-0123456789')
    // A token the services would refuse is refused here too, never quoted in the error.
    writeFileSync(file, 'short-secret\n')
    const refused = (() => {
      try {
        readDashboardConfig({ DASHBOARD_UPSTREAM_TOKEN_FILE: file })
      } catch (error) {
        return error as Error & { code?: string }
      }
      return undefined
    })()
    expect(refused?.code).toBe('CONFIG_INVALID')
    expect(refused?.message).toMatch(/shorter than 16 characters/u)
    expect(refused?.message).not.toContain('short-secret')
  })
})
