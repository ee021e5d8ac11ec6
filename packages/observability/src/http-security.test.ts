/*
 * The HTTP server's doors (README: Security): bearer tokens from a file re-read on change and on
 * SIGHUP, the probes left open, /metrics open only when told, the per-client rate, the body and
 * header limits, and every refusal in the common error shape.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createHttpServer, type HttpServer, type HttpServerOptions } from './http-server.js'
import { createLogger } from './logger.js'
import { createMetricsRegistry } from './metrics.js'
import { createRateLimiter } from './http-rate-limit.js'

const dir = mkdtempSync(join(tmpdir(), 'wcs-http-security-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const TOKEN = 'canary-token-0123456789abcdef'
const OTHER = 'second-token-fedcba9876543210'

const servers: HttpServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

async function start(options: Partial<HttpServerOptions> = {}) {
  const registry = createMetricsRegistry({ collectDefaultMetrics: false })
  const lines: string[] = []
  const server = createHttpServer({
    port: 0,
    registry,
    logger: createLogger({ name: 'test', level: 'info', stream: { write: (l) => lines.push(l) } }),
    routes: (req, res) => {
      if (!req.url?.startsWith('/data')) return false
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"rows":[]}')
      return true
    },
    ...options,
  })
  servers.push(server)
  const { port } = await server.listen()
  return { registry, port, lines, url: (path: string) => `http://127.0.0.1:${port}${path}` }
}

function tokenFile(...tokens: string[]): string {
  const file = join(dir, `tokens-${Math.random().toString(36).slice(2)}`)
  writeFileSync(file, `# who: ops\n${tokens.join('\n')}\n`)
  return file
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('bearer tokens', () => {
  it('lets the probes through, refuses the rest without the token, takes every token of the file', async () => {
    const file = tokenFile(TOKEN, OTHER)
    const { url, registry, lines } = await start({
      security: { auth: { tokenFile: file, metricsPublic: false }, ratePerSecond: 0 },
    })
    expect((await fetch(url('/healthz'))).status).toBe(200)
    expect((await fetch(url('/readyz'))).status).toBe(200)

    const missing = await fetch(url('/data'))
    expect(missing.status).toBe(401)
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="wolkvox-chat-stream"')
    expect(await missing.json()).toEqual({
      error: {
        code: 'HTTP_UNAUTHORIZED',
        message: 'This route needs Authorization: Bearer <token> (a token of HTTP_AUTH_TOKEN_FILE)',
      },
    })
    const wrong = await fetch(url('/data'), { headers: bearer(`${TOKEN}x`) })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect((await fetch(url('/metrics'))).status).toBe(401)
    expect((await fetch(url('/nope'))).status).toBe(401)

    expect((await fetch(url('/data'), { headers: bearer(TOKEN) })).status).toBe(200)
    expect((await fetch(url('/data'), { headers: bearer(OTHER) })).status).toBe(200)
    expect((await fetch(url('/nope'), { headers: bearer(TOKEN) })).status).toBe(404)
    // Basic is for the dashboard's page only.
    const basic = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`
    expect((await fetch(url('/data'), { headers: { authorization: basic } })).status).toBe(401)

    const metrics = await (await fetch(url('/metrics'), { headers: bearer(TOKEN) })).text()
    expect(metrics).toMatch(/wolkvox_http_refused_total\{reason="token_missing"\} 4/)
    expect(metrics).toMatch(/wolkvox_http_refused_total\{reason="token_wrong"\} 1/)
    expect(await registry.metrics()).not.toContain(TOKEN)
    expect(lines.join('\n')).not.toContain(TOKEN)
    expect(lines.join('\n')).toContain('"auth":"bearer token"')
  })

  it('keeps /metrics open with HTTP_METRICS_PUBLIC', async () => {
    const { url } = await start({
      security: { auth: { tokenFile: tokenFile(TOKEN), metricsPublic: true }, ratePerSecond: 0 },
    })
    expect((await fetch(url('/metrics'))).status).toBe(200)
    expect((await fetch(url('/data'))).status).toBe(401)
  })

  it('asks a browser for the token as a password when it serves a page', async () => {
    const { url } = await start({
      browserLogin: true,
      security: { auth: { tokenFile: tokenFile(TOKEN), metricsPublic: false }, ratePerSecond: 0 },
    })
    const refused = await fetch(url('/data'))
    expect(refused.headers.get('www-authenticate')).toContain('Basic realm="wolkvox-chat-stream"')
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    })
    expect((await fetch(url('/data'), { headers: basic('anyone', TOKEN) })).status).toBe(200)
    expect((await fetch(url('/data'), { headers: basic(TOKEN, 'nope') })).status).toBe(401)
  })

  it('re-reads the file when it changes and on SIGHUP, and keeps the tokens when it turns bad', async () => {
    const file = tokenFile(TOKEN)
    const { url, lines } = await start({
      security: { auth: { tokenFile: file, metricsPublic: false }, ratePerSecond: 0 },
    })
    const status = async (token: string) =>
      (await fetch(url('/data'), { headers: bearer(token) })).status
    expect(await status(OTHER)).toBe(401)

    // A size of its own: a same-size rewrite within the file system's timestamp granularity is
    // invisible to a stat poll (SIGHUP covers that case, below).
    writeFileSync(file, `${OTHER}\n# rotated\n`)
    const deadline = Date.now() + 10_000
    while ((await status(OTHER)) !== 200 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    expect(await status(OTHER)).toBe(200)
    expect(await status(TOKEN)).toBe(401)

    // A file that becomes unusable (too short a token) leaves the tokens in force.
    writeFileSync(file, 'short\n')
    process.emit('SIGHUP')
    expect(await status(OTHER)).toBe(200)
    expect(lines.join('\n')).toContain('the token file cannot be used; the tokens in force stay')
    expect(lines.join('\n')).not.toContain(OTHER)

    writeFileSync(file, `${TOKEN}\n`)
    process.emit('SIGHUP')
    expect(await status(TOKEN)).toBe(200)
  }, 20_000)

  it('warns once when it listens beyond loopback with no token', async () => {
    const { lines } = await start({ host: '0.0.0.0' })
    const warnings = lines.filter((l) => l.includes('HTTP_AUTH_DISABLED'))
    expect(warnings).toHaveLength(1)
    const quiet = await start({ host: '127.0.0.1' })
    expect(quiet.lines.filter((l) => l.includes('HTTP_AUTH_DISABLED'))).toHaveLength(0)
  })
})

describe('limits', () => {
  it('answers 429 with retry-after above the per-client rate, never for the probes', async () => {
    const { url } = await start({ security: { ratePerSecond: 5 } })
    const statuses: number[] = []
    for (let i = 0; i < 15; i += 1) statuses.push((await fetch(url('/data'))).status)
    expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true)
    expect(statuses).toContain(429)
    const limited = await fetch(url('/data'))
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(await limited.json()).toMatchObject({
      error: { code: 'HTTP_RATE_LIMITED' },
    })
    expect((await fetch(url('/healthz'))).status).toBe(200)
  })

  it('refills a client bucket at the rate and keeps clients apart', () => {
    const limiter = createRateLimiter(2)
    expect([0, 0, 0, 0].map(() => limiter.take('a', 0))).toEqual([0, 0, 0, 0])
    expect(limiter.take('a', 0)).toBe(1)
    expect(limiter.take('b', 0)).toBe(0)
    expect(limiter.take('a', 500)).toBe(0)
    expect(createRateLimiter(0).take('a', 0)).toBe(0)
  })

  it('refuses a declared body over the limit with 413, and never reads a streamed one', async () => {
    const { port } = await start({ limits: { maxBodyBytes: 1024 } })
    const send = (headers: Record<string, string>, body: string) =>
      new Promise<{ status: number; body: string; headers: IncomingHttpHeaders }>(
        (resolve, reject) => {
          const req = request(
            { port, host: '127.0.0.1', method: 'POST', path: '/data', headers },
            (res) => {
              let text = ''
              res.on('data', (c: Buffer) => (text += c.toString()))
              res.on('end', () =>
                resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }),
              )
            },
          )
          req.on('error', reject)
          req.end(body)
        },
      )
    const declared = await send({ 'content-length': '5000' }, 'x'.repeat(5000))
    expect(declared.status).toBe(413)
    expect(JSON.parse(declared.body)).toMatchObject({ error: { code: 'HTTP_BODY_TOO_LARGE' } })
    // A body of no declared length is never read: answered, and the connection closed after.
    const streamed = await send({ 'transfer-encoding': 'chunked' }, 'y'.repeat(5000))
    expect(streamed.status).toBe(200)
    expect(streamed.headers.connection).toBe('close')
    expect((await send({ 'content-length': '10' }, '0123456789')).status).toBe(200)
  })

  it('answers headers too large and garbage with the error shape, and cuts a slow client', async () => {
    const { port, url } = await start({ limits: { headersTimeoutMs: 500, requestTimeoutMs: 1000 } })
    const big = await fetch(url('/data'), { headers: { 'x-big': 'z'.repeat(20_000) } })
    expect(big.status).toBe(431)
    expect(await big.json()).toMatchObject({ error: { code: 'HTTP_REQUEST_INVALID' } })

    const raw = (text: string, waitMs = 0) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(text)
        })
        let answer = ''
        socket.on('data', (c: Buffer) => (answer += c.toString()))
        socket.on('close', () => resolve(answer))
        if (waitMs > 0) setTimeout(() => socket.destroy(), waitMs)
      })
    const garbage = await raw('HELLO\r\n\r\n')
    expect(garbage).toMatch(/^HTTP\/1\.1 400/)
    expect(JSON.parse(garbage.slice(garbage.indexOf('{')))).toMatchObject({
      error: { code: 'HTTP_REQUEST_INVALID' },
    })
    // A slowloris: headers that never end. The server closes it by itself.
    const started = Date.now()
    const slow = await raw('GET /data HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n', 10_000)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(slow).toMatch(/^HTTP\/1\.1 408/)
  })

  it('answers CONNECT, a missing Host and an unknown Expect in the error shape', async () => {
    const { port } = await start()
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(text))
        let answer = ''
        socket.on('data', (c: Buffer) => (answer += c.toString()))
        socket.on('close', () => resolve(answer))
      })
    const body = (answer: string) =>
      JSON.parse(answer.slice(answer.indexOf('{'), answer.lastIndexOf('}') + 1)) as unknown
    const tunnel = await raw('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com\r\n\r\n')
    expect(tunnel).toMatch(/^HTTP\/1\.1 405 /)
    expect(body(tunnel)).toMatchObject({ error: { code: 'HTTP_METHOD_NOT_ALLOWED' } })
    const hostless = await raw('GET /data HTTP/1.1\r\nconnection: close\r\n\r\n')
    expect(hostless).toMatch(/^HTTP\/1\.1 200 /)
    const expectation = await raw(
      'GET /data HTTP/1.1\r\nhost: x\r\nexpect: foo\r\nconnection: close\r\n\r\n',
    )
    expect(expectation).toMatch(/^HTTP\/1\.1 417 /)
    expect(body(expectation)).toMatchObject({ error: { code: 'HTTP_REQUEST_INVALID' } })
  })

  it('refuses a NUL or an overlong path with 400', async () => {
    const { url } = await start()
    const nul = await fetch(url('/data%00'))
    expect(nul.status).toBe(400)
    expect(await nul.json()).toMatchObject({ error: { code: 'HTTP_REQUEST_INVALID' } })
    expect((await fetch(url(`/data${'a'.repeat(3000)}`))).status).toBe(400)
  })
})
