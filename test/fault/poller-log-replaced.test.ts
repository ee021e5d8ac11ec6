/*
 * Fault: the Kafka log is replaced under a surviving Redis (issue 26). QUALITY.md: "the poller
 * refuses to trust a watermark the new checkpoint topic never saw; nothing silently skipped".
 *
 * The watermark in Redis says "everything up to here is on the topic". Before, when the topics
 * were deleted and re-created or the broker replaced (`stack:down` then `stack:up`, which keeps
 * Redis), the poller went on from that watermark and the messages before it were never on the new
 * log. Now it refuses with POLL_CHECKPOINT_MISSING (status, metric), and the documented `rebind`
 * (or POLL_ON_CHECKPOINT_MISSING=repoll) puts exactly the simulator's truth on the new topic.
 *
 * One file, one private redis-server kept throughout, the broker of startFaultStack, then a NEW
 * broker (new cluster id) in its place. The scenarios run in order on that shared state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  freePort,
  kafkaVersionFromEnv,
  startKafkaBroker,
  type KafkaBroker,
} from '@wolkvox-chat-stream/dev-stack'
import {
  decodeChatMessage,
  decodePollerCheckpoint,
  productTopics,
  topics,
} from '@wolkvox-chat-stream/events'
import {
  createEventProducer,
  createKafkaClient,
  provisionTopics,
  readTopicToEnd,
  type Kafka,
} from '@wolkvox-chat-stream/kafka'
import {
  startSimulator,
  type RunningSimulator,
  type Truth,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { startFaultStack, type FaultStack } from '../support/fault-stack.js'
import {
  compareWithTruth,
  expectedMessages,
  newServerCode,
  pollerEnv,
} from '../support/poller-harness.js'
import {
  getJson,
  runPoller,
  startPoller,
  type PollerProcess,
} from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const TOKEN = 'canary-fault-log-replaced-token-2b6e'
const MINUTE = 60_000
const HOUR = 60 * MINUTE
const LOOKBACK_MS = 10_000
const SETTLE_LAG_MS = 5_000

/** The parts of a status document (CLI `status` and GET /status) this file reads. */
interface OperationStatus {
  server: string
  watermark: string | null
  lastError: { code: string; message: string } | null
  checkpoint: {
    state: 'bound' | 'unverified' | 'missing'
    cluster: string | null
    missing: {
      code: string
      reason: string
      watermark: string
      topicWatermark: string | null
      resolve: string[]
    } | null
  }
}
interface OnceLine {
  window: { from: string; to: string } | null
  watermark: string | null
  published: number
  repolled: boolean
}

const whole = (ms: number): number => Math.floor(ms / 1000) * 1000
const iso = (ms: number): string => new Date(ms).toISOString()

describe('the Kafka log replaced under a surviving Redis', () => {
  let stack: FaultStack
  let sim: RunningSimulator
  /** The broker that replaces the first one, and a client on whichever broker is current. */
  let replacement: KafkaBroker | undefined
  let brokers: string
  let kafka: Kafka
  const processes: PollerProcess[] = []

  beforeAll(async () => {
    ;[stack, sim] = await Promise.all([
      startFaultStack(),
      startSimulator({ tokens: [TOKEN], chatsPerHour: 60, seed: 26, latencyMs: 10 }),
    ])
    brokers = stack.brokers
    kafka = stack.kafka
  })

  afterAll(async () => {
    for (const p of processes) {
      if (p.process.exitCode === null && p.process.signalCode === null) p.kill('SIGKILL')
    }
    await sim?.close()
    await replacement?.stop()
    await stack?.stop()
  })

  const envFor = (
    server: string,
    startMs: number,
    extra: Record<string, string> = {},
  ): Record<string, string> =>
    pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers: brokers,
      redisUrl: stack.redisUrl,
      extra: {
        POLL_START: iso(startMs),
        POLL_INTERVAL: '1s',
        POLL_SWEEP_INTERVAL: '0s',
        POLL_LOCK_TTL: '2s',
        POLL_SETTLE_LAG: `${SETTLE_LAG_MS / 1000}s`,
        POLL_LOOKBACK: `${LOOKBACK_MS / 1000}s`,
        POLL_MAX_WINDOW: '20m',
        ...extra,
      },
    })

  const once = async (env: Record<string, string>, args: string[] = []) => {
    const out = await runPoller(['once', ...args], env)
    return { ...out, line: out.code === 0 ? (JSON.parse(out.stdout) as OnceLine) : null }
  }
  const cliStatus = async (env: Record<string, string>): Promise<OperationStatus> => {
    const out = await runPoller(['status'], env)
    expect(out.code, out.stderr).toBe(0)
    return (JSON.parse(out.stdout) as { operations: OperationStatus[] }).operations[0]!
  }
  const rebind = async (env: Record<string, string>, server: string, fromMs?: number) => {
    const args = [
      'rebind',
      '--server',
      server,
      ...(fromMs === undefined ? [] : ['--from', iso(fromMs)]),
    ]
    const out = await runPoller(args, env)
    expect(out.code, out.stderr).toBe(0)
    return JSON.parse(out.stdout) as { server: string; previous: string | null; watermark: string }
  }

  /** `poller run` with its HTTP port: /status and /metrics. */
  const startRun = async (env: Record<string, string>) => {
    const port = await freePort()
    const p = startPoller(['run'], { ...env, HTTP_PORT: String(port) })
    processes.push(p)
    const base = `http://127.0.0.1:${port}`
    return {
      process: p,
      status: async () =>
        (await getJson<{ operations: OperationStatus[] }>(`${base}/status`)).operations[0]!,
      metrics: async () => (await fetch(`${base}/metrics`)).text(),
      stop: async () => {
        p.kill('SIGTERM')
        const exit = await p.exited
        expect(exit.code, p.stderr()).toBe(0)
      },
    }
  }
  type Run = Awaited<ReturnType<typeof startRun>>

  const waitForWatermark = (run: Run, atLeastMs: number, what: string): Promise<number> =>
    waitFor(
      async () => {
        const watermark = (await run.status()).watermark
        return watermark !== null && Date.parse(watermark) >= atLeastMs ? Date.parse(watermark) : 0
      },
      { timeoutMs: 60_000, intervalMs: 250, what },
    )

  const mismatchGauge = (server: string, value: 0 | 1): RegExp =>
    new RegExp(`wolkvox_poller_checkpoint_mismatch\\{[^}]*server="${server}"[^}]*\\} ${value}\\b`)

  /** Waits for `run` to refuse with POLL_CHECKPOINT_MISSING in /status and the metric. */
  const expectRefusal = async (run: Run, server: string): Promise<OperationStatus> => {
    const refused = await waitFor(
      async () => {
        const op = await run.status()
        return op.checkpoint.state === 'missing' && op.lastError?.code === 'POLL_CHECKPOINT_MISSING'
          ? op
          : null
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `${server} to refuse the new log` },
    ).catch(async (error: unknown) => {
      // Say why: the last status and what the poller logged.
      const last = JSON.stringify(await run.status().catch(() => null))
      throw new Error(
        `${String(error)}\nstatus: ${last}\nlog: ${run.process.stderr().slice(-4000)}`,
      )
    })
    expect(refused.checkpoint.missing).toMatchObject({ code: 'POLL_CHECKPOINT_MISSING' })
    expect(refused.checkpoint.missing!.resolve).toEqual([
      expect.stringMatching(new RegExp(`^npm run poller -- rebind --server ${server} --from `)),
      `npm run poller -- rebind --server ${server}`,
    ])
    expect(refused.lastError!.message).toContain(`npm run poller -- rebind --server ${server}`)
    await waitFor(async () => mismatchGauge(server, 1).test(await run.metrics()), {
      what: 'the mismatch gauge at 1',
    })
    return refused
  }

  /** Deletes topics and provisions them again, empty, as an operator re-creating them would. */
  const recreateTopics = async (names: string[]): Promise<void> => {
    const admin = kafka.admin()
    await admin.connect()
    try {
      await admin.deleteTopics({ topics: names, timeout: 30_000 })
      await waitFor(async () => !(await admin.listTopics()).some((t) => names.includes(t)), {
        what: 'the topics to be deleted',
      })
    } finally {
      await admin.disconnect()
    }
    const specs = productTopics.filter((t) => names.includes(t.name))
    await waitFor(
      () =>
        provisionTopics(kafka, specs, { create: true }).then(
          () => true,
          () => false,
        ),
      { what: 'the topics to be re-created', timeoutMs: 60_000, intervalMs: 500 },
    )
  }

  /** The operation's messages on the current broker's message topic. */
  const messagesOf = async (server: string) =>
    (await readTopicToEnd(kafka, topics.chatMessage.name))
      .map((r) => decodeChatMessage(r.value!))
      .filter((e) => e.server === server)
  // (The harness's topic reader keeps the first broker's address; the broker changes here.)
  const topicDiffFromTruth = async (server: string, truth: Truth) =>
    compareWithTruth(await messagesOf(server), expectedMessages(truth, server))

  /** The new topic holds exactly the simulator's truth for [fromMs, toMs]. */
  const expectTruth = async (server: string, fromMs: number, toMs: number): Promise<void> => {
    const truth = sim.truth({ from: new Date(fromMs), to: new Date(toMs) })
    expect(truth.messageCount).toBeGreaterThan(0)
    const diff = await topicDiffFromTruth(server, truth)
    expect(diff.missing).toEqual([])
    expect(diff.unexpected).toEqual([])
    expect(diff.wrong).toEqual([])
  }

  it('(a) topics deleted and re-created under a running poller: it refuses, then `rebind --from` re-polls exactly the truth', async () => {
    const server = newServerCode()
    const startMs = whole(Date.now()) - HOUR
    const env = envFor(server, startMs)
    const run = await startRun(env)
    await waitForWatermark(run, Date.now() - SETTLE_LAG_MS - 3_000, 'the backlog to be polled')
    const bound = await run.status()
    expect(bound.checkpoint.state).toBe('bound')

    // Paused while the operator replaces the topics, so that no read of the checkpoint topic
    // straddles the deletion (such a read waits out its timeout before it is tried again; see the
    // README). The poll in flight, if any, resumes against the new topics.
    run.process.kill('SIGSTOP')
    try {
      await recreateTopics([topics.chatMessage.name, topics.pollerCheckpoint.name])
    } finally {
      run.process.kill('SIGCONT')
    }
    const refused = await expectRefusal(run, server)
    // Refused, so the watermark does not move any more: what it claims is not on this log.
    const stuckAt = refused.watermark
    expect(refused.checkpoint.missing!.topicWatermark).toBeNull()
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    expect((await run.status()).watermark).toBe(stuckAt)
    // The CLI status (from Redis) says the same.
    expect((await cliStatus(env)).checkpoint.state).toBe('missing')

    const rebound = await rebind(env, server, startMs)
    expect(rebound).toMatchObject({ server, previous: stuckAt, watermark: iso(startMs - 1000) })
    await waitFor(async () => mismatchGauge(server, 0).test(await run.metrics()), {
      what: 'the mismatch gauge back at 0',
    })
    const watermarkMs = await waitForWatermark(
      run,
      Date.now() - SETTLE_LAG_MS - 3_000,
      'the re-poll to catch up',
    )
    expect((await run.status()).checkpoint.state).toBe('bound')
    await run.stop()
    // The re-poll reads from the second before --from, less POLL_LOOKBACK, as any poll does.
    await expectTruth(server, startMs - LOOKBACK_MS, watermarkMs)
  })

  it('(b) the whole broker replaced (new cluster id, same Redis), the poller restarted as a user would: refused, then `rebind --from` puts the truth on the new cluster', async () => {
    const server = newServerCode()
    const startMs = whole(Date.now()) - 2 * HOUR
    const first = await once(envFor(server, startMs))
    expect(first.code, first.stderr).toBe(0)
    const watermark = first.line!.watermark!
    const before = await cliStatus(envFor(server, startMs))
    expect(before.checkpoint.state).toBe('bound')
    const oldCluster = before.checkpoint.cluster

    // `stack:down` then `stack:up`: the broker's data is gone, a new cluster id; Redis stays.
    await stack.broker.stop()
    replacement = await startKafkaBroker({ version: kafkaVersionFromEnv() })
    brokers = replacement.brokers
    kafka = createKafkaClient({ brokers: [brokers], clientId: 'fault-test-replacement' })
    const env = envFor(server, startMs)

    // The regression: before, this poll went on from the watermark and the two hours before it
    // were never on the new cluster. Now `once` refuses, and so does `run`.
    const refusedOnce = await once(env)
    expect(refusedOnce.code).toBe(1)
    expect(refusedOnce.stderr).toMatch(/poller: POLL_CHECKPOINT_MISSING: /)
    expect(refusedOnce.stderr).toContain(`npm run poller -- rebind --server ${server} --from `)
    const run = await startRun(env)
    const refused = await expectRefusal(run, server)
    expect(refused.watermark).toBe(watermark)
    expect(refused.checkpoint.missing!.reason).toBe('missing')
    expect((await cliStatus(env)).checkpoint.missing!.watermark).toBe(watermark)
    // Nothing of the operation was published on the new cluster while refused.
    expect(await messagesOf(server)).toEqual([])

    await rebind(env, server, startMs)
    const watermarkMs = await waitForWatermark(
      run,
      Date.now() - SETTLE_LAG_MS - 3_000,
      'the re-poll on the new cluster',
    )
    const after = await run.status()
    expect(after.checkpoint.state).toBe('bound')
    expect(after.checkpoint.cluster).not.toBe(oldCluster)
    await run.stop()
    await expectTruth(server, startMs - LOOKBACK_MS, watermarkMs)
  })

  it('(c) the checkpoint topic re-created holding only an older checkpoint of the operation: refused', async () => {
    const server = newServerCode()
    const startMs = whole(Date.now()) - 2 * HOUR
    const env = envFor(server, startMs)
    const first = await once(env)
    expect(first.code, first.stderr).toBe(0)
    const watermarkMs = Date.parse(first.line!.watermark!)
    const key = `${server}|chat_2`
    const records = (await readTopicToEnd(kafka, topics.pollerCheckpoint.name)).filter(
      (r) => r.key?.toString() === key,
    )
    // One checkpoint per 20-minute piece: several, the first well below the watermark.
    expect(records.length).toBeGreaterThan(2)
    const oldest = records[0]!
    const olderMs = decodePollerCheckpoint(oldest.value!).watermark.getTime()
    expect(olderMs).toBeLessThan(watermarkMs)

    // A truncated or restored-from-an-old-copy checkpoint topic: only the older checkpoint.
    await recreateTopics([topics.pollerCheckpoint.name])
    const producer = createEventProducer(kafka)
    await producer.connect()
    try {
      await producer.send([{ topic: topics.pollerCheckpoint.name, key, value: oldest.value! }])
    } finally {
      await producer.disconnect()
    }

    const refused = await once(env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('POLL_CHECKPOINT_MISSING')
    expect(refused.stderr).toContain(`only checkpoints up to ${iso(olderMs)}`)
    const status = await cliStatus(env)
    expect(status.watermark).toBe(iso(watermarkMs))
    expect(status.checkpoint.missing).toMatchObject({
      reason: 'older',
      watermark: iso(watermarkMs),
      topicWatermark: iso(olderMs),
    })
    // It stays refused: a later poll does not go on by itself.
    const again = await once(env)
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('POLL_CHECKPOINT_MISSING')
  })

  it('(d) POLL_ON_CHECKPOINT_MISSING=repoll re-polls from POLL_START at once, and the new topic ends equal to the truth', async () => {
    const server = newServerCode()
    const startMs = whole(Date.now()) - HOUR
    const env = envFor(server, startMs, { POLL_ON_CHECKPOINT_MISSING: 'repoll' })
    const first = await once(env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.line!.repolled).toBe(false)

    await recreateTopics([topics.chatMessage.name, topics.pollerCheckpoint.name])
    const repolled = await once(env)
    expect(repolled.code, repolled.stderr).toBe(0)
    expect(repolled.line).toMatchObject({ repolled: true, window: { from: iso(startMs) } })
    // The published set did not hold anything back: every message went to the new topic.
    const watermarkMs = Date.parse(repolled.line!.watermark!)
    expect(watermarkMs).toBeGreaterThan(Date.now() - MINUTE)
    const truth = sim.truth({ from: new Date(startMs), to: new Date(watermarkMs) })
    expect(repolled.line!.published).toBe(truth.messageCount)
    expect(await topicDiffFromTruth(server, truth)).toEqual({
      missing: [],
      unexpected: [],
      repeated: [],
      wrong: [],
    })
    // Bound to the new log: the next poll goes on normally.
    const next = await once(env)
    expect(next.code, next.stderr).toBe(0)
    expect(next.line!.repolled).toBe(false)
    expect((await cliStatus(env)).checkpoint.state).toBe('bound')
  })
})
