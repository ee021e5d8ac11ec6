/*
 * The whole pipeline for the fault suite: the poller as a process, the sentiment aggregator in
 * this process, and the check that after a fault the topic holds the simulator's ground truth
 * (every message, nothing foreign, fields exact) and the aggregator's HTTP answers equal the
 * reference computed from that truth, so nothing was lost and nothing counted twice.
 */
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, expect } from 'vitest'
import { freePort } from '@wolkvox-chat-stream/dev-stack'
import { createLogger } from '@wolkvox-chat-stream/observability'
import { createSentimentAggregator } from '@wolkvox-chat-stream/sentiment-aggregator'
import type { ConsumerHooks, ConsumerService } from '@wolkvox-chat-stream/service-kit'
import {
  startSimulator,
  type RunningSimulator,
  type SimulatorOptions,
} from '@wolkvox-chat-stream/wolkvox-simulator'
import { startFaultStack, type FaultStack } from './fault-stack.js'
import { toyEnv } from './toy-counter.js'
import {
  chatMessagesOf,
  compareWithTruth,
  expectedMessages,
  newServerCode,
  pollerEnv,
  truthChatMessages,
} from './poller-harness.js'
import {
  getJson,
  runPoller,
  startPoller,
  type PollerProcess,
  type StatusDocument,
} from './poller-service-harness.js'
import { httpSnapshot, referenceSnapshot, type Snapshot } from './sentiment-reference.js'
import { uniqueName, waitFor } from './wait-for.js'

/**
 * The variables every consumer service of the fault suite starts with: the stack, a free HTTP
 * port, warnings only, and short group and retry timings so that faults resolve in seconds.
 */
export function consumerTestEnv(stack: {
  brokers: string
  redisUrl: string
}): Record<string, string> {
  return toyEnv({ brokers: stack.brokers, redisUrl: stack.redisUrl })
}

/** Warnings and errors each aggregator logged, shown when its answers do not settle. */
const logged = new WeakMap<ConsumerService, string[]>()

/** The warnings and errors `service` (started by {@link startAggregator}) logged, as JSON lines. */
export function loggedLines(service: ConsumerService): readonly string[] {
  return logged.get(service) ?? []
}

/** The sentiment aggregator on the stack's broker and Redis, with short timings for tests. */
export async function startAggregator(
  stack: Pick<FaultStack, 'brokers' | 'redisUrl'>,
  options: { name?: string; outputTopic?: string; env?: Record<string, string> } = {},
): Promise<ConsumerService> {
  return startTestAggregator(stack, options)
}

/**
 * {@link startAggregator} with the kit's hooks: `afterStateStored` is told of every chunk stored,
 * so a test can act at a known point of the consumption (a fault in the middle of a drain).
 */
export async function startHookedAggregator(
  stack: Pick<FaultStack, 'brokers' | 'redisUrl'>,
  hooks: ConsumerHooks,
  options: { name?: string; env?: Record<string, string> } = {},
): Promise<ConsumerService> {
  return startTestAggregator(stack, options, hooks)
}

async function startTestAggregator(
  stack: Pick<FaultStack, 'brokers' | 'redisUrl'>,
  options: { name?: string; outputTopic?: string; env?: Record<string, string> },
  hooks?: ConsumerHooks,
): Promise<ConsumerService> {
  const lines: string[] = []
  const name = options.name ?? uniqueName('sentiment')
  const service = createSentimentAggregator({
    name,
    ...(options.outputTopic ? { outputTopic: options.outputTopic } : {}),
    ...(hooks ? { hooks } : {}),
    logger: createLogger({ name, level: 'warn', stream: { write: (line) => lines.push(line) } }),
    env: { ...consumerTestEnv(stack), SENTIMENT_SWEEP_INTERVAL: '1s', ...options.env },
  })
  logged.set(service, lines)
  await service.start()
  return service
}

/** Waits until the aggregator answers `expected` over HTTP; on a timeout, shows the difference. */
export async function expectAnswers(
  service: ConsumerService,
  server: string,
  expected: Snapshot,
  timeoutMs = 60_000,
): Promise<void> {
  const answers = () => httpSnapshot(service.httpPort()!, server)
  await waitFor(async () => isDeepStrictEqual(await answers(), expected), {
    timeoutMs,
    what: 'the aggregator to answer the reference',
  }).catch(async (error: unknown) => {
    const status = service.status()
    const log = (logged.get(service) ?? []).slice(-20).join('')
    expect(status.phase, `${service.name}: ${status.reason ?? ''}\n${log}`).toBe('running')
    expect(await answers()).toEqual(expected)
    throw error
  })
}

/** What {@link expectExactPipeline} found. */
export interface PipelineOutcome {
  /** Messages the truth holds for the range. */
  expected: number
  /** Records of the operation on the topic, re-publications included. */
  records: number
  /** Event ids on the topic more than once (a consumer counts each once). */
  repeated: number
}

/**
 * Asserts the end state after a fault: the topic holds exactly the simulator's truth for
 * `[fromMs, toMs]` once per event_id (re-publications are allowed; subscribers de-duplicate),
 * every field as the truth says (polled within `polledWithin`, by default from `fromMs` to now), and every aggregator
 * answers what a run without the fault would: the reference computed from the truth's events.
 */
export async function expectExactPipeline(input: {
  stack: Pick<FaultStack, 'brokers'>
  sim: RunningSimulator
  server: string
  fromMs: number
  toMs: number
  aggregators: readonly ConsumerService[]
  polledWithin?: { fromMs: number; toMs: number }
}): Promise<PipelineOutcome> {
  const { server } = input
  const truth = input.sim.truth({ from: new Date(input.fromMs), to: new Date(input.toMs) })
  const expected = expectedMessages(truth, server)
  const events = await chatMessagesOf(input.stack.brokers, server)
  // Every record of the range was polled by now, on this machine's clock.
  const polledWithin = input.polledWithin ?? { fromMs: input.fromMs, toMs: Date.now() }
  const diff = compareWithTruth(events, expected, { polledWithin })
  expect(expected.size).toBeGreaterThan(0)
  expect(diff.missing).toEqual([])
  expect(diff.unexpected).toEqual([])
  expect(diff.wrong).toEqual([])
  // From the truth, not the topic: a field the poller got wrong cannot move the reference along.
  const reference = referenceSnapshot(truthChatMessages(truth, server), server)
  for (const service of input.aggregators) await expectAnswers(service, server, reference)
  return { expected: expected.size, records: events.length, repeated: diff.repeated.length }
}

/** A `poller run` process for one operation, with its status URL. */
export interface RunningPoller {
  server: string
  env: Record<string, string>
  process: PollerProcess
  status(): Promise<StatusDocument['operations'][number]>
}

/**
 * Starts `npm run poller -- run` for a new operation on the stack, polling every second from
 * `startMs` (no sweep), with a 2 s lock TTL, a 5 s settle lag and a 10 s lookback.
 */
export async function startPollerRun(input: {
  stack: Pick<FaultStack, 'brokers' | 'redisUrl'>
  sim: RunningSimulator
  token: string
  startMs: number
  server?: string
  extra?: Record<string, string>
}): Promise<RunningPoller> {
  const server = input.server ?? newServerCode()
  const port = await freePort()
  const env = pollerEnv({
    server,
    token: input.token,
    simulatorUrl: input.sim.url,
    kafkaBrokers: input.stack.brokers,
    redisUrl: input.stack.redisUrl,
    extra: {
      POLL_START: new Date(input.startMs).toISOString(),
      POLL_INTERVAL: '1s',
      POLL_SWEEP_INTERVAL: '0s',
      POLL_LOCK_TTL: '2s',
      POLL_SETTLE_LAG: '5s',
      POLL_LOOKBACK: '10s',
      HTTP_PORT: String(port),
      ...input.extra,
    },
  })
  return {
    server,
    env,
    process: startPoller(['run'], env),
    status: async () =>
      (await getJson<StatusDocument>(`http://127.0.0.1:${port}/status`)).operations[0]!,
  }
}

/**
 * Stops a poller run with SIGTERM (it finishes the window in flight) and returns the watermark it
 * left in Redis, read by the `status` command.
 */
export async function stopPollerRun(poller: RunningPoller): Promise<number> {
  poller.process.kill('SIGTERM')
  const exit = await poller.process.exited
  expect(exit.code, poller.process.stderr()).toBe(0)
  const status = await runPoller(['status'], poller.env)
  expect(status.code, status.stderr).toBe(0)
  const watermark = (JSON.parse(status.stdout) as StatusDocument).operations[0]!.watermark
  expect(watermark).not.toBeNull()
  return Date.parse(watermark!)
}

/** Waits until the operation's watermark is at least `atLeastMs` (the backlog is polled). */
export async function waitForWatermark(
  poller: RunningPoller,
  atLeastMs: number,
  timeoutMs = 90_000,
): Promise<number> {
  return waitFor(
    async () => {
      const watermark = (await poller.status()).watermark
      return watermark !== null && Date.parse(watermark) >= atLeastMs ? Date.parse(watermark) : 0
    },
    {
      timeoutMs,
      intervalMs: 250,
      what: `the watermark to reach ${new Date(atLeastMs).toISOString()}`,
    },
  )
}

/** A fault test file's pipeline: its private stack, its simulators, and what it started on them. */
export interface FaultPipeline<K extends string> {
  /** The file's broker and redis-server (available once its `beforeAll` ran). */
  readonly stack: FaultStack
  /** The file's simulators, by the names given to {@link useFaultPipeline}. */
  readonly sims: Readonly<Record<K, RunningSimulator>>
  /** {@link startAggregator} on the stack; stopped after the file. */
  startAggregator(): Promise<ConsumerService>
  /** {@link startPollerRun} on the stack; killed after the file if still running. */
  startPollerRun(input: Omit<Parameters<typeof startPollerRun>[0], 'stack'>): Promise<RunningPoller>
  /** Poller processes to kill after the file if still running. */
  track(...processes: PollerProcess[]): void
}

/**
 * Registers the set-up of a fault test file: before it, a private stack (see
 * {@link startFaultStack}) then the simulators of `simulators`; after it, the poller processes
 * still running are killed, the aggregators stopped, the simulators closed and the stack stopped.
 */
export function useFaultPipeline<K extends string>(
  simulators: Record<K, SimulatorOptions>,
): FaultPipeline<K> {
  let stack: FaultStack | undefined
  let sims: Record<K, RunningSimulator> | undefined
  const aggregators: ConsumerService[] = []
  const processes: PollerProcess[] = []
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fault pipeline is not started (beforeAll)')
    return value
  }

  beforeAll(async () => {
    stack = await startFaultStack()
    const names = Object.keys(simulators) as K[]
    const started = await Promise.all(names.map((n) => startSimulator(simulators[n])))
    sims = Object.fromEntries(names.map((n, i) => [n, started[i]!])) as Record<K, RunningSimulator>
  })

  afterAll(async () => {
    for (const p of processes) {
      if (p.process.exitCode === null && p.process.signalCode === null) p.kill('SIGKILL')
    }
    for (const a of aggregators) await a.stop()
    const started: RunningSimulator[] = sims ? Object.values(sims) : []
    await Promise.all(started.map((s) => s.close()))
    await stack?.stop()
  })

  return {
    get stack() {
      return ready(stack)
    },
    get sims() {
      return ready(sims)
    },
    async startAggregator() {
      const service = await startAggregator(ready(stack))
      aggregators.push(service)
      return service
    },
    async startPollerRun(input) {
      const poller = await startPollerRun({ ...input, stack: ready(stack) })
      processes.push(poller.process)
      return poller
    },
    track(...started) {
      processes.push(...started)
    },
  }
}
