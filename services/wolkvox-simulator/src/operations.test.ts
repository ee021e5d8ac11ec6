import { afterEach, describe, expect, it } from 'vitest'
import { operationSeed, operationToken } from './operations.js'
import { texts } from './responses.js'
import {
  computeTruth,
  reportsManagerPath,
  startSimulator,
  type RunningSimulator,
  type SimulatorOptions,
} from './simulator.js'

const nowMs = Date.parse('2025-03-01T17:00:00Z')
// 10:00-10:59 in Bogota: about 60 chats, closed and visible at `nowMs`.
const window = { dateIni: '20250301100000', dateEnd: '20250301105959' }
const A = '100001'
const B = '100002'

const running: RunningSimulator[] = []

async function simulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const sim = await startSimulator({ now: () => nowMs, ...options })
  running.push(sim)
  return sim
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()))
})

interface Answer {
  status: number
  body: { code: unknown; error: unknown; msg: string; data?: { conn_id: string }[] }
}

/** One call to the API with these headers (`null` leaves one out). */
async function call(
  sim: RunningSimulator,
  server: string | null,
  token: string | null = server === null ? null : operationToken(server),
): Promise<Answer> {
  const url = new URL(reportsManagerPath, sim.url)
  url.search = new URLSearchParams({
    api: 'chat_2',
    date_ini: window.dateIni,
    date_end: window.dateEnd,
  }).toString()
  const headers: Record<string, string> = {}
  if (token !== null) headers['wolkvox-token'] = token
  if (server !== null) headers.wolkvox_server = server
  const res = await fetch(url, { headers })
  return { status: res.status, body: (await res.json()) as Answer['body'] }
}

const connIds = (answer: Answer): string[] => (answer.body.data ?? []).map((chat) => chat.conn_id)
const tokenInvalid = { code: 403, error: texts.tokenInvalid, msg: texts.tokenInvalid }

/** A GET of the control API, its body read as `T`. */
async function control<T = Record<string, unknown>>(
  sim: RunningSimulator,
  path: string,
): Promise<{ status: number; json: T }> {
  const res = await fetch(new URL(path, sim.url))
  return { status: res.status, json: (await res.json()) as T }
}

describe('many operations', () => {
  it('serves each server code its own data, the same for the same options', async () => {
    const sim = await simulator({ operations: 2 })
    const a = await call(sim, A)
    const b = await call(sim, B)
    expect(a.status).toBe(200)
    expect(b.status).toBe(200)
    expect(connIds(a).length).toBeGreaterThan(20)
    expect(connIds(b).length).toBeGreaterThan(20)
    // Other chats altogether, not a reshuffle of the same ones.
    expect(connIds(a).filter((id) => connIds(b).includes(id))).toEqual([])

    const again = await simulator({ operations: 2 })
    expect((await call(again, A)).body.data).toEqual(a.body.data)
    expect((await call(again, B)).body.data).toEqual(b.body.data)
    // Another base seed moves every operation.
    const other = await simulator({ operations: 2, seed: 2 })
    expect(connIds(await call(other, A))).not.toEqual(connIds(a))
  })

  it('refuses a token of another operation, an unknown server code and a missing one as an invalid token', async () => {
    const sim = await simulator({ operations: 2 })
    expect(await call(sim, B, operationToken(A))).toEqual({ status: 403, body: tokenInvalid })
    expect(await call(sim, A, operationToken(B))).toEqual({ status: 403, body: tokenInvalid })
    expect(await call(sim, '100003')).toEqual({ status: 403, body: tokenInvalid })
    expect(await call(sim, '0100001', operationToken(A))).toEqual({
      status: 403,
      body: tokenInvalid,
    })
    expect(await call(sim, null, operationToken(A))).toEqual({ status: 403, body: tokenInvalid })
    expect(await call(sim, A, 'sim-token')).toEqual({ status: 403, body: tokenInvalid })
    // The refusals cost no quota.
    expect(sim.operations().map((op) => op.callsToday)).toEqual([0, 0])
    expect((await call(sim, A)).status).toBe(200)
  })

  it('counts the daily quota per operation', async () => {
    const sim = await simulator({ operations: 2, dailyQuota: 2 })
    expect((await call(sim, A)).status).toBe(200)
    expect((await call(sim, A)).status).toBe(200)
    expect(await call(sim, A)).toEqual({
      status: 403,
      body: { code: 403, error: texts.quotaExceeded, msg: texts.quotaExceeded },
    })
    expect((await call(sim, B)).status).toBe(200)
    const { status, json } = await control(sim, '/__sim/operations')
    expect(status).toBe(200)
    expect(json).toEqual({
      count: 2,
      firstServer: 100_001,
      built: 2,
      operations: [
        { server: A, built: true, callsToday: 2, quotaLeft: 0 },
        { server: B, built: true, callsToday: 1, quotaLeft: 1 },
      ],
    })
    expect(JSON.stringify(json)).not.toContain('sim-token')
  })

  it('limits simultaneous calls per operation', async () => {
    const sim = await simulator({ operations: 2, concurrentLimit: 1, latencyMs: 500 })
    const answers = await Promise.all([call(sim, A), call(sim, A), call(sim, B)])
    const limited = texts.concurrent(1)
    // One of A's two calls is refused; B, alone on its token, is served.
    expect(answers.slice(0, 2).map((answer) => answer.body.error)).toContain(limited)
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(2)
    expect(answers[2]?.status).toBe(200)
  })

  it('gives the truth of each operation: what the API served it', async () => {
    const sim = await simulator({ operations: 2 })
    const a = await call(sim, A)
    const b = await call(sim, B)
    expect(sim.truth({ ...window, server: A }).data).toEqual(a.body.data)
    expect(sim.truth({ ...window, server: B }).data).toEqual(b.body.data)
    const query = `date_ini=${window.dateIni}&date_end=${window.dateEnd}`
    const overHttp = await control<{ data: unknown }>(sim, `/__sim/truth?${query}&server=${B}`)
    expect(overHttp.json.data).toEqual(b.body.data)
    // The same without a server, from the operation's seed.
    const { settings } = sim
    expect(
      computeTruth({ ...settings, seed: operationSeed(settings.seed, B), nowMs }, { ...window })
        .data,
    ).toEqual(b.body.data)

    expect(() => sim.truth(window)).toThrow(/server is required/)
    expect(() => sim.truth({ ...window, server: '100003' })).toThrow(/not one of/)
    const missing = await control<{ error: string }>(sim, `/__sim/truth?${query}`)
    expect(missing.status).toBe(400)
    expect(missing.json.error).toMatch(/server is required.*2 operations.*100001\.\.100002/)
    expect((await control(sim, `/__sim/truth?${query}&server=7`)).status).toBe(400)
  })

  it('records the server code of each call and filters the log by it', async () => {
    const sim = await simulator({ operations: 2 })
    await call(sim, A)
    await call(sim, B)
    await call(sim, B, operationToken(A))
    expect(sim.calls().map((c) => [c.server, c.status])).toEqual([
      [A, 200],
      [B, 200],
      [B, 403],
    ])
    const { json } = await control<{ calls: { id: number }[]; overlaps: number }>(
      sim,
      `/__sim/calls?server=${B}`,
    )
    expect(json.calls.map((c) => c.id)).toEqual([2, 3])
    expect(json.overlaps).toBe(0)
  })

  it('takes the first server code as an option', async () => {
    const sim = await simulator({ operations: 2, firstServer: 10 })
    expect(sim.operations().map((op) => op.server)).toEqual(['10', '11'])
    expect((await call(sim, '11')).status).toBe(200)
    expect((await call(sim, A)).status).toBe(403)
    expect((await control(sim, '/__sim/settings')).json).toMatchObject({
      operations: 2,
      firstServer: 10,
      tokenCount: 2,
    })
  })

  it('starts 200 operations without building their data, and builds only the one asked', async () => {
    const sim = await simulator({ operations: 200 })
    expect(sim.operations()).toHaveLength(200)
    expect(sim.operations().filter((op) => op.built)).toEqual([])
    const last = await call(sim, '100200')
    expect(last.status).toBe(200)
    expect(connIds(last).length).toBeGreaterThan(20)
    expect((await control(sim, '/__sim/operations')).json).toMatchObject({ count: 200, built: 1 })
    expect(sim.operations().filter((op) => op.built)).toEqual([
      { server: '100200', built: true, callsToday: 1, quotaLeft: 9_999 },
    ])
    expect(sim.truth({ ...window, server: '100200' }).data).toEqual(last.body.data)
    expect((await call(sim, '100201')).status).toBe(403)
    expect(sim.operations().filter((op) => op.built)).toHaveLength(1)
  })

  it('refuses a number of operations out of 1..10,000 and server codes over 6 digits', async () => {
    for (const operations of [0, -1, 1.5, 10_001]) {
      await expect(startSimulator({ operations })).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('operations'),
      })
    }
    await expect(startSimulator({ operations: 2, firstServer: 999_999 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    })
    await expect(startSimulator({ firstServer: 5 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('firstServer needs operations'),
    })
  })
})

describe('one operation (the default)', () => {
  it('takes any server header, or none, and serves the same data', async () => {
    const sim = await simulator({ tokens: ['t'] })
    const answers: Answer[] = []
    for (const server of ['0010', A, '999999', null]) answers.push(await call(sim, server, 't'))
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200])
    for (const answer of answers) expect(answer.body.data).toEqual(answers[0]?.body.data)
    expect(await call(sim, A)).toEqual({ status: 403, body: tokenInvalid })
    expect(sim.truth({ ...window, server: '0010' }).data).toEqual(answers[0]?.body.data)
    expect(sim.operations()).toEqual([])
    expect((await control(sim, '/__sim/operations')).status).toBe(404)
    const settings = (await control(sim, '/__sim/settings')).json
    expect(settings).toMatchObject({ tokenCount: 1 })
    expect(settings).not.toHaveProperty('operations')
    expect(sim.calls().map((c) => c.server)).toEqual(
      expect.arrayContaining(['0010', A, '999999', null]),
    )
  })
})
