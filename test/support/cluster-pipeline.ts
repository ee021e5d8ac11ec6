/*
 * The whole pipeline on a replicated cluster (test/fault/pipeline-cluster.test.ts): the trámite
 * classifier beside the sentiment aggregator, the reference of its counts, and a watch on the
 * poller's watermark that proves it never claimed a second whose messages were not yet
 * acknowledged by the cluster.
 */
import { expect } from 'vitest'
import { isAlive } from '@wolkvox-chat-stream/dev-stack'
import { decodeChatMessage, topics } from '@wolkvox-chat-stream/events'
import { createConsumer, runBatches, type Kafka } from '@wolkvox-chat-stream/kafka'
import { createLogger } from '@wolkvox-chat-stream/observability'
import type { OperationStatus } from '@wolkvox-chat-stream/poller'
import type { ConsumerHooks } from '@wolkvox-chat-stream/service-kit'
import {
  createTramiteClassifier,
  shippedRulesFile,
  type TramiteClassifier,
} from '@wolkvox-chat-stream/tramite-classifier'
import type { RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { consumerTestEnv, type RunningPoller } from './fault-pipeline.js'
import type { FaultStack } from './fault-stack.js'
import { expectedMessages } from './poller-harness.js'
import {
  expectedCounts,
  expectedRecords,
  getJson,
  rulesOf,
  truthEvents,
  type Count,
} from './tramite-reference.js'
import { referenceSnapshot, type Snapshot } from './sentiment-reference.js'
import { uniqueName, waitForEqual } from './wait-for.js'

/** `KAFKA_BROKERS` naming every node, so a service keeps a bootstrap address whichever node dies. */
export function everyNode(stack: Pick<FaultStack, 'bootstrap' | 'redisUrl'>): {
  brokers: string
  redisUrl: string
} {
  return { brokers: stack.bootstrap.join(','), redisUrl: stack.redisUrl }
}

/** Warnings and errors each classifier logged. */
const classifierLogs = new WeakMap<TramiteClassifier, string[]>()

/** The warnings and errors `classifier` (started by {@link startClassifier}) logged, as JSON lines. */
export function classifierLines(classifier: TramiteClassifier): readonly string[] {
  return classifierLogs.get(classifier) ?? []
}

/**
 * The trámite classifier in this process on `stack` (`brokers` may list several nodes), with the
 * shipped rules, its own output topic and short timings for tests (as startAggregator).
 */
export async function startClassifier(
  stack: { brokers: string; redisUrl: string },
  options: { name?: string; env?: Record<string, string>; hooks?: ConsumerHooks } = {},
): Promise<TramiteClassifier> {
  const lines: string[] = []
  const name = options.name ?? uniqueName('tramite')
  const classifier = createTramiteClassifier({
    name,
    ...(options.hooks ? { hooks: options.hooks } : {}),
    logger: createLogger({ name, level: 'warn', stream: { write: (line) => lines.push(line) } }),
    env: {
      ...consumerTestEnv(stack),
      CLASSIFIER_RULES_FILE: shippedRulesFile,
      CLASSIFIER_OUTPUT_TOPIC: `${name}-output`,
      CLASSIFIER_SWEEP_INTERVAL: '500ms',
      ...options.env,
    },
  })
  classifierLogs.set(classifier, lines)
  await classifier.start()
  return classifier
}

/**
 * The classifier's counts for `server` equal the reference computed with the engine from the
 * simulator's ground truth of `[fromMs, toMs]` (every chat there is closed, so complete).
 * @returns how many conversations the reference counts.
 */
export async function expectTramiteCounts(input: {
  classifier: TramiteClassifier
  sim: RunningSimulator
  server: string
  fromMs: number
  toMs: number
  timeoutMs?: number
}): Promise<number> {
  const { classifier, server } = input
  const truth = input.sim.truth({ from: new Date(input.fromMs), to: new Date(input.toMs) })
  const records = expectedRecords(truthEvents(truth, server), rulesOf(shippedRulesFile))
  const want = expectedCounts(records.values())
  const counts = async () =>
    (await getJson(classifier.httpPort()!, `/operations/${server}/tramites`)).body.counts as
      Count[] | undefined
  try {
    await waitForEqual(counts, want, {
      timeoutMs: input.timeoutMs ?? 90_000,
      intervalMs: 250,
      what: `${classifier.name} to count the reference (${JSON.stringify(classifier.status())}; ${classifierLines(classifier).slice(-5).join('')})`,
    })
  } catch (error) {
    throw new Error(
      `${classifier.name}: ${JSON.stringify(classifier.status())}\n${classifierLines(classifier).slice(-20).join('')}`,
      { cause: error },
    )
  }
  return records.size
}

/**
 * The sentiment aggregator's answers for `server` computed from the simulator's ground truth of
 * `[fromMs, toMs]` alone (the events as the poller builds them), without reading the topic.
 */
export function truthSnapshot(
  sim: RunningSimulator,
  server: string,
  fromMs: number,
  toMs: number,
): Snapshot {
  const truth = sim.truth({ from: new Date(fromMs), to: new Date(toMs) })
  return referenceSnapshot(truthEvents(truth, server), server)
}

/** The value of a counter or gauge line of a service's `/metrics`, summed over the lines that contain `label`. */
export async function metricValue(port: number, name: string, label = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  return text
    .split('\n')
    .filter(
      (line) =>
        (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(label),
    )
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
}

/** The `lastError` of a poller's status in full (the shared StatusDocument types only its code). */
export type PollError = NonNullable<OperationStatus['lastError']>

/** The last failure `/status` reports for the operation, or null. */
export function lastErrorOf(op: { lastError: unknown }): PollError | null {
  return (op.lastError as PollError | null) ?? null
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
/** How long the watch waits for one status or end-offsets read. */
const ENDS_WAIT_MS = 3_000

/** One reading of the poller's status, and the topic's end offsets read right after it. */
export interface WatermarkSample {
  atMs: number
  watermarkMs: number | null
  lastError: { at: string; code: string } | null
  /**
   * The message topic's end offsets (its high watermarks: what every in-sync replica has), read
   * when the watermark had moved since the last reading that has them; else null.
   */
  ends: Map<number, number> | null
  /** The end offsets were due but could not be read (a node down): this reading is not checked. */
  unread: boolean
}

/** What {@link WatermarkWatch.verify} found. */
export interface WatermarkVerdict {
  /** Status readings, and how many distinct watermarks were checked against the topic. */
  samples: number
  checked: number
  /** Readings whose end offsets could not be read (a node down): not checked. */
  unchecked: number
  /** Watermarks found ahead of the topic: `<watermark>: <n> messages not yet acknowledged`. */
  ahead: string[]
}

/** A watch on a poller's watermark while it runs. */
export interface WatermarkWatch {
  /** Every status reading so far, in order. */
  readonly samples: readonly WatermarkSample[]
  /**
   * Stops reading, waits until the tail of the topic holds every offset a reading saw, and checks
   * each distinct watermark: every message of the truth of `[startMs, watermark]` was on the topic
   * below the end offsets read just after the watermark was.
   */
  verify(): Promise<WatermarkVerdict>
  /** Stops reading and closes the tail (idempotent; `verify` does it too). */
  close(): Promise<void>
}

/**
 * Reads `poller`'s `/status` every `intervalMs` and, each time the watermark moved, the message
 * topic's end offsets, while a consumer tails the topic and remembers the first offset of each of
 * the operation's event ids. Offsets below a high watermark are acknowledged by every in-sync
 * replica, and the end offsets are read after the watermark: a message of a claimed second found
 * only at or above them was not acknowledged when the watermark said it was on the topic.
 */
export function watchWatermark(input: {
  /** A client on every node. */
  kafka: Kafka
  poller: RunningPoller
  sim: RunningSimulator
  startMs: number
  intervalMs?: number
}): WatermarkWatch {
  const { kafka, poller, sim, startMs } = input
  const topic = topics.chatMessage.name
  const samples: WatermarkSample[] = []
  /** The first place of each of the operation's event ids on the topic. */
  const firstAt = new Map<string, { partition: number; offset: number }>()
  /** The next offset the tail reads, per partition. */
  const tailAt = new Map<number, number>()
  const groupId = uniqueName('watermark-tail')
  const tail = createConsumer(kafka, {
    groupId,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    maxWaitTimeMs: 200,
  })
  const admin = kafka.admin()
  let stopped = false
  let closed: Promise<void> | undefined

  const tailing = runBatches(tail, {
    topics: [topic],
    fromBeginning: true,
    eachBatch: ({ batch }) => {
      for (const message of batch.messages) {
        const offset = Number(message.offset)
        const event = decodeChatMessage(message.value!)
        if (event.server === poller.server && !firstAt.has(event.event_id)) {
          firstAt.set(event.event_id, { partition: batch.partition, offset })
        }
        tailAt.set(batch.partition, Math.max(tailAt.get(batch.partition) ?? 0, offset + 1))
      }
      return Promise.resolve()
    },
  })

  /**
   * One read of the end offsets at a time, each given `ENDS_WAIT_MS`: with nodes down a read may
   * hang in kafkajs's retries, and the status readings must go on meanwhile.
   */
  let connecting: Promise<void> | undefined
  let endsInFlight: Promise<unknown> | undefined
  const readEnds = async (): Promise<Map<number, number> | null> => {
    if (endsInFlight !== undefined) return null
    const read = (async () => {
      connecting ??= admin.connect().catch((error: unknown) => {
        connecting = undefined
        throw error
      })
      await connecting
      const offsets = await admin.fetchTopicOffsets(topic)
      return new Map(offsets.map((p) => [p.partition, Number(p.high)]))
    })()
    const settled = read.catch(() => null)
    endsInFlight = settled.finally(() => {
      endsInFlight = undefined
    })
    return Promise.race([settled, pause(ENDS_WAIT_MS).then(() => null)])
  }

  const reading = (async () => {
    let last: number | null | undefined
    while (!stopped) {
      const atMs = Date.now()
      const op = await Promise.race([
        poller.status().catch(() => null),
        pause(ENDS_WAIT_MS).then(() => null),
      ])
      // The poller busy or restarting: read again.
      if (op !== null) {
        const watermarkMs = op.watermark === null ? null : Date.parse(op.watermark)
        const lastError = lastErrorOf(op)
        const sample: WatermarkSample = {
          atMs,
          watermarkMs,
          lastError: lastError ? { at: lastError.at, code: lastError.code } : null,
          ends: null,
          unread: false,
        }
        samples.push(sample)
        if (watermarkMs !== null && watermarkMs !== last) {
          const ends = await readEnds()
          // Unread (a node down): this reading is not checked, the next one with it is.
          if (ends === null) sample.unread = true
          else {
            sample.ends = ends
            last = watermarkMs
          }
        }
      }
      await pause(input.intervalMs ?? 200)
    }
  })()

  const close = (): Promise<void> => {
    closed ??= (async () => {
      stopped = true
      await reading
      await tail.disconnect().catch(() => undefined)
      await tailing.catch(() => undefined)
      await admin.deleteGroups([groupId]).catch(() => undefined)
      await admin.disconnect().catch(() => undefined)
    })()
    return closed
  }

  return {
    samples,
    close,
    async verify() {
      stopped = true
      await reading
      const checkedSamples = samples.filter(
        (s): s is WatermarkSample & { watermarkMs: number; ends: Map<number, number> } =>
          s.watermarkMs !== null && s.ends !== null,
      )
      const needed = new Map<number, number>()
      for (const s of checkedSamples) {
        for (const [p, end] of s.ends) needed.set(p, Math.max(needed.get(p) ?? 0, end))
      }
      const deadline = Date.now() + 120_000
      while ([...needed].some(([p, end]) => (tailAt.get(p) ?? 0) < end)) {
        if (Date.now() > deadline) {
          await close()
          throw new Error(
            `the tail of ${topic} did not reach the end offsets read by the watch: ${JSON.stringify([...needed])} vs ${JSON.stringify([...tailAt])}`,
          )
        }
        await pause(200)
      }
      await close()
      const ahead: string[] = []
      for (const s of checkedSamples) {
        const truth = sim.truth({ from: new Date(startMs), to: new Date(s.watermarkMs) })
        let missing = 0
        for (const id of expectedMessages(truth, poller.server).keys()) {
          const at = firstAt.get(id)
          if (at === undefined || at.offset >= (s.ends.get(at.partition) ?? 0)) missing++
        }
        if (missing > 0) {
          ahead.push(
            `${new Date(s.watermarkMs).toISOString()} (read at ${new Date(s.atMs).toISOString()}): ${missing} messages not yet acknowledged`,
          )
        }
      }
      return {
        samples: samples.length,
        checked: checkedSamples.length,
        unchecked: samples.filter((s) => s.unread).length,
        ahead,
      }
    },
  }
}

/**
 * The end of a cluster test file, whatever its tests did: poller processes still running killed,
 * services stopped, the simulator closed, the cluster and redis-server stopped, and every node's
 * JVM checked gone.
 */
export async function stopClusterFile(parts: {
  pollers: readonly RunningPoller[]
  services: readonly { stop(): Promise<void> }[]
  sim?: RunningSimulator
  stack?: FaultStack
}): Promise<void> {
  for (const { process: p } of parts.pollers) {
    if (p.process.exitCode === null && p.process.signalCode === null) {
      p.kill('SIGKILL')
      await p.exited
    }
  }
  for (const service of parts.services) await service.stop().catch(() => undefined)
  await parts.sim?.close()
  const pids = parts.stack?.broker.pids() ?? []
  await parts.stack?.stop()
  for (const pid of pids) expect(isAlive(pid), `JVM ${pid}`).toBe(false)
}
