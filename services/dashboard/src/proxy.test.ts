import { describe, expect, it } from 'vitest'
import { resolveProxyTarget } from './proxy.js'

const upstreams = {
  poller: 'http://127.0.0.1:8081',
  sentiment: 'http://127.0.0.1:8082',
  classifier: 'http://svc/classifier',
  quality: 'http://127.0.0.1:8084',
}

describe('the proxy path mapping', () => {
  it('forwards the rest of the path and the query to the named service, as they are', () => {
    expect(resolveProxyTarget('/api/poller/status', upstreams)).toEqual({
      kind: 'forward',
      service: 'poller',
      url: 'http://127.0.0.1:8081/status',
    })
    expect(
      resolveProxyTarget(
        '/api/sentiment/operations/0010/agents/ana%20mar%C3%ADa/sentiment?granularity=hour&from=2026-01-01T00%3A00%3A00Z',
        upstreams,
      ),
    ).toMatchObject({
      url: 'http://127.0.0.1:8082/operations/0010/agents/ana%20mar%C3%ADa/sentiment?granularity=hour&from=2026-01-01T00%3A00%3A00Z',
    })
    expect(resolveProxyTarget('/api/classifier/rules', upstreams)).toMatchObject({
      url: 'http://svc/classifier/rules',
    })
    expect(
      resolveProxyTarget(
        '/api/quality/operations/0010/quality/agents/luis?granularity=hour',
        upstreams,
      ),
    ).toEqual({
      kind: 'forward',
      service: 'quality',
      url: 'http://127.0.0.1:8084/operations/0010/quality/agents/luis?granularity=hour',
    })
    // A slash inside an agent key stays encoded: one segment for the service.
    expect(resolveProxyTarget('/api/sentiment/a%2Fb', upstreams)).toMatchObject({
      url: 'http://127.0.0.1:8082/a%2Fb',
    })
  })

  it('proxies only the four services', () => {
    for (const path of [
      '/api',
      '/api/',
      '/api/redis/keys',
      '/api/POLLER/status',
      '/apix/poller',
      '/api/QUALITY/rules',
      '/api/qualityx/rules',
    ]) {
      expect(resolveProxyTarget(path, upstreams)).toMatchObject({ kind: 'refused', status: 404 })
    }
    expect(resolveProxyTarget('/api/nobody', upstreams)).toMatchObject({
      message: 'Only /api/poller/, /api/sentiment/, /api/classifier/, /api/quality/ are proxied',
    })
  })

  it('refuses dot segments, raw or encoded, and backslashes', () => {
    for (const path of [
      '/api/poller/../metrics',
      '/api/poller/%2e%2e/x',
      '/api/poller/.%2E',
      '/api/poller/./status',
      '/api/poller/a\\b',
      '/api/poller//evil.example/x',
      '/api/poller/%E0%A4%A',
      '/api/quality/%2E%2E/metrics',
    ]) {
      expect(resolveProxyTarget(path, upstreams)).toMatchObject({ kind: 'refused', status: 400 })
    }
  })
})
