/*
 * Fault (issue 18): the whole pipeline on Redis as teams run it: a Redis Cluster of three masters
 * and three replicas (real redis-server processes), TLS from a private CA, and an ACL user that
 * may touch only `wcs:*`. Every Redis user of the product connects with the variables a user sets
 * (`REDIS_CLUSTER_NODES`, `REDIS_USERNAME`, `REDIS_PASSWORD_FILE`, `REDIS_TLS_CA_FILE`):
 * 1. poller `run` and `status`, the sentiment aggregator, the trámite classifier and the
 *    operator's `rebuild`: topic, aggregates and counts equal the simulator's truth, and the
 *    password is in no output, log, topic record, Redis key or value;
 * 2. the master holding an operation's lock and watermark killed with SIGKILL mid-run (its replica
 *    promoted): nothing missing on the topic, aggregates and counts equal the reference, the
 *    watermark never goes back, and no two upstream calls with the token overlap;
 * 3. a wrong password and a CA that did not sign the nodes stop the poller and a consumer at
 *    start, each with its error code.
 *
 * Its own Kafka broker and Redis Cluster, one file at a time like every fault test.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readConfig } from '@wolkvox-chat-stream/config'
import { startRedisCluster, type RedisCluster } from '@wolkvox-chat-stream/dev-stack'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { decodeChatMessage, topics } from '@wolkvox-chat-stream/events'
import { readTopicToEnd } from '@wolkvox-chat-stream/kafka'
import { readRedisTarget, type RedisTarget } from '@wolkvox-chat-stream/redis'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  classifierLines,
  expectTramiteCounts,
  startClassifier,
  stopClusterFile,
  truthSnapshot,
} from '../support/cluster-pipeline.js'
import {
  expectAnswers,
  loggedLines,
  startAggregator,
  startPollerRun,
  stopPollerRun,
  waitForWatermark,
  type RunningPoller,
} from '../support/fault-pipeline.js'
import { startFaultStack, type FaultStack } from '../support/fault-stack.js'
import {
  compareWithTruth,
  expectedMessages,
  newServerCode,
  pollerEnv,
} from '../support/poller-harness.js'
import { dumpRedis, runPoller } from '../support/poller-service-harness.js'
import { timeBudget, uniqueName, waitFor } from '../support/wait-for.js'

const HOUR = 3_600_000
/** The failover test's waits, together: under its timeout, so a stall fails with the poller's log. */
const FAILOVER_BUDGET_MS = 330_000
const USER = 'wcs'
const TOKEN = 'canary-redis-cluster-token-3f9d'
const root = fileURLToPath(new URL('../../', import.meta.url))
/** How many times a consumer's log says a partition's state went back (a failover lost writes). */
const behind = (lines: readonly string[]): number =>
  lines.filter((line) => line.includes('"code":"CONSUMER_STATE_BEHIND"')).length
const report = (line: string): void => {
  process.stderr.write(`[pipeline-redis-cluster] ${line}\n`)
}

describe('the whole pipeline on a Redis Cluster (3 masters, 3 replicas) over TLS as an ACL user', () => {
  let stack: FaultStack
  let cluster: RedisCluster
  let sim: RunningSimulator
  let scratch: string
  /** The Redis variables of every service: the cluster's, REDIS_URL left empty (unset). */
  let redisEnv: Record<string, string>
  let target: RedisTarget
  const services: ConsumerService[] = []
  const pollers: RunningPoller[] = []

  beforeAll(async () => {
    const started = Date.now()
    ;[stack, cluster] = await Promise.all([
      startFaultStack({ nodes: 1 }),
      startRedisCluster({ tls: true, users: [USER] }),
    ])
    redisEnv = cluster.env(USER)
    target = readConfig(redisEnv, (r) => readRedisTarget(r))
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 120, seed: 31 })
    scratch = mkdtempSync(join(tmpdir(), 'pipeline-redis-cluster-'))
    report(
      `Kafka at ${stack.brokers}, Redis Cluster ${cluster.seeds} (TLS, user ${USER}) up in ${Date.now() - started} ms`,
    )
  }, 180_000)

  afterAll(async () => {
    await stopClusterFile({ pollers, services, sim, stack })
    await cluster?.stop()
    if (scratch) rmSync(scratch, { recursive: true, force: true })
  }, 120_000)

  /** The stack as the harnesses take it: Kafka's address, Redis named by `redisEnv`. */
  const on = () => ({ brokers: stack.brokers, redisUrl: '' })
  const startConsumers = async (name: string) => {
    const aggregator = await startAggregator(on(), { name: `${name}-sentiment`, env: redisEnv })
    services.push(aggregator)
    const classifier = await startClassifier(on(), { name: `${name}-tramite`, env: redisEnv })
    services.push(classifier)
    return { aggregator, classifier }
  }

  /** The operation's records on the topic, against the truth of `[startMs, watermark]`. */
  const expectTopicExact = async (server: string, startMs: number, watermark: number) => {
    const records = await readTopicToEnd(stack.kafka, topics.chatMessage.name, {
      timeoutMs: 60_000,
    })
    const events = records
      .map((r) => decodeChatMessage(r.value!))
      .filter((e) => e.server === server)
    const expected = expectedMessages(
      sim.truth({ from: new Date(startMs), to: new Date(watermark) }),
      server,
    )
    const diff = compareWithTruth(events, expected)
    expect(expected.size).toBeGreaterThan(300)
    expect(diff.missing).toEqual([])
    expect(diff.unexpected).toEqual([])
    expect(diff.wrong).toEqual([])
    return {
      expected: expected.size,
      records: events.length,
      repeated: diff.repeated.length,
      raw: records,
    }
  }

  it('runs poller, status, both consumers and rebuild on the cluster: everything equals the reference, and the password shows nowhere', async () => {
    const { aggregator, classifier } = await startConsumers(uniqueName('rc'))
    const startMs = Math.floor((Date.now() - 3 * HOUR) / 1000) * 1000
    const poller = await startPollerRun({
      stack: on(),
      sim,
      token: TOKEN,
      startMs,
      extra: { ...redisEnv, POLL_MAX_WINDOW: '30m' },
    })
    pollers.push(poller)
    await waitForWatermark(poller, Date.now() - 10_000, 180_000)
    // `status` (a process of its own) reads the cluster too.
    const watermark = await stopPollerRun(poller)
    const server = poller.server
    const topic = await expectTopicExact(server, startMs, watermark)
    await expectAnswers(aggregator, server, truthSnapshot(sim, server, startMs, watermark), 120_000)
    const conversations = await expectTramiteCounts({
      classifier,
      sim,
      server,
      fromMs: startMs,
      toMs: watermark,
      timeoutMs: 120_000,
    })

    // A backfill (its progress and runner lease in Redis) of the two hours before, for another
    // operation: its range ends up on the topic exactly.
    const backfilled = newServerCode()
    const to = startMs - HOUR
    const backfill = await runPoller(
      [
        'backfill',
        '--from',
        new Date(to - 2 * HOUR).toISOString(),
        '--to',
        new Date(to).toISOString(),
        '--window',
        '1h',
      ],
      {
        ...pollerEnv({
          server: backfilled,
          token: TOKEN,
          simulatorUrl: sim.url,
          kafkaBrokers: stack.brokers,
          redisUrl: '',
          extra: redisEnv,
        }),
        POLL_BACKFILL_PAUSE: '0s',
      },
    )
    expect(backfill.code, backfill.stderr).toBe(0)
    const filled = await expectTopicExact(backfilled, to - 2 * HOUR, to)

    // The operator's rebuild, on the cluster: the aggregator replays its input and answers the same.
    const rebuilds = aggregator.status().stats.rebuilds
    const out = await runConsumerCli(['rebuild', aggregator.name], redisEnv)
    expect(out).toContain(`Deleted wcs:{${aggregator.name}}:epoch`)
    await waitFor(() => aggregator.status().stats.rebuilds > rebuilds, {
      what: 'the aggregator to rebuild',
      timeoutMs: 60_000,
    })
    await expectAnswers(aggregator, server, truthSnapshot(sim, server, startMs, watermark), 120_000)
    report(
      `cluster pipeline: ${topic.expected} messages, ${topic.records} records, missing 0, repeated ${topic.repeated}, ` +
        `${conversations} conversations classified, rebuilt partitions ${aggregator.status().stats.rebuilds - rebuilds}; ` +
        `backfill of 2 h: ${filled.expected} messages, missing 0`,
    )

    // The password: in no output, log, topic record, Redis key or value.
    const password = cluster.password(USER)
    const dump = await dumpRedis(target)
    expect(dump.keys.length).toBeGreaterThan(10)
    expect(dump.keys.every((key) => key.startsWith('wcs:'))).toBe(true)
    const seen = [
      poller.process.stdout(),
      poller.process.stderr(),
      backfill.stdout,
      backfill.stderr,
      out,
      loggedLines(aggregator).join(''),
      classifierLines(classifier).join(''),
      dump.keys.join('\n'),
      dump.text,
      topic.raw.map((r) => r.value?.toString('latin1') ?? '').join(''),
    ].join('\n')
    expect(seen).not.toContain(password)
    expect(seen).not.toContain(TOKEN)
  })

  it(
    'a master holding the lock and the watermark SIGKILLed mid-run: nothing lost, nothing twice, the watermark never back, no overlapping call',
    { timeout: FAILOVER_BUDGET_MS + 150_000 },
    async () => {
      // Every wait shares the test's time: on a stall, the catch below prints the poller's log.
      const budget = timeBudget(FAILOVER_BUDGET_MS)
      // A step with no bound of its own (a process that does not exit, a start that hangs) fails
      // the test naming it, before vitest's timeout would end the test with nothing said.
      let stage = 'starting the consumers'
      let stallTimer: NodeJS.Timeout | undefined
      const stalled = new Promise<never>((_resolve, reject) => {
        stallTimer = setTimeout(
          () =>
            reject(
              new Error(`stalled ${FAILOVER_BUDGET_MS + 60_000} ms into the test, at: ${stage}`),
            ),
          FAILOVER_BUDGET_MS + 60_000,
        )
      })
      const step = async <T>(name: string, work: Promise<T>): Promise<T> => {
        stage = name
        return Promise.race([work, stalled])
      }
      const { aggregator, classifier } = await step(
        'starting the consumers',
        startConsumers(uniqueName('rf')),
      )
      const server = newServerCode()
      const victim = await step(
        'finding the master of the watermark',
        cluster.masterOf(`wcs:{${server}}:watermark`),
      )
      sim.clearCalls()
      const startMs = Math.floor((Date.now() - 6 * HOUR) / 1000) * 1000
      const poller = await startPollerRun({
        stack: on(),
        sim,
        token: TOKEN,
        startMs,
        server,
        extra: { ...redisEnv, POLL_MAX_WINDOW: '20m' },
      })
      pollers.push(poller)
      // Every status reading: the watermark must never go back, whatever Redis goes through.
      const samples: number[] = []
      let watching = true
      const watch = (async () => {
        while (watching) {
          const w = await poller.status().then(
            (s) => (s.watermark === null ? undefined : Date.parse(s.watermark)),
            () => undefined,
          )
          if (w !== undefined) samples.push(w)
          await new Promise((resolve) => setTimeout(resolve, 150))
        }
      })()
      try {
        await step(
          'waiting for the first two hours',
          waitForWatermark(poller, startMs + 2 * HOUR, budget.within(120_000)),
        )
        const killedAt = Date.now()
        const before = samples.at(-1) ?? startMs
        victim.kill('SIGKILL')
        await step('waiting for the replica promotion', cluster.waitHealthy(budget.within(30_000)))
        const promotedMs = Date.now() - killedAt
        const moved = await step(
          'waiting for the watermark to move after the kill',
          waitForWatermark(poller, before + 1, budget.within(120_000)),
        )
        const recoveredMs = Date.now() - killedAt
        await step(
          'waiting for the watermark to reach the present',
          waitForWatermark(poller, Date.now() - 10_000, budget.within(120_000)),
        )
        watching = false
        await step('ending the watermark readings', watch)
        const watermark = await step('stopping the poller (SIGTERM)', stopPollerRun(poller))
        const topic = await step('reading the topic', expectTopicExact(server, startMs, watermark))
        await step(
          'waiting for the aggregates',
          expectAnswers(
            aggregator,
            server,
            truthSnapshot(sim, server, startMs, watermark),
            budget.within(120_000),
          ),
        )
        const conversations = await step(
          'waiting for the trámite counts',
          expectTramiteCounts({
            classifier,
            sim,
            server,
            fromMs: startMs,
            toMs: watermark,
            timeoutMs: budget.within(120_000),
          }),
        )
        const back = samples.filter((w, i) => i > 0 && w < samples[i - 1]!)
        expect(back).toEqual([])
        expect(sim.overlaps()).toEqual([])
        report(
          `failover: killed master :${victim.port} at watermark ${new Date(before).toISOString()}; replica promoted in ${promotedMs} ms; ` +
            `watermark moved again ${recoveredMs} ms after the kill (to ${new Date(moved).toISOString()}); ` +
            `${topic.expected} messages, missing 0, repeated ${topic.repeated}, aggregates and ${conversations} conversations exact (double counted 0), ` +
            `${samples.length} watermark readings, none back, ${sim.calls().length} upstream calls, overlapping 0; ` +
            `schedule workers restarted (POLL_WORKER_STALLED) ${poller.process.stderr().split('POLL_WORKER_STALLED').length - 1}; ` +
            `partitions whose state went back (CONSUMER_STATE_BEHIND): aggregator ${behind(loggedLines(aggregator))}, classifier ${behind(classifierLines(classifier))}`,
        )
        // The killed node comes back as a replica, and the cluster is whole again.
        await step('restarting the killed node', victim.start())
        await step('waiting for the whole cluster', cluster.waitHealthy(30_000))
      } catch (error) {
        report(
          `failed after ${FAILOVER_BUDGET_MS - budget.leftMs()} ms, at: ${stage}; the last watermark readings ` +
            `${samples
              .slice(-5)
              .map((w) => new Date(w).toISOString())
              .join(', ')}; the poller's log:\n` +
            poller.process.stderr().slice(-6_000),
        )
        throw error
      } finally {
        clearTimeout(stallTimer)
        watching = false
        await watch
      }
    },
  )

  it('stops the poller and a consumer at start with REDIS_AUTH_FAILED for a wrong password and REDIS_TLS_FAILED for a CA that did not sign the nodes', async () => {
    const wrongPassword = join(scratch, 'wrong.password')
    writeFileSync(wrongPassword, 'not-the-password', { mode: 0o600 })
    const otherCa = join(scratch, 'other-ca.pem')
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(scratch, 'other-ca-key.pem'),
        '-out',
        otherCa,
        '-days',
        '1',
        '-subj',
        '/CN=not-the-cluster-ca',
      ],
      { stdio: 'ignore' },
    )
    const cases: { what: string; env: Record<string, string>; code: string }[] = [
      {
        what: 'a wrong password',
        env: { REDIS_PASSWORD_FILE: wrongPassword },
        code: 'REDIS_AUTH_FAILED',
      },
      { what: 'an unknown CA', env: { REDIS_TLS_CA_FILE: otherCa }, code: 'REDIS_TLS_FAILED' },
    ]
    for (const c of cases) {
      const env = pollerEnv({
        server: newServerCode(),
        token: TOKEN,
        simulatorUrl: sim.url,
        kafkaBrokers: stack.brokers,
        redisUrl: '',
        extra: { ...redisEnv, ...c.env },
      })
      const started = Date.now()
      const result = await runPoller(['once'], env)
      const tookMs = Date.now() - started
      expect(result.code, result.stderr).toBe(1)
      expect(result.stderr).toContain(c.code)
      expect(result.stderr).not.toContain(cluster.password(USER))
      expect(tookMs).toBeLessThan(30_000)

      // In this process too: a TLS socket refused in its handshake may emit a second error,
      // which packages/redis listens to (ListenedTlsConnector); uncaught, it would fail this file.
      const consumerStart = Date.now()
      const failure = await startAggregator(on(), {
        name: uniqueName('rc-refused'),
        env: { ...redisEnv, ...c.env },
      }).then(
        (service) => {
          services.push(service)
          return undefined
        },
        (error: unknown) => error,
      )
      expect(isAppError(failure) ? failure.code : failure).toBe(c.code)
      report(
        `${c.what}: poller exit 1 after ${tookMs} ms (${c.code}); aggregator refused after ${Date.now() - consumerStart} ms`,
      )
    }
  })
})

/** `npm run consumer -- <args>` with exactly `env` (plus PATH and HOME); its output. */
async function runConsumerCli(args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', 'packages/service-kit/src/cli.ts', ...args],
    {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  expect(code, out).toBe(0)
  return out
}
