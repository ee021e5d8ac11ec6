import { afterAll, afterEach, describe, expect, it } from 'vitest'
import {
  computeTruth,
  startSimulator,
  tokenFingerprint,
  type RunningSimulator,
  type SimulatorOptions,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { waitFor } from '../support/wait-for.js'
import {
  canaryLeaks,
  canaryToken,
  captureLogger,
  capturedOutput,
  keepOutput,
  simulatorNowMs,
} from '../support/wolkvox.js'

const running: RunningSimulator[] = []

async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({
    tokens: [canaryToken],
    now: () => simulatorNowMs,
    historyMs: 3 * 86_400_000,
    logger: captureLogger('wolkvox-simulator'),
    ...options,
  })
  running.push(sim)
  return sim
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()))
})

afterAll(() => {
  expect(capturedOutput.length).toBeGreaterThan(20)
  expect(canaryLeaks()).toEqual([])
})

interface Answer {
  status: number
  headers: Headers
  text: string
  json: unknown
}

async function get(
  sim: RunningSimulator,
  query: Record<string, string>,
  token: string | null = canaryToken,
  init: RequestInit = {},
): Promise<Answer> {
  const url = new URL('/api/v2/reports_manager.php', sim.url)
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value)
  const res = await fetch(url, {
    ...init,
    headers: token === null ? {} : { 'wolkvox-token': token, wolkvox_server: '0010' },
  })
  const text = await res.text()
  capturedOutput.push(text.slice(0, 10_000))
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

const day = { api: 'chat_2', date_ini: '20250227000000', date_end: '20250227235959' }
const body = (answer: Answer) =>
  answer.json as {
    code: unknown
    error: unknown
    msg: string
    data: { conn_id: string; conversation: Record<string, unknown>[] }[]
  }

describe('the chat_2 API', () => {
  it('answers a day with the ground truth, code as a number or the string "200"', async () => {
    const sim = await simulator()
    const truth = sim.truth({ dateIni: day.date_ini, dateEnd: day.date_end })
    expect(truth.messageCount).toBeGreaterThan(10_000)
    const codes = new Set<unknown>()
    for (let i = 0; i < 3; i++) {
      const answer = await get(sim, day)
      expect(answer.status).toBe(200)
      expect(answer.headers.get('content-type')).toContain('application/json')
      expect(body(answer).data).toEqual(truth.data)
      expect(body(answer).msg).toBe(`${truth.messageCount} records were found`)
      codes.add(body(answer).code)
    }
    expect(codes).toEqual(new Set([200, '200']))
  })

  it('gives the same data for the same seed, whenever asked, and other data for another seed', async () => {
    const a = await simulator({ seed: 11 })
    const b = await simulator({ seed: 11 })
    const c = await simulator({ seed: 12 })
    const hour = { api: 'chat_2', date_ini: '20250227100000', date_end: '20250227105959' }
    const first = body(await get(a, hour)).data
    expect(first.length).toBeGreaterThan(5)
    expect(body(await get(b, hour)).data).toEqual(first)
    expect(body(await get(c, hour)).data).not.toEqual(first)
    // Asking a wider window first does not change the narrower one (lazy per-hour generation).
    await get(a, day)
    expect(body(await get(a, hour)).data).toEqual(first)
  })

  it('offers the same truth as a library function and over HTTP', async () => {
    const sim = await simulator({ selection: 'message' })
    const window = { dateIni: '20250227100000', dateEnd: '20250227115959' }
    const library = computeTruth(
      {
        seed: sim.settings.seed,
        chatsPerHour: sim.settings.chatsPerHour,
        timeZone: sim.settings.timeZone,
        historyStartMs: sim.settings.historyStartMs,
        selection: 'message',
        visibilityLagMs: sim.settings.visibilityLagMs,
        nowMs: simulatorNowMs,
      },
      window,
    )
    const res = await fetch(
      `${sim.url}/__sim/truth?date_ini=${window.dateIni}&date_end=${window.dateEnd}`,
    )
    expect(await res.json()).toEqual(library)
    expect(library.selection).toBe('message')
    expect(
      body(await get(sim, { api: 'chat_2', date_ini: window.dateIni, date_end: window.dateEnd }))
        .data,
    ).toEqual(library.data)
  })

  it('selects by message time when asked: only messages inside the inclusive bounds', async () => {
    const sim = await simulator({ selection: 'message' })
    const answer = await get(sim, {
      api: 'chat_2',
      date_ini: '20250227100000',
      date_end: '20250227100959',
    })
    const dates = body(answer).data.flatMap((chat) =>
      chat.conversation.map((m) => m.date as string),
    )
    expect(dates.length).toBeGreaterThan(10)
    expect(dates.every((d) => d >= '2025-02-27 10:00:00' && d <= '2025-02-27 10:09:59')).toBe(true)
    const closing = await simulator({ selection: 'closing' })
    const closed = body(
      await get(closing, { api: 'chat_2', date_ini: '20250227100000', date_end: '20250227100959' }),
    )
    // By closing time, a chat comes whole, with messages from before the window.
    expect(
      closed.data.some((chat) => (chat.conversation[0]?.date as string) < '2025-02-27 10:00:00'),
    ).toBe(true)
  })

  it.each([
    [null, day, 401, 'PLEASE ENTER THE WOLKVOX-TOKEN'],
    ['not-a-token', day, 403, 'PLEASE VALIDATE TOKEN'],
    [canaryToken, { ...day, api: 'chat_99' }, 400, 'THE API YOU WANT TO CONSULT DOES NOT EXIST'],
    [
      canaryToken,
      { date_ini: day.date_ini, date_end: day.date_end },
      400,
      'SOME PARAMETERS ARE REQUIRED',
    ],
    [canaryToken, { api: 'chat_2', date_ini: day.date_ini }, 400, 'SOME PARAMETERS ARE REQUIRED'],
    [
      canaryToken,
      { ...day, date_ini: '2025-02-27' },
      400,
      'THE DATES MUST HAVE THE FORMAT YYYYmmddHHiiss',
    ],
    [
      canaryToken,
      { ...day, date_ini: '20250101000000' },
      400,
      'THE MAXIMUM RANGE OF DATES IS 31 DAYS',
    ],
    [
      canaryToken,
      { ...day, date_ini: '20250228000000', date_end: '20250227000000' },
      404,
      'Validate dates entered',
    ],
    [
      canaryToken,
      { ...day, date_ini: '20250101000000', date_end: '20250101235959' },
      404,
      'Validate dates entered',
    ],
    [
      canaryToken,
      { ...day, date_ini: '20250305000000', date_end: '20250305235959' },
      404,
      'Validate dates entered',
    ],
  ] as const)('with token %j and %j answers %i %s', async (token, query, status, text) => {
    const sim = await simulator()
    const answer = await get(sim, query, token)
    expect(answer.status).toBe(status)
    expect(answer.json).toEqual({ code: status, error: text, msg: text })
  })

  it('answers 31 days counted with both ends, and a single second', async () => {
    const sim = await simulator({ historyMs: 40 * 86_400_000, chatsPerHour: 2 })
    expect(
      (await get(sim, { ...day, date_ini: '20250128000000', date_end: '20250227235959' })).status,
    ).toBe(200)
    expect(
      (await get(sim, { ...day, date_ini: '20250127235959', date_end: '20250227235959' })).status,
    ).toBe(400)
    expect([200, 404]).toContain(
      (await get(sim, { ...day, date_ini: '20250227120000', date_end: '20250227120000' })).status,
    )
  })

  it('answers a path that is not the API with a web server 404, not the API JSON', async () => {
    const sim = await simulator()
    const res = await fetch(`${sim.url}/api/v2/reports.php`)
    expect(res.status).toBe(404)
    expect(await res.text()).toContain('<html>')
  })

  it('enforces a daily quota per token', async () => {
    const sim = await simulator({ dailyQuota: 2 })
    expect((await get(sim, day)).status).toBe(200)
    expect((await get(sim, { ...day, api: 'chat_99' })).status).toBe(400)
    const third = await get(sim, day)
    expect(third.status).toBe(403)
    expect(body(third).msg).toBe('TOKEN LIMIT EXCEEDED')
    sim.reset()
    expect((await get(sim, day)).status).toBe(200)
  })

  it('refuses more simultaneous calls per token than its limit, and records the overlap', async () => {
    const sim = await simulator({
      concurrentLimit: 1,
      latencyMs: 300,
      tokens: [canaryToken, 'other-token'],
    })
    const answers = await Promise.all([get(sim, day), get(sim, day), get(sim, day, 'other-token')])
    const statuses = answers.map((a) => a.status).sort()
    expect(statuses).toEqual([200, 200, 403])
    expect(answers.find((a) => a.status === 403)?.json).toMatchObject({
      msg: 'EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (1)',
    })
    await waitFor(() => sim.calls().every((call) => call.endedAtMs !== null))
    const overlaps = sim.overlaps()
    expect(overlaps).toHaveLength(1)
    expect(overlaps[0]?.token).toBe(tokenFingerprint(canaryToken))
  })

  it('allows two simultaneous calls when the limit is 2', async () => {
    const sim = await simulator({ concurrentLimit: 2, latencyMs: 300 })
    const answers = await Promise.all([get(sim, day), get(sim, day), get(sim, day)])
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 403])
  })

  it('truncates silently at the row cap, counted in messages', async () => {
    const sim = await simulator({ rowCap: 500 })
    const truth = sim.truth({ dateIni: day.date_ini, dateEnd: day.date_end })
    const answer = body(await get(sim, day))
    const messages = answer.data.flatMap((chat) => chat.conversation)
    expect(messages).toHaveLength(500)
    expect(answer.msg).toBe('500 records were found')
    expect(messages).toEqual(truth.data.flatMap((chat) => chat.conversation).slice(0, 500))
  })

  it('truncates silently at the row cap, counted in chats', async () => {
    const sim = await simulator({ rowCap: 40, rowCapUnit: 'chat' })
    const truth = sim.truth({ dateIni: day.date_ini, dateEnd: day.date_end })
    expect(body(await get(sim, day)).data).toEqual(truth.data.slice(0, 40))
  })

  it('serves a 60,000-message window', async () => {
    const sim = await simulator({ chatsPerHour: 2_500 })
    const window = { api: 'chat_2', date_ini: '20250227080000', date_end: '20250227115959' }
    const started = performance.now()
    const answer = body(await get(sim, window))
    const elapsedMs = performance.now() - started
    expect(answer.data.reduce((sum, chat) => sum + chat.conversation.length, 0)).toBe(60_000)
    // Not a timing assertion (benchmarks own those); the figure goes to the log for the record.
    process.stderr.write(
      `[wolkvox-simulator] 60,000-message window served in ${elapsedMs.toFixed(0)} ms\n`,
    )
  })
})

describe('late data (lateDataMs)', () => {
  // 10:00-10:59 in Bogota is 15:00-15:59 UTC: every chat of the window has closed by 16:00:05.
  const hour = { api: 'chat_2', date_ini: '20250301100000', date_end: '20250301105959' }
  const window = { dateIni: hour.date_ini, dateEnd: hour.date_end }
  const lateDataMs = 2 * 3_600_000

  it('serves feeling and some customer_id empty on a first read, the truth on a later one', async () => {
    let clock = Date.parse('2025-03-01T16:00:05Z')
    const sim = await simulator({ now: () => clock, lateDataMs })
    const truth = sim.truth(window)
    expect(truth.messageCount).toBeGreaterThan(200)

    const first = await get(sim, hour)
    expect(first.status).toBe(200)
    const early = body(first).data
    const final = truth.data
    expect(early.map((chat) => chat.conn_id)).toEqual(final.map((chat) => chat.conn_id))
    const pairs = early.flatMap((chat, i) =>
      chat.conversation.map((message, j) => [message, final[i]!.conversation[j]!] as const),
    )
    expect(pairs).toHaveLength(truth.messageCount)
    // Before Wolkvox fills them: no feeling yet, and some chats without their customer_id.
    expect(pairs.every(([message]) => (message.feeling ?? '') === '')).toBe(true)
    const feelingsLate = pairs.filter(([message, later]) => message.feeling !== later.feeling)
    const idsLate = pairs.filter(([message, later]) => message.customer_id !== later.customer_id)
    expect(feelingsLate.length).toBeGreaterThan(truth.messageCount / 2)
    expect(idsLate.length).toBeGreaterThan(0)
    expect(idsLate.every(([message]) => message.customer_id === '')).toBe(true)
    // The identity of every message is already final.
    for (const [message, later] of pairs) {
      for (const field of ['conn_id', 'date', 'from', 'from_name', 'message'] as const) {
        expect(message[field]).toEqual(later[field])
      }
    }
    const changed = pairs.filter(
      ([message, later]) => JSON.stringify(message) !== JSON.stringify(later),
    )
    await waitFor(() => sim.calls().every((call) => call.endedAtMs !== null))
    expect(sim.calls().map((call) => call.lateMessages)).toEqual([changed.length])
    expect(sim.lateMessagesServed()).toBe(changed.length)

    // After the delay the same window is the truth, and the truth has not moved.
    clock = Date.parse('2025-03-01T18:00:00Z')
    const second = await get(sim, hour)
    expect(body(second).data).toEqual(final)
    expect(sim.truth(window)).toEqual(truth)
    await waitFor(() => sim.calls().every((call) => call.endedAtMs !== null))
    expect(sim.calls().map((call) => call.lateMessages)).toEqual([changed.length, 0])
    const calls = (await (await fetch(`${sim.url}/__sim/calls`)).json()) as {
      calls: { lateMessages: number }[]
    }
    expect(calls.calls.map((call) => call.lateMessages)).toEqual([changed.length, 0])
    const settings = (await (await fetch(`${sim.url}/__sim/settings`)).json()) as Record<
      string,
      unknown
    >
    expect(settings).toMatchObject({ lateDataMs, lateShare: 1 })
  })

  it('fills each chat when its own delay has passed, the same way for the same seed', async () => {
    let clock = Date.parse('2025-03-01T16:00:05Z')
    const options = { now: () => clock, lateDataMs: 30 * 60_000, lateShare: 0.5 }
    const a = await simulator(options)
    const b = await simulator(options)
    const final = a.truth(window).data
    const readAt = async (sim: RunningSimulator, iso: string) => {
      clock = Date.parse(iso)
      return body(await get(sim, hour)).data
    }
    const early = await readAt(a, '2025-03-01T16:00:05Z')
    expect(await readAt(b, '2025-03-01T16:00:05Z')).toEqual(early)
    const pendingChats = early.filter(
      (chat, i) => JSON.stringify(chat) !== JSON.stringify(final[i]),
    )
    // About half the chats are late (lateShare), and of those only the ones closed after 15:30.
    expect(pendingChats.length).toBeGreaterThan(0)
    expect(pendingChats.length).toBeLessThan(early.length)
    // At 16:15 the chats closed before 15:45 are final; the others may still be pending.
    const middle = await readAt(a, '2025-03-01T16:15:00Z')
    const stillPending = middle.filter(
      (chat, i) => JSON.stringify(chat) !== JSON.stringify(final[i]),
    )
    expect(stillPending.length).toBeLessThan(pendingChats.length)
    expect(stillPending.every((chat) => pendingChats.some((p) => p.conn_id === chat.conn_id))).toBe(
      true,
    )
    expect(await readAt(a, '2025-03-01T16:30:05Z')).toEqual(final)
    expect(a.lateMessagesServed()).toBeGreaterThan(b.lateMessagesServed())
  })
})

describe('the record of calls', () => {
  it('keeps each call with its server-side start and end, without the token', async () => {
    const sim = await simulator()
    await get(sim, day)
    await get(sim, day, null)
    await waitFor(() => sim.calls().every((call) => call.endedAtMs !== null))
    const res = await fetch(`${sim.url}/__sim/calls`)
    const text = await res.text()
    capturedOutput.push(text)
    const { calls, overlaps } = JSON.parse(text) as {
      calls: Record<string, unknown>[]
      overlaps: number
    }
    expect(overlaps).toBe(0)
    expect(calls).toMatchObject([
      {
        id: 1,
        token: tokenFingerprint(canaryToken),
        api: 'chat_2',
        dateIni: day.date_ini,
        status: 200,
        outcome: 'completed',
      },
      { id: 2, token: null, status: 401, outcome: 'completed' },
    ])
    for (const call of calls)
      expect(call.endedAtMs as number).toBeGreaterThanOrEqual(call.startedAtMs as number)
    expect((calls[0]?.messages as number) > 0).toBe(true)
    await fetch(`${sim.url}/__sim/calls`, { method: 'DELETE' })
    expect(sim.calls()).toEqual([])
  })

  it('records an aborted call with its end when the client goes away', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'no-answer' })
    const controller = new AbortController()
    const pending = get(sim, day, canaryToken, { signal: controller.signal }).catch(
      (error: unknown) => error,
    )
    await waitFor(() => sim.calls().length === 1)
    expect(sim.calls()[0]).toMatchObject({ outcome: 'in-flight', endedAtMs: null })
    controller.abort()
    await pending
    const [call] = await waitFor(() => {
      const calls = sim.calls()
      return calls[0]?.endedAtMs !== null ? calls : undefined
    })
    expect(call).toMatchObject({ outcome: 'aborted', fault: 'no-answer', status: null })
  })
})

describe('faults', () => {
  it('are queued over HTTP for the next calls, in order, and validated', async () => {
    const sim = await simulator()
    const bad = await fetch(`${sim.url}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'explode' }),
    })
    expect(bad.status).toBe(400)
    const res = await fetch(`${sim.url}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({
        faults: [{ kind: 'server-error', status: 503, count: 2 }, { kind: 'maintenance' }],
      }),
    })
    expect(await res.json()).toMatchObject({
      queue: [
        { kind: 'server-error', count: 2 },
        { kind: 'maintenance', count: 1 },
      ],
    })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await get(sim, day)).status)
    expect(statuses).toEqual([503, 503, 403, 200])
    expect(sim.calls().map((call) => call.fault)).toEqual([
      'server-error',
      'server-error',
      'maintenance',
      null,
    ])
  })

  it('429 carries Retry-After', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'rate-limited', retryAfterSeconds: 7 })
    const answer = await get(sim, day)
    expect(answer.status).toBe(429)
    expect(answer.headers.get('retry-after')).toBe('7')
  })

  it('maintenance is a 403 with a body that is none of the documented ones', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'maintenance' })
    const answer = await get(sim, day)
    expect(answer.status).toBe(403)
    expect(answer.text).not.toMatch(/VALIDATE TOKEN|TOKEN LIMIT|SIMULTANEOUS/)
  })

  it('truncated JSON keeps the status and cuts the body', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'truncated' })
    const answer = await get(sim, day)
    expect(answer.status).toBe(200)
    expect(answer.json).toBeUndefined()
    expect(answer.text.startsWith('{"code":')).toBe(true)
  })

  it('wrong types put non-strings where strings belong', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'wrong-types' })
    const [chat] = body(await get(sim, day)).data
    expect(typeof (chat as Record<string, unknown>).agent_name).toBe('object')
    expect(chat?.conversation.some((m) => typeof m.customer_id === 'number')).toBe(true)
  })

  it('wrong shape sends data as an object', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'wrong-shape' })
    const data = body(await get(sim, day)).data as unknown
    expect(Array.isArray(data)).toBe(false)
    expect(typeof data).toBe('object')
  })

  it('a slow answer trickles the real body', async () => {
    const sim = await simulator()
    const hour = { api: 'chat_2', date_ini: '20250227100000', date_end: '20250227100059' }
    const whole = (await get(sim, hour)).text
    sim.injectFaults({ kind: 'slow', chunkBytes: Math.ceil(whole.length / 4), intervalMs: 100 })
    const started = Date.now()
    const slow = await get(sim, hour)
    expect(Date.now() - started).toBeGreaterThanOrEqual(300)
    expect(slow.text).toBe(whole)
  })

  it('a huge body streams far past any sane limit without the simulator holding it', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'huge', bytes: 300 * 1024 * 1024 })
    const controller = new AbortController()
    const res = await fetch(`${sim.url}/api/v2/reports_manager.php?api=chat_2`, {
      headers: { 'wolkvox-token': canaryToken },
      signal: controller.signal,
    })
    let received = 0
    const reader = res.body!.getReader()
    while (received < 20 * 1024 * 1024) {
      const { value, done } = await reader.read()
      if (done) break
      received += value.length
    }
    controller.abort()
    expect(received).toBeGreaterThanOrEqual(20 * 1024 * 1024)
    const [call] = await waitFor(() =>
      sim.calls()[0]?.endedAtMs !== null ? sim.calls() : undefined,
    )
    expect(call).toMatchObject({ outcome: 'aborted', fault: 'huge' })
  })

  it('a disconnect cuts the connection mid-body', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'disconnect' })
    await expect(get(sim, day)).rejects.toThrow()
  })

  it('a redirect points elsewhere', async () => {
    const sim = await simulator()
    sim.injectFaults({ kind: 'redirect' })
    const res = await fetch(`${sim.url}/api/v2/reports_manager.php?api=chat_2`, {
      redirect: 'manual',
    })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toContain('evil.example')
  })

  it('a run-wide fault applies at its rate', async () => {
    const sim = await simulator({ fault: { kind: 'server-error', status: 502 }, faultRate: 1 })
    expect((await get(sim, day)).status).toBe(502)
    expect((await get(sim, day)).status).toBe(502)
    const calm = await simulator({ fault: { kind: 'server-error' }, faultRate: 0 })
    expect((await get(calm, day)).status).toBe(200)
  })
})

describe('secrets', () => {
  it('never writes the token: settings, calls and logs hold a fingerprint at most', async () => {
    const sim = await simulator()
    await get(sim, day)
    keepOutput(sim.settings)
    keepOutput(sim.calls())
    const settings = await (await fetch(`${sim.url}/__sim/settings`)).text()
    capturedOutput.push(settings)
    expect(settings).toContain('"tokenCount":1')
    expect(capturedOutput.some((line) => line.includes('wolkvox call'))).toBe(true)
    expect(canaryLeaks()).toEqual([])
  })
})
