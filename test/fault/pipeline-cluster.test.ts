/*
 * Fault (issue 17): the whole pipeline on a replicated cluster, three KRaft nodes with replication
 * factor 3 and min.insync.replicas 2, as users run Kafka. The poller (`run`, as a process) polls
 * the simulator and produces; the sentiment aggregator and the trámite classifier (in this
 * process) consume throughout. Each scenario ends with the topic equal to the simulator's ground
 * truth (nothing missing, nothing foreign; a repeated event id only as a re-publication), the
 * aggregates and trámite counts equal to their references, and the poller's watermark never seen
 * ahead of what the cluster had acknowledged:
 * 1. no fault;
 * 2. the leader of a message partition SIGKILLed mid-produce, then (with it back) another node
 *    SIGKILLed while fresh consumers drain the topic;
 * 3. a rolling restart (SIGTERM, start, full ISR, one node at a time) while the pipeline runs;
 * 4. two nodes down (below the minimum in sync): the poller fails its windows with
 *    KAFKA_UNAVAILABLE and keeps its watermark, then catches up once a node is back.
 *
 * One cluster for the file (startFaultStack), one file at a time like every fault test.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { isAlive, type KafkaCluster } from '@wolkvox-chat-stream/dev-stack'
import { productTopics, topics } from '@wolkvox-chat-stream/events'
import type { Admin } from '@wolkvox-chat-stream/kafka'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import type { TramiteClassifier } from '@wolkvox-chat-stream/tramite-classifier'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  everyNode,
  stopClusterFile,
  expectTramiteCounts,
  lastErrorOf,
  metricValue,
  startClassifier,
  truthSnapshot,
  watchWatermark,
  type WatermarkVerdict,
  type WatermarkWatch,
} from '../support/cluster-pipeline.js'
import {
  expectAnswers,
  expectExactPipeline,
  startAggregator,
  startHookedAggregator,
  startPollerRun,
  stopPollerRun,
  waitForWatermark,
  type PipelineOutcome,
  type RunningPoller,
} from '../support/fault-pipeline.js'
import { startFaultStack, topicEndOffsets, type FaultStack } from '../support/fault-stack.js'
import { waitFor } from '../support/wait-for.js'

const NODES = 3
const HOUR = 3_600_000
const MESSAGES = topics.chatMessage.name
const PRODUCT_TOPICS = productTopics.map((t) => t.name)
/** One token per scenario: each is an operation of its own, with a lock of its own. */
const TOKENS = {
  whole: 'canary-cluster-whole-token-3a51',
  leader: 'canary-cluster-leader-token-8c02',
  rolling: 'canary-cluster-rolling-token-61d7',
  twoDown: 'canary-cluster-twodown-token-e94b',
}

/** The JSON log lines of a process's stderr (the services log there). */
function logLines(text: string): { msg?: string; err?: { code?: string } }[] {
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as { msg?: string; err?: { code?: string } }]
    } catch {
      return []
    }
  })
}

const floorSecond = (ms: number): number => Math.floor(ms / 1000) * 1000
const report = (line: string): void => {
  process.stderr.write(`[pipeline-cluster] ${line}\n`)
}

describe('the whole pipeline on a three-node KRaft cluster (replication factor 3, min.insync.replicas 2)', () => {
  let stack: FaultStack
  let sim: RunningSimulator
  let admin: Admin
  /** Consumers for the whole file: they live through every scenario's faults. */
  let aggregator: ConsumerService
  let classifier: TramiteClassifier
  const services: ConsumerService[] = []
  const pollers: RunningPoller[] = []
  const watches: WatermarkWatch[] = []

  beforeAll(async () => {
    const started = Date.now()
    stack = await startFaultStack({ nodes: NODES })
    admin = stack.kafka.admin()
    await admin.connect()
    // About 4,500 messages per hour of history.
    sim = await startSimulator({ tokens: Object.values(TOKENS), chatsPerHour: 400, seed: 71 })
    aggregator = await startAggregator(everyNode(stack))
    services.push(aggregator)
    classifier = await startClassifier(everyNode(stack))
    services.push(classifier)
    report(
      `${NODES} nodes at ${stack.bootstrap.join(',')}: cluster ready in ${stack.broker.readyMs()} ms, with redis, topics and consumers ${Date.now() - started} ms`,
    )
  }, 240_000)

  afterAll(async () => {
    for (const watch of watches) await watch.close().catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
    // Every node's JVM is gone, even after a failed test.
    await stopClusterFile({ pollers, services, sim, stack })
  }, 120_000)

  // A scenario starts on the whole cluster, even after an earlier one failed with a node down.
  beforeEach(async () => {
    const c = cluster()
    if (c.nodes.some((n) => !n.running())) await c.start()
    await c.waitForFullIsr({ topics: PRODUCT_TOPICS, timeoutMs: 120_000 })
  }, 180_000)

  function cluster(): KafkaCluster {
    const c = stack.cluster
    if (!c) throw new Error('startFaultStack({ nodes: 3 }) returned no cluster')
    return c
  }

  /** The poller's `run` on every node's address, its watermark watched. */
  async function startRun(token: string, startMs: number, extra: Record<string, string>) {
    const poller = await startPollerRun({ stack: everyNode(stack), sim, token, startMs, extra })
    pollers.push(poller)
    const watch = watchWatermark({ kafka: stack.kafka, poller, sim, startMs })
    watches.push(watch)
    return { poller, watch }
  }

  /** The leader of `partition` of the message topic, as the cluster's metadata says now. */
  async function leaderOf(partition: number): Promise<number> {
    return waitFor(
      async () => {
        const metadata = await admin.fetchTopicMetadata({ topics: [MESSAGES] })
        const leader = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition)
        return leader !== undefined && leader.leader > 0 ? leader.leader : null
      },
      { what: `the leader of ${MESSAGES}/${partition}`, timeoutMs: 30_000, intervalMs: 200 },
    )
  }

  async function killNode(nodeId: number, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const pid = cluster().node(nodeId).pid()
    await cluster().kill(nodeId, signal)
    expect(isAlive(pid), `node ${nodeId} (pid ${pid}) after ${signal}`).toBe(false)
  }

  /** Records of the message topic written since `base` (every operation's). */
  const writtenSince = async (base: number): Promise<number> =>
    (await topicEndOffsets(stack.kafka, MESSAGES)) - base

  /** The exact end state: topic = truth, every aggregator = reference, every classifier = reference. */
  async function expectExact(input: {
    poller: RunningPoller
    startMs: number
    watermarkMs: number
    aggregators: ConsumerService[]
    classifiers: TramiteClassifier[]
  }): Promise<PipelineOutcome & { chats: number }> {
    const outcome = await expectExactPipeline({
      stack,
      sim,
      server: input.poller.server,
      fromMs: input.startMs,
      toMs: input.watermarkMs,
      aggregators: input.aggregators,
    })
    let chats = 0
    for (const c of input.classifiers) {
      chats = await expectTramiteCounts({
        classifier: c,
        sim,
        server: input.poller.server,
        fromMs: input.startMs,
        toMs: input.watermarkMs,
      })
    }
    return { ...outcome, chats }
  }

  /** {@link stopPollerRun}, failing clearly when the poller does not exit within a minute. */
  async function stopWithin(poller: RunningPoller, timeoutMs = 60_000): Promise<number> {
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        stopPollerRun(poller),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `poller ${poller.server} still running ${timeoutMs} ms after SIGTERM:\n${poller.process.stderr().slice(-3_000)}`,
                ),
              ),
            timeoutMs,
          )
        }),
      ])
    } finally {
      clearTimeout(timer)
    }
  }

  const watchLine = (v: WatermarkVerdict): string =>
    `watermark readings ${v.samples} (${v.checked} checked against the topic, ${v.unchecked} unreadable), ahead of the acknowledged ${v.ahead.length}`

  it('polls, aggregates and classifies exactly as the reference, on three brokers', async () => {
    const described = await admin.describeCluster()
    expect(described.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3])
    const metadata = await admin.fetchTopicMetadata({ topics: [MESSAGES] })
    const partitions = metadata.topics[0]!.partitions
    // The message topic is written through every node: each leads some of its partitions.
    expect(new Set(partitions.map((p) => p.leader))).toEqual(new Set([1, 2, 3]))
    for (const p of partitions) expect(p.isr.length).toBe(3)

    const startMs = floorSecond(Date.now()) - HOUR
    const { poller, watch } = await startRun(TOKENS.whole, startMs, { POLL_MAX_WINDOW: '15m' })
    await waitForWatermark(poller, Date.now() - 10_000)
    const watermarkMs = await stopWithin(poller)
    const verdict = await watch.verify()
    const outcome = await expectExact({
      poller,
      startMs,
      watermarkMs,
      aggregators: [aggregator],
      classifiers: [classifier],
    })
    expect(verdict.ahead).toEqual([])
    expect(verdict.checked).toBeGreaterThan(0)
    // No fault: nothing was published twice.
    expect(outcome.repeated).toBe(0)
    expect(outcome.expected).toBeGreaterThan(3_000)
    report(
      `whole pipeline, no fault: records produced ${outcome.records}, expected ${outcome.expected}, missing 0, repeated ${outcome.repeated}, chats classified ${outcome.chats}; ${watchLine(verdict)}`,
    )
  }, 240_000)

  it('leader SIGKILLed mid-produce, another node SIGKILLed while consumers drain: nothing missing, nothing counted twice', async () => {
    const startMs = floorSecond(Date.now()) - 2 * HOUR
    const backlog = sim.truth({ from: new Date(startMs), to: new Date(Date.now() - 10_000) })
    const base = await topicEndOffsets(stack.kafka, MESSAGES)
    const { poller, watch } = await startRun(TOKENS.leader, startMs, { POLL_MAX_WINDOW: '15m' })

    // The leader of partition 0 dies as soon as the first records of the backlog are on the topic.
    const killedAtRecord = await waitFor(
      async () => {
        const n = await writtenSince(base)
        return n > 0 ? n : 0
      },
      { what: 'the first records of the backlog', timeoutMs: 60_000, intervalMs: 20 },
    )
    const first = await leaderOf(0)
    const killedAt = Date.now()
    await killNode(first, 'SIGKILL')
    // The fault struck mid-produce: most of the backlog was not written yet.
    expect(killedAtRecord).toBeLessThan(backlog.messageCount)

    // The poller finishes the backlog through the new leaders, the node still down.
    await waitForWatermark(poller, Date.now() - 10_000, 120_000)
    const backlogMs = Date.now() - killedAt
    const errorsAfterKill = [
      ...new Set(
        watch.samples
          .filter((s) => s.lastError && Date.parse(s.lastError.at) >= killedAt)
          .map((s) => s.lastError!.code),
      ),
    ]
    await cluster().start(first)
    await cluster().waitForFullIsr({ topics: PRODUCT_TOPICS, timeoutMs: 120_000 })

    // Fresh consumers read the whole topic from its beginning; another node dies as soon as one
    // of them has stored its first chunk (the kit's hook), and both drain the rest without it.
    const onTopic = await topicEndOffsets(stack.kafka, MESSAGES)
    const leaderNow = await leaderOf(0)
    const second = leaderNow !== first ? leaderNow : [1, 2, 3].find((n) => n !== first)!
    const applied = { sentiment: 0, tramite: 0 }
    let appliedAtKill: typeof applied | undefined
    let secondKill: Promise<void> | undefined
    const killOnFirstChunk = (which: keyof typeof applied) => ({
      afterStateStored: (info: { applied: number }) => {
        applied[which] += info.applied
        if (secondKill === undefined) {
          appliedAtKill = { ...applied }
          secondKill = killNode(second, 'SIGKILL')
          // Awaited below.
          secondKill.catch(() => undefined)
        }
      },
    })
    const [drainAggregator, drainClassifier] = await Promise.all([
      startHookedAggregator(everyNode(stack), killOnFirstChunk('sentiment')),
      startClassifier(everyNode(stack), { hooks: killOnFirstChunk('tramite') }),
    ])
    services.push(drainAggregator, drainClassifier)
    await waitFor(() => secondKill !== undefined, {
      what: 'the fresh consumers to store their first chunk',
      timeoutMs: 60_000,
    })
    await secondKill
    const atKill = appliedAtKill!
    // The node died early in the drain: most of the topic was not applied yet by either.
    expect(Math.max(atKill.sentiment, atKill.tramite)).toBeLessThan(onTopic / 2)

    // With that node down, the poller goes on and the fresh consumers finish the drain.
    await waitForWatermark(poller, Date.now() - 10_000, 120_000)
    const watermarkMs = await stopWithin(poller)
    await expectAnswers(
      drainAggregator,
      poller.server,
      truthSnapshot(sim, poller.server, startMs, watermarkMs),
      120_000,
    )
    await expectTramiteCounts({
      classifier: drainClassifier,
      sim,
      server: poller.server,
      fromMs: startMs,
      toMs: watermarkMs,
      timeoutMs: 120_000,
    })

    await cluster().start(second)
    await cluster().waitForFullIsr({ topics: PRODUCT_TOPICS, timeoutMs: 120_000 })
    const verdict = await watch.verify()
    const outcome = await expectExact({
      poller,
      startMs,
      watermarkMs,
      aggregators: [aggregator, drainAggregator],
      classifiers: [classifier, drainClassifier],
    })
    expect(verdict.ahead).toEqual([])
    expect(verdict.checked).toBeGreaterThan(0)
    expect(outcome.expected).toBeGreaterThanOrEqual(backlog.messageCount)
    // Both drained most of the topic with the node down.
    const afterKill = {
      sentiment: applied.sentiment - atKill.sentiment,
      tramite: applied.tramite - atKill.tramite,
    }
    expect(afterKill.sentiment).toBeGreaterThan(onTopic / 2)
    expect(afterKill.tramite).toBeGreaterThan(onTopic / 2)
    await Promise.all([drainAggregator.stop(), drainClassifier.stop()])
    report(
      `leader killed mid-produce: records produced ${outcome.records}, expected ${outcome.expected}, killed node ${first} (leader of partition 0) at record ${killedAtRecord} of ${backlog.messageCount} in the backlog, backlog done ${backlogMs} ms after the kill, poll errors ${errorsAfterKill.join(',') || 'none'}; ` +
        `node ${second} killed while fresh consumers drained the topic's ${onTopic} records, at ${atKill.sentiment} (sentiment) and ${atKill.tramite} (trámite) applied, ${afterKill.sentiment} and ${afterKill.tramite} applied after; missing 0, repeated ${outcome.repeated}, chats classified ${outcome.chats}; ${watchLine(verdict)}`,
    )
  }, 420_000)

  it('rolling restart of every node (SIGTERM, start, full ISR, next) while the pipeline runs: the same exact result', async () => {
    const startMs = floorSecond(Date.now()) - HOUR
    const base = await topicEndOffsets(stack.kafka, MESSAGES)
    const { poller, watch } = await startRun(TOKENS.rolling, startMs, { POLL_MAX_WINDOW: '5m' })
    // The roll begins with the backlog in flight, and live polls go on through it.
    await waitFor(async () => (await writtenSince(base)) > 0, {
      what: 'the first records of the backlog',
      timeoutMs: 60_000,
      intervalMs: 20,
    })
    const rollStartedAt = Date.now()
    const steps: string[] = []
    let writtenDuringRoll = 0
    for (const id of cluster().nodes.map((n) => n.nodeId)) {
      const began = Date.now()
      const before = await writtenSince(base)
      await killNode(id, 'SIGTERM')
      const stoppedMs = Date.now() - began
      await cluster().start(id)
      await cluster().waitForFullIsr({ topics: PRODUCT_TOPICS, timeoutMs: 120_000 })
      const written = (await writtenSince(base)) - before
      writtenDuringRoll += written
      steps.push(
        `node ${id} stopped in ${stoppedMs} ms, full ISR again after ${Date.now() - began} ms, ${written} records written meanwhile`,
      )
    }
    const rollMs = Date.now() - rollStartedAt
    // The pipeline ran through the roll: records were produced while nodes were restarting.
    expect(writtenDuringRoll).toBeGreaterThan(0)

    await waitForWatermark(poller, Date.now() - 10_000, 120_000)
    const watermarkMs = await stopWithin(poller)
    const verdict = await watch.verify()
    const outcome = await expectExact({
      poller,
      startMs,
      watermarkMs,
      aggregators: [aggregator],
      classifiers: [classifier],
    })
    expect(verdict.ahead).toEqual([])
    expect(verdict.checked).toBeGreaterThan(0)
    const errors = [
      ...new Set(watch.samples.flatMap((s) => (s.lastError ? [s.lastError.code] : []))),
    ]
    report(
      `rolling restart in ${rollMs} ms (${steps.join('; ')}): records produced ${outcome.records}, expected ${outcome.expected}, missing 0, repeated ${outcome.repeated}, chats classified ${outcome.chats}, poll errors ${errors.join(',') || 'none'}; ${watchLine(verdict)}`,
    )
  }, 300_000)

  it('two nodes down (below min.insync.replicas): the window fails with KAFKA_UNAVAILABLE and the watermark stays; one node back, the poller catches up with nothing lost', async () => {
    const startMs = floorSecond(Date.now()) - 30 * 60_000
    const { poller, watch } = await startRun(TOKENS.twoDown, startMs, { POLL_MAX_WINDOW: '10m' })
    await waitForWatermark(poller, Date.now() - 10_000)

    const down = [2, 3] as const
    const killedAt = Date.now()
    await Promise.all(down.map((id) => killNode(id, 'SIGKILL')))
    const failed = await waitFor(
      async () => {
        const op = await poller.status()
        const error = lastErrorOf(op)
        return error && Date.parse(error.at) >= killedAt ? { op, error } : null
      },
      // Usually seconds. But a send already on the surviving leader waits for acknowledgements it
      // cannot get: with two of three KRaft voters gone no ISR change can be committed, so the
      // ISR never shrinks and each attempt ends at the ack timeout (30 s): six attempts (five
      // retries) with their backoff take a little over 180 s before the window fails.
      { what: 'a poll to fail with two nodes down', timeoutMs: 300_000, intervalMs: 250 },
    )
    const failedSeenAt = Date.now()
    expect(failed.error.code, failed.error.message).toBe('KAFKA_UNAVAILABLE')
    expect(failed.op.watermark).not.toBeNull()
    const heldMs = Date.parse(failed.op.watermark!)
    // A user sees it in the log (a warning with the code) and in the metrics too.
    const failures = logLines(poller.process.stderr()).filter(
      (l) => l.msg === 'poll failed' && l.err?.code === 'KAFKA_UNAVAILABLE',
    )
    expect(failures.length, poller.process.stderr().slice(-2_000)).toBeGreaterThan(0)
    expect(
      await metricValue(
        Number(poller.env.HTTP_PORT),
        'wolkvox_poller_jobs_total',
        'outcome="KAFKA_UNAVAILABLE"',
      ),
    ).toBeGreaterThan(0)

    // Messages become due after the watermark while the cluster refuses writes (the poller keeps
    // trying: each poll fails, at the check of its checkpoint or at the produce), and the
    // watermark stays where it was.
    const dueAt = await waitFor(
      () => {
        const due = sim.truth({ from: new Date(heldMs + 1000), to: new Date(Date.now() - 6_000) })
        return due.messageCount > 0 ? Date.now() : 0
      },
      { what: 'messages due after the watermark', timeoutMs: 90_000, intervalMs: 500 },
    )
    const newMessages = sim.truth({
      from: new Date(heldMs + 1000),
      to: new Date(dueAt - 6_000),
    }).messageCount
    const heldOp = await poller.status()
    expect(heldOp.watermark).toBe(failed.op.watermark)

    // Watched for a while after the failure, the nodes still down.
    await waitFor(() => watch.samples.filter((s) => s.atMs >= failedSeenAt).length >= 10, {
      what: 'readings of the watermark after the failure',
      timeoutMs: 60_000,
    })
    const failedWhileDown = logLines(poller.process.stderr()).filter((l) => l.msg === 'poll failed')
    expect(failedWhileDown.every((l) => l.err?.code === 'KAFKA_UNAVAILABLE')).toBe(true)
    const restartedAt = Date.now()
    await cluster().start(down[0])
    await waitForWatermark(poller, Date.now() - 10_000, 180_000)
    const catchUpMs = Date.now() - restartedAt
    // Until then, the watermark never moved: from a few seconds after the kill (a poll acknowledged
    // just before it may still write its watermark) to the start of the node, through every
    // failed poll.
    const whileDown = watch.samples.filter(
      (s) => s.atMs >= Math.min(killedAt + 5_000, failedSeenAt) && s.atMs < restartedAt,
    )
    expect(whileDown.filter((s) => s.atMs >= failedSeenAt).length).toBeGreaterThan(0)
    expect([...new Set(whileDown.map((s) => s.watermarkMs))]).toEqual([heldMs])

    await cluster().start(down[1])
    await cluster().waitForFullIsr({ topics: PRODUCT_TOPICS, timeoutMs: 120_000 })
    const watermarkMs = await stopWithin(poller)
    // The poller exited on SIGTERM; after a Kafka outage a kafkajs reader may be left behind, and
    // the poller then exits after a short grace (services/poller/src/main.ts).
    const leftBehind = poller.process.stderr().includes('a Kafka client left behind')
    const verdict = await watch.verify()
    const outcome = await expectExact({
      poller,
      startMs,
      watermarkMs,
      aggregators: [aggregator],
      classifiers: [classifier],
    })
    expect(verdict.ahead).toEqual([])
    const afterHeld = sim.truth({ from: new Date(heldMs + 1000), to: new Date(watermarkMs) })
    expect(newMessages).toBeGreaterThan(0)
    expect(afterHeld.messageCount).toBeGreaterThanOrEqual(newMessages)
    report(
      `two nodes down (${down.join(',')}): first window failed ${failedSeenAt - killedAt} ms after the kill (${failed.error.code}: ${failed.error.message.split('\n')[0]}), ${failedWhileDown.length} polls failed while down (all KAFKA_UNAVAILABLE); ` +
        `${newMessages} messages due after the watermark while down, watermark held at ${failed.op.watermark} from the kill until node ${down[0]} was started ${restartedAt - killedAt} ms later (${whileDown.length} readings); ` +
        `caught up ${catchUpMs} ms after node ${down[0]} was started, exited on SIGTERM${leftBehind ? ' after the grace for a Kafka client left behind' : ''}; records produced ${outcome.records}, expected ${outcome.expected} (${afterHeld.messageCount} after the held watermark), missing 0, repeated ${outcome.repeated}, chats classified ${outcome.chats}; ${watchLine(verdict)}`,
    )
  }, 540_000)
})
