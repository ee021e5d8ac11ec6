/*
 * The chaos run (issue 23), in the spirit of Jepsen: the whole pipeline as processes, random
 * overlapping faults drawn from a seed, then a checker that proves the invariants. Started by
 * `npm run chaos -- --seed N --minutes M` (test/chaos/run.ts), which sets CHAOS_* for this file.
 *
 * The pipeline: a Kafka of CHAOS_NODES nodes (3: replication factor 3, min.insync.replicas 2) and
 * a redis-server, both private; the simulator with three operations and live traffic, behind a
 * proxy that can slow the link; two `poller run` replicas polling all three operations; two
 * sentiment aggregators, two trámite classifiers and two chat-quality services (one group each).
 *
 * Faults (plan.ts): SIGKILL or SIGSTOP/SIGCONT of any service process, a Kafka node killed and
 * restarted, Redis restarted (its data lost) or flushed, the upstream answering 5xx, 429, slowly,
 * truncated or cut for some calls, and a delay on the link to the upstream.
 *
 * After the faults, everything settles and the checker collects every violation of:
 *   1. every message of the simulator's truth on the topic exactly once per event_id (fields
 *      exact), nothing foreign;
 *   2. both aggregators answer the reference computed from the truth, both classifiers count
 *      the trámites the reference counts, and both quality services count each conversation of
 *      their output topic exactly once (per agent: conversations, first-response standard met,
 *      protocol checks passed, equal to the latest records);
 *   3. no two upstream calls on one token at once (the simulator's call record);
 *   4. no watermark ever seen ahead of what the cluster had acknowledged;
 *   5. every dead-letter topic empty (no fault here sends malformed rows);
 *   6. every operation caught up, every poller stopped cleanly.
 * It prints the schedule and the verdict, writes both to CHAOS_OUT/chaos-<seed>.{json,txt}, and
 * fails on any violation.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '@wolkvox-chat-stream/dev-stack'
import { chatQualityCodec, productTopics, topics } from '@wolkvox-chat-stream/events'
import { readTopicToEnd, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { shippedRulesFile } from '@wolkvox-chat-stream/tramite-classifier'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { everyNode, watchWatermark, type WatermarkWatch } from '../support/cluster-pipeline.js'
import { consumerTestEnv, type RunningPoller } from '../support/fault-pipeline.js'
import { startFaultStack, topicEndOffsets, type FaultStack } from '../support/fault-stack.js'
import { chatMessagesOf, compareWithTruth, expectedMessages } from '../support/poller-harness.js'
import { getJson, runPoller, type StatusDocument } from '../support/poller-service-harness.js'
import { httpSnapshot, referenceSnapshot } from '../support/sentiment-reference.js'
import {
  expectedCounts,
  expectedRecords,
  rulesOf,
  truthEvents,
  type Count,
} from '../support/tramite-reference.js'
import { serviceProcess, type ServiceProcess } from './cast.js'
import {
  countByKind,
  describeFault,
  faultEndMs,
  planFaults,
  PROCESSES,
  type Fault,
  type ProcessName,
} from './plan.js'
import { startSlowProxy, type SlowProxy } from './slow-proxy.js'

const seed = Number(process.env.CHAOS_SEED ?? '1')
const minutes = Number(process.env.CHAOS_MINUTES ?? '1')
const nodes = Number(process.env.CHAOS_NODES ?? '3')
const outDir = resolve(process.env.CHAOS_OUT ?? 'chaos-results')
const chaosMs = Math.round(minutes * 60_000)
const TOKENS = ['chaos-token-a-4d1e9b', 'chaos-token-b-71c2aa', 'chaos-token-c-e05f3d']
const SERVERS = ['710001', '710002', '710003']
const SETTLE_LAG_MS = 5_000
/** How long the pipeline may take to settle after the last fault, per step. */
const SETTLE_MS = 180_000

const say = (line: string): void => void process.stderr.write(`[chaos ${seed}] ${line}\n`)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** A fault as carried out: when it really started, and what happened. */
interface Executed {
  fault: string
  startedAtMs: number
  outcome: string
}

describe(`chaos run, seed ${seed}, ${minutes} minute(s), ${nodes} Kafka node(s)`, () => {
  let stack: FaultStack
  let sim: RunningSimulator
  let proxy: SlowProxy
  const procs = new Map<ProcessName, ServiceProcess>()
  const pollerEnvs: Record<string, string>[] = []
  const watches: WatermarkWatch[] = []
  const runDir = join(outDir, `chaos-${seed}`)
  let startMs = 0

  beforeAll(async () => {
    mkdirSync(runDir, { recursive: true })
    const t0 = Date.now()
    stack = await startFaultStack({ nodes })
    const { brokers, redisUrl } = everyNode(stack)
    // The data follows the seed too: the same seed replays the same traffic.
    sim = await startSimulator({ tokens: TOKENS, chatsPerHour: 300, seed })
    proxy = await startSlowProxy({ host: '127.0.0.1', port: sim.port })
    startMs = Math.floor((Date.now() - 15 * 60_000) / 1000) * 1000
    const opsFile = join(runDir, 'operations.json')
    writeFileSync(
      opsFile,
      JSON.stringify(SERVERS.map((server, i) => ({ server, tokenEnv: `CHAOS_TOKEN_${i}` }))),
    )
    const pollerEnv = {
      ...Object.fromEntries(TOKENS.map((t, i) => [`CHAOS_TOKEN_${i}`, t])),
      WOLKVOX_OPERATIONS_FILE: opsFile,
      WOLKVOX_BASE_URL: proxy.url,
      KAFKA_BROKERS: brokers,
      REDIS_URL: redisUrl,
      POLL_START: new Date(startMs).toISOString(),
      POLL_INTERVAL: '2s',
      POLL_SWEEP_INTERVAL: '0s',
      POLL_LOCK_TTL: '3s',
      POLL_LOCK_WAIT: '60s',
      POLL_SETTLE_LAG: `${SETTLE_LAG_MS / 1000}s`,
      POLL_LOOKBACK: '10s',
      POLL_SHUTDOWN_TIMEOUT: '20s',
      LOG_LEVEL: 'info',
    }
    const consumerEnv = { ...consumerTestEnv({ brokers, redisUrl }), LOG_LEVEL: 'info' }
    for (const name of PROCESSES) {
      const [kind, n] = name.split('-') as [
        'poller' | 'sentiment' | 'classifier' | 'quality',
        string,
      ]
      const env =
        kind === 'poller'
          ? pollerEnv
          : kind === 'sentiment'
            ? { ...consumerEnv, SENTIMENT_SWEEP_INTERVAL: '1s' }
            : kind === 'quality'
              ? { ...consumerEnv, QUALITY_SWEEP_INTERVAL: '500ms' }
              : {
                  ...consumerEnv,
                  CLASSIFIER_RULES_FILE: shippedRulesFile,
                  CLASSIFIER_SWEEP_INTERVAL: '500ms',
                }
      if (kind === 'poller') pollerEnvs.push({ ...env, HTTP_PORT: '0', LOG_LEVEL: 'warn' })
      const p = serviceProcess({ name, kind, env, httpPort: await freePort(), logDir: runDir })
      procs.set(name, p)
      p.start()
      say(`${name} started (port ${p.httpPort}${n === '1' ? '' : ''})`)
    }
    for (const server of SERVERS) {
      watches.push(watchWatermark({ kafka: stack.kafka, poller: anyPoller(server), sim, startMs }))
    }
    say(`pipeline up in ${Date.now() - t0} ms; polling from ${new Date(startMs).toISOString()}`)
  }, 300_000)

  afterAll(async () => {
    for (const watch of watches) await watch.close().catch(() => undefined)
    await Promise.all([...procs.values()].map((p) => p.stop(10_000)))
    await proxy?.close()
    await sim?.close()
    await stack?.stop()
  }, 180_000)

  /** An operation's status from whichever poller answers (one may be killed or paused). */
  function anyPoller(server: string): RunningPoller {
    const status = async (): Promise<StatusDocument['operations'][number]> => {
      const ports = ['poller-1', 'poller-2'].map((n) => procs.get(n as ProcessName)!.httpPort)
      let last: unknown
      for (const port of ports) {
        try {
          const doc = await getJson<StatusDocument>(
            `http://127.0.0.1:${port}/status?server=${server}`,
          )
          return doc.operations[0]!
        } catch (error) {
          last = error
        }
      }
      throw last
    }
    return { server, status } as unknown as RunningPoller
  }

  /** Carries out one fault, its recovery included; never throws (the outcome says what failed). */
  async function carryOut(fault: Fault): Promise<string> {
    try {
      switch (fault.kind) {
        case 'kill': {
          const p = procs.get(fault.target)!
          if (!p.signal('SIGKILL')) return 'not running'
          await p.exited()
          await sleep(fault.downMs)
          p.start()
          return 'killed and started again'
        }
        case 'pause': {
          const p = procs.get(fault.target)!
          if (!p.signal('SIGSTOP')) return 'not running'
          await sleep(fault.downMs)
          p.signal('SIGCONT')
          return 'stopped and continued'
        }
        case 'broker-kill': {
          if (stack.cluster) {
            await stack.cluster.kill(fault.node, 'SIGKILL')
            await sleep(fault.downMs)
            await stack.cluster.start(fault.node)
          } else {
            await stack.broker.stopProcess()
            await sleep(fault.downMs)
            await stack.broker.start()
          }
          return 'killed and started again'
        }
        case 'redis-restart': {
          await stack.redis.stopProcess()
          await sleep(fault.downMs)
          await stack.redis.start()
          return 'stopped and started empty'
        }
        case 'redis-flush': {
          const redis = createRedis(stack.redisUrl, { name: 'chaos-flush' })
          try {
            await waitUntilReady(redis, { timeoutMs: 10_000 })
            await redis.flushall()
          } finally {
            redis.disconnect()
          }
          return 'flushed'
        }
        case 'upstream': {
          const spec =
            fault.mode === 'slow'
              ? { kind: 'slow' as const, chunkBytes: 4_096, intervalMs: 50 }
              : { kind: fault.mode }
          sim.injectFaults({ ...spec, count: fault.calls })
          return 'queued'
        }
        case 'network-delay': {
          proxy.setDelay(fault.delayMs)
          await sleep(fault.downMs)
          proxy.setDelay(0)
          return 'delayed, then cleared'
        }
      }
    } catch (error) {
      return `failed: ${error instanceof Error ? error.message : String(error)}`
    }
  }

  it(
    'keeps every invariant through random overlapping faults',
    async () => {
      const plan = planFaults({ seed, chaosMs, nodes })
      say(`schedule (${plan.length} faults over ${chaosMs / 1000} s):`)
      for (const fault of plan) say(`  ${describeFault(fault)}`)
      const violations: string[] = []
      const figures: Record<string, unknown> = {}

      // A little traffic before the first fault: every service has joined its group.
      await sleep(10_000)
      const chaosStart = Date.now()
      const executed: Executed[] = []
      await Promise.all(
        plan.map(async (fault) => {
          await sleep(Math.max(0, chaosStart + fault.atMs - Date.now()))
          const startedAtMs = Date.now() - chaosStart
          const outcome = await carryOut(fault)
          executed.push({ fault: describeFault(fault), startedAtMs, outcome })
          if (outcome.startsWith('failed'))
            violations.push(`fault not carried out: ${describeFault(fault)}: ${outcome}`)
        }),
      )
      const lastEnd = Math.max(0, ...plan.map(faultEndMs))
      sim.clearFaults()
      proxy.setDelay(0)
      const chaosEnd = Date.now()
      say(
        `faults over after ${(chaosEnd - chaosStart) / 1000} s (planned span ${lastEnd / 1000} s); settling`,
      )

      // Every process runs: a fault's recovery started each again; one that died by itself did not.
      for (const [name, p] of procs) {
        if (!p.running()) {
          violations.push(
            `${name} was not running after the faults (exit ${JSON.stringify(await p.exited())}):\n${p.tail(15)}`,
          )
          p.start()
        }
      }
      if (stack.cluster)
        await stack.cluster
          .waitForFullIsr({ timeoutMs: SETTLE_MS })
          .catch((e: unknown) => violations.push(`cluster not back in sync: ${String(e)}`))

      // Every process ready again before anything is checked or stopped: a poller restarted by
      // the last fault may still be loading, and a SIGTERM then ends it by the signal.
      const readyBy = Date.now() + SETTLE_MS
      for (const [name, p] of procs) {
        const ready = await settle(
          () =>
            fetch(`http://127.0.0.1:${p.httpPort}/readyz`, {
              signal: AbortSignal.timeout(5_000),
            }).then((r) => r.status),
          200,
          readyBy,
        )
        if (!ready.ok)
          violations.push(`${name} not ready after the faults (${ready.what}):\n${p.tail(15)}`)
      }

      // 6. Each operation catches up past the end of the faults.
      const caughtUpAt = chaosEnd - SETTLE_LAG_MS
      const settleStart = Date.now()
      for (const server of SERVERS) {
        const op = anyPoller(server)
        const deadline = Date.now() + SETTLE_MS
        let watermark: string | null = null
        while (Date.now() < deadline) {
          watermark = await op.status().then(
            (s) => s.watermark,
            () => null,
          )
          if (watermark !== null && Date.parse(watermark) >= caughtUpAt) break
          await sleep(500)
        }
        if (watermark === null || Date.parse(watermark) < caughtUpAt) {
          const status = await op.status().catch((e: unknown) => String(e))
          violations.push(
            `operation ${server} did not catch up within ${SETTLE_MS / 1000} s: watermark ${watermark}; status ${JSON.stringify(status).slice(0, 800)}`,
          )
        }
      }
      figures['catch-up after the faults (s)'] = (Date.now() - settleStart) / 1000

      // The pollers stop cleanly (SIGTERM: the window in flight finishes), then the final watermarks.
      for (const name of ['poller-1', 'poller-2'] as const) {
        const exit = await procs.get(name)!.stop(60_000)
        if (exit.code !== 0)
          violations.push(
            `${name} did not stop cleanly: ${JSON.stringify(exit)}\n${procs.get(name)!.tail(15)}`,
          )
      }
      const watermarks = new Map<string, number>()
      for (const server of SERVERS) {
        const status = await runPoller(['status', '--server', server], pollerEnvs[0]!)
        const doc = JSON.parse(status.stdout) as StatusDocument
        const watermark = doc.operations[0]?.watermark ?? null
        if (watermark === null) violations.push(`operation ${server}: no watermark at the end`)
        else watermarks.set(server, Date.parse(watermark))
      }

      // 4. No watermark ahead of the acknowledged data.
      for (const [i, watch] of watches.entries()) {
        const verdict = await watch.verify()
        figures[`watermark readings ${SERVERS[i]}`] =
          `${verdict.samples} read, ${verdict.checked} checked, ${verdict.unchecked} unreadable`
        for (const line of verdict.ahead)
          violations.push(`watermark of ${SERVERS[i]} ahead of the acknowledged data: ${line}`)
      }

      // 1–2. The topic against the truth, then the consumers against the references.
      const rules = rulesOf(shippedRulesFile)
      // One budget for every consumer answer: a broken one does not wait its own SETTLE_MS each.
      const answersBy = Date.now() + SETTLE_MS
      let expectedTotal = 0
      let repeatedTotal = 0
      for (const server of SERVERS) {
        const toMs = watermarks.get(server)
        if (toMs === undefined) continue
        const truth = sim.truth({ from: new Date(startMs), to: new Date(toMs) })
        const expected = expectedMessages(truth, server)
        const events = await chatMessagesOf(stack.brokers, server)
        const diff = compareWithTruth(events, expected)
        expectedTotal += expected.size
        repeatedTotal += diff.repeated.length
        // A message past the watermark is allowed when it is the truth's: a window published whose
        // watermark did not move yet (at-least-once). Anything else is foreign.
        const later = expectedMessages(
          sim.truth({ from: new Date(startMs), to: new Date() }),
          server,
        )
        const foreign = diff.unexpected.filter((id) => !later.has(id))
        const beyond = diff.unexpected.length - foreign.length
        if (expected.size === 0)
          violations.push(`operation ${server}: the truth holds no message (nothing was tested)`)
        if (diff.missing.length > 0)
          violations.push(
            `operation ${server}: ${diff.missing.length} messages of the truth missing from the topic, e.g. ${diff.missing.slice(0, 3).join(', ')}`,
          )
        if (foreign.length > 0)
          violations.push(
            `operation ${server}: ${foreign.length} foreign messages on the topic, e.g. ${foreign.slice(0, 3).join(', ')}`,
          )
        if (diff.wrong.length > 0)
          violations.push(
            `operation ${server}: ${diff.wrong.length} fields differ from the truth, e.g. ${diff.wrong.slice(0, 3).join(', ')}`,
          )
        figures[`operation ${server}`] =
          `${expected.size} messages expected, ${events.length} records, ${diff.repeated.length} event ids repeated, ${beyond} past the watermark`

        // The aggregators' reference: from the truth alone, unless messages past the watermark are
        // on the topic (then from the topic's records, which 1 just proved are the truth's).
        const reference =
          beyond === 0
            ? referenceSnapshot(truthEvents(truth, server), server)
            : referenceSnapshot(events, server)
        for (const name of ['sentiment-1', 'sentiment-2'] as const) {
          const port = procs.get(name)!.httpPort
          const settled = await settle(() => httpSnapshot(port, server), reference, answersBy)
          if (!settled.ok)
            violations.push(
              `${name} does not answer the reference for ${server} (${settled.what}):\n${procs.get(name)!.tail(10)}`,
            )
        }
        if (beyond === 0) {
          const want = expectedCounts(expectedRecords(truthEvents(truth, server), rules).values())
          for (const name of ['classifier-1', 'classifier-2'] as const) {
            const port = procs.get(name)!.httpPort
            const counts = async (): Promise<Count[] | undefined> =>
              (
                await getJson<{ counts?: Count[] }>(
                  `http://127.0.0.1:${port}/operations/${server}/tramites`,
                )
              ).counts
            const settled = await settle(counts, want, answersBy)
            if (!settled.ok)
              violations.push(
                `${name} does not count the reference trámites for ${server} (${settled.what}):\n${procs.get(name)!.tail(10)}`,
              )
          }
        } else {
          figures[`trámites ${server}`] = 'not compared: messages past the watermark'
        }

        // Quality: the counters of each conversation equal its latest record, counted once.
        const conversationsOnTopic = new Set(events.map((e) => e.conn_id))
        let quality: { want: QualityCounts; records: number } | undefined
        for (const name of ['quality-1', 'quality-2'] as const) {
          const port = procs.get(name)!.httpPort
          const settled = await settleWith(async () => {
            quality = qualityReference(await qualityRecordsOf(stack.kafka, server))
            return { got: await qualityCountsOf(port, server), want: quality.want }
          }, answersBy)
          if (!settled.ok)
            violations.push(
              `${name} does not count its records exactly once for ${server} (${settled.what}):\n${procs.get(name)!.tail(10)}`,
            )
        }
        const records = await qualityRecordsOf(stack.kafka, server)
        const strangers = [...records.keys()].filter((c) => !conversationsOnTopic.has(c))
        if (strangers.length > 0)
          violations.push(
            `operation ${server}: ${strangers.length} quality records of conversations not on the message topic, e.g. ${strangers.slice(0, 3).join(', ')}`,
          )
        if (records.size === 0)
          violations.push(`operation ${server}: no quality record (nothing was tested)`)
        figures[`quality ${server}`] = `${records.size} conversations with a record`
      }
      figures['messages expected'] = expectedTotal
      figures['event ids re-published'] = repeatedTotal

      // 3. No overlapping calls on a token.
      const overlaps = sim.overlaps()
      figures['upstream calls'] = sim.calls().length
      if (overlaps.length > 0)
        violations.push(
          `${overlaps.length} overlapping upstream calls on one token, e.g. ${JSON.stringify(overlaps[0])}`,
        )

      // 5. Dead letters.
      for (const topic of productTopics.filter((t) => t.name.endsWith('.dlq'))) {
        const records = await topicEndOffsets(stack.kafka, topic.name).catch(() => 0)
        if (records > 0) violations.push(`${records} records on ${topic.name}`)
      }
      figures['restarts'] = Object.fromEntries([...procs].map(([n, p]) => [n, p.starts() - 1]))

      const verdict = {
        seed,
        minutes,
        nodes,
        at: new Date(chaosStart).toISOString(),
        faults: countByKind(plan),
        schedule: plan.map(describeFault),
        executed: executed.sort((a, b) => a.startedAtMs - b.startedAtMs),
        figures,
        violations,
        verdict: violations.length === 0 ? 'PASS' : 'FAIL',
      }
      const text = [
        `chaos run: seed ${seed}, ${minutes} minute(s) of faults, ${nodes} Kafka node(s), ${verdict.at}`,
        `replay: npm run chaos -- --seed ${seed} --minutes ${minutes} --nodes ${nodes}`,
        '',
        'faults as carried out:',
        ...verdict.executed.map(
          (e) => `  ${e.fault}  [${e.outcome}; began at +${(e.startedAtMs / 1000).toFixed(1)}s]`,
        ),
        '',
        `fault counts: ${JSON.stringify(verdict.faults)}`,
        ...Object.entries(figures).map(
          ([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`,
        ),
        '',
        violations.length === 0
          ? 'verdict: PASS (no violation)'
          : `verdict: FAIL, ${violations.length} violation(s):`,
        ...violations.map((v) => `  - ${v}`),
      ].join('\n')
      writeFileSync(join(outDir, `chaos-${seed}.json`), `${JSON.stringify(verdict, null, 2)}\n`)
      writeFileSync(join(outDir, `chaos-${seed}.txt`), `${text}\n`)
      say(
        `\n${text}\n(written to ${join(outDir, `chaos-${seed}.txt`)} and .json; service logs in ${runDir})`,
      )
      expect(violations).toEqual([])
    },
    chaosMs + 20 * 60_000,
  )
})

/** Per agent: conversations counted, first-response standard met, and each check passed. */
type QualityCounts = Record<
  string,
  { conversations: number; met: number; checks: Record<string, number> }
>

/** The latest quality record of each of `server`'s conversations on the output topic. */
async function qualityRecordsOf(
  kafka: Kafka,
  server: string,
): Promise<Map<string, ReturnType<typeof chatQualityCodec.decode>>> {
  const latest = new Map<string, ReturnType<typeof chatQualityCodec.decode>>()
  for (const r of await readTopicToEnd(kafka, topics.chatQuality.name)) {
    const key = r.key?.toString('utf8') ?? ''
    if (!key.startsWith(`${server}|`) || r.value === null) continue
    latest.set(key.slice(server.length + 1), chatQualityCodec.decode(r.value))
  }
  return latest
}

/** What the counters must say, from the records alone. */
function qualityReference(
  records: ReadonlyMap<string, ReturnType<typeof chatQualityCodec.decode>>,
): {
  want: QualityCounts
  records: number
} {
  const want: QualityCounts = {}
  for (const record of records.values()) {
    const a = (want[record.agent_key] ??= { conversations: 0, met: 0, checks: {} })
    a.conversations++
    if (record.meets_first_response === true) a.met++
    for (const c of record.checks) a.checks[c.check] = (a.checks[c.check] ?? 0) + (c.passed ? 1 : 0)
  }
  return { want, records: records.size }
}

/** The same figures as one quality service answers them (its per-agent totals). */
async function qualityCountsOf(port: number, server: string): Promise<QualityCounts> {
  const body = await getJson<{
    agents: {
      agent_key: string
      totals: {
        conversations: number
        first_response: { met: number }
        checks: { check: string; passed: number }[]
      }
    }[]
  }>(`http://127.0.0.1:${port}/operations/${server}/quality/agents`)
  const out: QualityCounts = {}
  for (const a of body.agents) {
    if (a.totals.conversations === 0) continue
    out[a.agent_key] = {
      conversations: a.totals.conversations,
      met: a.totals.first_response.met,
      checks: Object.fromEntries(a.totals.checks.map((c) => [c.check, c.passed])),
    }
  }
  return out
}

/** Like {@link settle}, when what is wanted moves too: `read()` gives both each time. */
async function settleWith<T>(
  read: () => Promise<{ got: T; want: T }>,
  byMs: number,
): Promise<{ ok: boolean; what: string }> {
  const started = Date.now()
  const deadline = Math.max(byMs, started + 5_000)
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const { got, want } = await read()
      if (isDeepStrictEqual(got, want)) return { ok: true, what: 'equal' }
      last = { got, want }
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    await sleep(1_000)
  }
  return {
    ok: false,
    what: `after ${Math.round((Date.now() - started) / 1000)} s, last ${JSON.stringify(last).slice(0, 600)}`,
  }
}

/** Waits until `read()` deep-equals `want` (until `byMs`, at least 5 s); says how the last read differed. */
async function settle<T>(
  read: () => Promise<T>,
  want: T,
  byMs: number,
): Promise<{ ok: boolean; what: string }> {
  const started = Date.now()
  const deadline = Math.max(byMs, started + 5_000)
  let last: unknown
  while (Date.now() < deadline) {
    try {
      last = await read()
      if (isDeepStrictEqual(last, want)) return { ok: true, what: 'equal' }
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    await sleep(1_000)
  }
  return {
    ok: false,
    what: `after ${Math.round((Date.now() - started) / 1000)} s, got ${JSON.stringify(last).slice(0, 300)}, want ${JSON.stringify(want).slice(0, 300)}`,
  }
}
