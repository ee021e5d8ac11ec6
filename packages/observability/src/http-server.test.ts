import { networkInterfaces } from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'
import { createHttpServer, type HttpServer, type HttpServerOptions } from './http-server.js'
import { createLogger } from './logger.js'
import { createMetricsRegistry } from './metrics.js'

const servers: HttpServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function start(options: Partial<HttpServerOptions> = {}) {
  const registry = createMetricsRegistry({ collectDefaultMetrics: false })
  const server = createHttpServer({
    port: 0,
    host: '127.0.0.1',
    registry,
    logger: createLogger({ name: 'test', level: 'silent' }),
    ...options,
  })
  servers.push(server)
  const { port } = await server.listen()
  return { server, registry, port, url: (path: string) => `http://127.0.0.1:${port}${path}` }
}

function deferred() {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('createHttpServer', () => {
  it('answers /healthz', async () => {
    const { url } = await start()
    const res = await fetch(url('/healthz'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await res.json()).toEqual({ status: 'ok' })
  })

  it('binds 127.0.0.1 unless told otherwise, and says where it listens', async () => {
    const lines: string[] = []
    const server = createHttpServer({
      port: 0,
      registry: createMetricsRegistry({ collectDefaultMetrics: false }),
      logger: createLogger({
        name: 'test',
        level: 'info',
        stream: { write: (l) => lines.push(l) },
      }),
    })
    servers.push(server)
    const { port } = await server.listen()
    const line = JSON.parse(lines.find((l) => l.includes('http server listening'))!) as {
      host: string
      port: number
    }
    expect(line).toMatchObject({ host: '127.0.0.1', port })
    // Not on the other interfaces of this machine (when it has one).
    const other = Object.values(networkInterfaces())
      .flat()
      .find((i) => i?.family === 'IPv4' && !i.internal)?.address
    if (other !== undefined) {
      await expect(fetch(`http://${other}:${port}/healthz`)).rejects.toThrow()
    }
  })

  it('answers /readyz from the readiness check', async () => {
    let readiness: boolean | { ready: boolean; reason?: string } = true
    const { url } = await start({ readiness: () => Promise.resolve(readiness) })
    let res = await fetch(url('/readyz'))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ready: true })

    readiness = { ready: false, reason: 'kafka not connected' }
    res = await fetch(url('/readyz'))
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ ready: false, reason: 'kafka not connected' })

    readiness = false
    res = await fetch(url('/readyz?verbose=1'))
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ ready: false })
  })

  it('is not ready when the readiness check throws', async () => {
    const { url } = await start({
      readiness: () => {
        throw new Error('boom')
      },
    })
    const res = await fetch(url('/readyz'))
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ ready: false, reason: 'readiness check failed' })
  })

  it('serves /metrics as Prometheus text', async () => {
    const { url, registry } = await start()
    registry.counter({ name: 'wolkvox_test_total', help: 'A test.' }).inc(5)
    const res = await fetch(url('/metrics'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(registry.contentType)
    expect(await res.text()).toContain('wolkvox_test_total 5')
  })

  it('hands other paths to routes, then 404s', async () => {
    const { url } = await start({
      routes: (req, res) => {
        if (req.method !== 'POST' || req.url !== '/admin/replay') return false
        res.writeHead(202).end('queued')
        return true
      },
    })
    const custom = await fetch(url('/admin/replay'), { method: 'POST' })
    expect(custom.status).toBe(202)
    expect(await custom.text()).toBe('queued')

    const missing = await fetch(url('/nope?x=1'))
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({
      error: { code: 'HTTP_NOT_FOUND', message: 'No route for /nope' },
    })
  })

  it('answers 500 when a route throws', async () => {
    const { url } = await start({ routes: () => Promise.reject(new Error('bug')) })
    const res = await fetch(url('/x'))
    expect(res.status).toBe(500)
    expect(await res.json()).toEqual({
      error: {
        code: 'HTTP_INTERNAL_ERROR',
        message: "The request failed inside the service; the service's log has the cause",
      },
    })
  })

  it('fails with HTTP_LISTEN_FAILED when the port is taken', async () => {
    const { port } = await start()
    const second = createHttpServer({
      port,
      host: '127.0.0.1',
      registry: createMetricsRegistry({ collectDefaultMetrics: false }),
    })
    servers.push(second)
    await expect(second.listen()).rejects.toMatchObject({
      name: 'AppError',
      code: 'HTTP_LISTEN_FAILED',
      message: expect.stringContaining(`127.0.0.1:${port}: the port is in use by another process`),
      cause: expect.objectContaining({ code: 'EADDRINUSE' }),
    })
  })

  it('lets an in-flight request finish on close, and refuses new connections', async () => {
    const entered = deferred()
    const release = deferred()
    const { server, url } = await start({
      closeTimeoutMs: 10_000,
      routes: async (_req, res) => {
        entered.resolve()
        await release.promise
        res.writeHead(200).end('done')
        return true
      },
    })
    const slow = fetch(url('/slow'))
    await entered.promise
    const started = Date.now()
    const closed = server.close()
    await expect(fetch(url('/healthz'))).rejects.toThrow()

    release.resolve()
    const res = await slow
    expect(res.status).toBe(200)
    expect(res.headers.get('connection')).toBe('close')
    expect(await res.text()).toBe('done')
    await closed
    expect(Date.now() - started).toBeLessThan(2_000)
  })

  it('destroys requests still running after closeTimeoutMs', async () => {
    const entered = deferred()
    const { server, url } = await start({
      closeTimeoutMs: 100,
      routes: async () => {
        entered.resolve()
        await new Promise(() => {})
        return true
      },
    })
    const hung = fetch(url('/hang'))
    await entered.promise
    const started = Date.now()
    await server.close()
    expect(Date.now() - started).toBeLessThan(2_000)
    await expect(hung).rejects.toThrow()
  })

  it('does not wait for idle keep-alive connections on close', async () => {
    const { server, url } = await start({ closeTimeoutMs: 10_000 })
    await (await fetch(url('/healthz'))).text()
    const started = Date.now()
    await server.close()
    expect(Date.now() - started).toBeLessThan(1_000)
  })

  it('closes before listen and more than once without error', async () => {
    const server = createHttpServer({
      port: 0,
      registry: createMetricsRegistry({ collectDefaultMetrics: false }),
    })
    await server.close()
    await server.close()
  })
})
