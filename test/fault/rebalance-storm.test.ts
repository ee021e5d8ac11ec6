/*
 * Fault: a rebalance storm. Sentiment aggregators of one group start and stop again and again,
 * joining and leaving at once, while events (re-publications included) keep arriving. QUALITY.md:
 * "aggregates equal a single-consumer run": the storm's HTTP answers and the latest records of
 * its output topic equal those of one aggregator that consumed the same topic alone.
 */
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeAgentSentiment, topics } from '@wolkvox-chat-stream/events'
import { readTopicToEnd } from '@wolkvox-chat-stream/kafka'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import { produceEvents } from '../support/chat-events.js'
import { expectAnswers, startAggregator } from '../support/fault-pipeline.js'
import { startFaultStack, type FaultStack } from '../support/fault-stack.js'
import { newServerCode } from '../support/poller-harness.js'
import {
  httpSnapshot,
  latestWindows,
  referenceSnapshot,
  type Snapshot,
} from '../support/sentiment-reference.js'
import { sentimentEvents } from '../support/sentiment-events.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const WAVES = 8

describe('a rebalance storm in the sentiment aggregator group', () => {
  let stack: FaultStack
  const running = new Set<ConsumerService>()

  beforeAll(async () => {
    stack = await startFaultStack()
  })

  afterAll(async () => {
    await Promise.all([...running].map((s) => s.stop().catch(() => undefined)))
    await stack?.stop()
  })

  const start = async (name: string, outputTopic: string): Promise<ConsumerService> => {
    const service = await startAggregator(stack, { name, outputTopic })
    running.add(service)
    return service
  }

  const stop = async (service: ConsumerService): Promise<void> => {
    running.delete(service)
    await service.stop()
  }

  const outputWindows = async (topic: string, server: string): Promise<Snapshot['windows']> => {
    const records = await readTopicToEnd(stack.kafka, topic)
    return latestWindows(
      records.map((r) => ({ key: r.key!.toString('utf8'), value: decodeAgentSentiment(r.value!) })),
      server,
    )
  }

  it('members joining and leaving at once, over and over, end equal to a single-consumer run', async () => {
    const server = newServerCode()
    const events = sentimentEvents(server, { chatsPerHour: 40 })
    const reference = referenceSnapshot(events, server)
    const group = uniqueName('storm')
    const stormOutput = uniqueName('storm-output')

    // Each wave brings new events and re-publishes part of the previous wave; meanwhile one
    // member joins and, once three are in, the oldest leaves at the same moment.
    const members: ConsumerService[] = []
    const everyone: ConsumerService[] = []
    const size = Math.ceil(events.length / WAVES)
    for (let wave = 0; wave < WAVES; wave++) {
      const fresh = events.slice(wave * size, (wave + 1) * size)
      const again = events.slice(Math.max(0, wave * size - size / 4), wave * size)
      const joining = start(group, stormOutput)
      const leaving = members.length >= 3 ? stop(members.shift()!) : Promise.resolve()
      await produceEvents(stack.kafka, topics.chatMessage.name, [...fresh, ...again])
      const [joined] = await Promise.all([joining, leaving])
      members.push(joined)
      everyone.push(joined)
    }
    expect(members).toHaveLength(3)
    await expectAnswers(members.at(-1)!, server, reference)
    const storm = await httpSnapshot(members[0]!.httpPort()!, server)
    // The work really moved around the group, and each event was applied by exactly one member.
    const applied = everyone.map((s) => s.status().stats.applied)
    expect(applied.filter((n) => n > 0).length).toBeGreaterThanOrEqual(4)
    expect(applied.reduce((sum, n) => sum + n, 0)).toBe(new Set(events.map((e) => e.event_id)).size)

    // The same topic consumed by one aggregator alone.
    const singleOutput = uniqueName('single-output')
    const single = await start(uniqueName('single'), singleOutput)
    await expectAnswers(single, server, reference)
    expect(storm).toEqual(await httpSnapshot(single.httpPort()!, server))

    for (const topic of [stormOutput, singleOutput]) {
      await waitFor(
        async () => isDeepStrictEqual(await outputWindows(topic, server), reference.windows),
        { what: `the latest records of ${topic} to equal the reference`, timeoutMs: 60_000 },
      ).catch(async (error: unknown) => {
        expect(await outputWindows(topic, server)).toEqual(reference.windows)
        throw error
      })
    }
  })
})
