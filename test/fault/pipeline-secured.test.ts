/*
 * Fault (issue 17): the whole pipeline on a secured three-node cluster, as a managed Kafka looks
 * from a client: SASL_SSL listeners with TLS from a private CA, mutual TLS, SCRAM-SHA-512 users
 * and ACLs (nothing without one). Each service connects as its own principal with the variables a
 * user sets (`KAFKA_SSL_CA_FILE`, `KAFKA_SSL_CERT_FILE`, `KAFKA_SSL_KEY_FILE`,
 * `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD_FILE`) and the ACLs the
 * README lists (`productAcls()`):
 * 1. poller `run`, the sentiment aggregator and the trámite classifier: the topic equals the
 *    simulator's truth, the aggregates and trámite counts their references, and no password (nor
 *    the token) is in any output, log, status, metric, topic or Redis key;
 * 2. a wrong password, a CA that did not sign the brokers, and a principal without the ACL (the
 *    poller's topics, a consumer's output topic, a consumer group) each stop the service at
 *    start with one error code naming what to fix, in bounded time.
 *
 * Its own cluster and redis-server (startFaultStack), one file at a time like every fault test.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  consumerServiceAcls,
  grantAcls,
  productAcls,
  type KafkaClusterSecurity,
} from '@wolkvox-chat-stream/dev-stack'
import {
  decodeChatMessage,
  dlqTopic,
  pollerTopics,
  productTopics,
  topics,
} from '@wolkvox-chat-stream/events'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { createKafkaClient, provisionTopics, readTopicToEnd } from '@wolkvox-chat-stream/kafka'
import type { ConsumerService } from '@wolkvox-chat-stream/service-kit'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import {
  classifierLines,
  stopClusterFile,
  expectTramiteCounts,
  startClassifier,
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
import { dumpRedis, getJson, runPoller } from '../support/poller-service-harness.js'
import { waitFor } from '../support/wait-for.js'

const NODES = 3
const HOUR = 3_600_000
const TOKEN = 'canary-secured-token-5e0c'
/** A SCRAM user with a consumer's topic ACLs but none on its group. */
const NO_GROUP_USER = 'sentiment-no-group'
const report = (line: string): void => {
  process.stderr.write(`[pipeline-secured] ${line}\n`)
}

describe('the whole pipeline on a secured three-node cluster (SASL_SSL, mutual TLS, SCRAM-SHA-512, ACLs)', () => {
  let stack: FaultStack
  let sim: RunningSimulator
  let security: KafkaClusterSecurity
  let scratch: string
  const services: ConsumerService[] = []
  const pollers: RunningPoller[] = []

  beforeAll(async () => {
    const started = Date.now()
    stack = await startFaultStack({ nodes: NODES, secure: true, users: [NO_GROUP_USER] })
    const found = stack.cluster?.security
    if (!found) throw new Error('startFaultStack({ secure: true }) returned no security')
    security = found
    scratch = mkdtempSync(join(tmpdir(), 'pipeline-secured-'))
    const noGroup = consumerServiceAcls({
      name: 'sentiment-aggregator',
      user: NO_GROUP_USER,
      outputs: [topics.agentSentiment.name],
    })
    await grantAcls(security.connection('admin'), [
      ...productAcls(),
      { ...noGroup, grants: noGroup.grants.filter((g) => g.resourceType !== 'GROUP') },
    ])
    // A new ACL reaches each node on its own time: wait until every node lets each principal see
    // what it provisions, so that no start below meets a node that has not learnt it yet.
    const sees = async (user: string, specs: typeof productTopics): Promise<void> => {
      for (const broker of stack.bootstrap) {
        await waitFor(
          () =>
            provisionTopics(
              createKafkaClient({ ...security.connection(user), brokers: [broker] }),
              specs,
              { create: false },
            ).then(
              () => true,
              () => false,
            ),
          { what: `${user}'s ACLs on ${broker}`, timeoutMs: 60_000, intervalMs: 500 },
        )
      }
    }
    await sees('poller', pollerTopics)
    await sees('sentiment-aggregator', [topics.agentSentiment])
    await sees('tramite-classifier', [topics.chatTramite])
    sim = await startSimulator({ tokens: [TOKEN], chatsPerHour: 120, seed: 29 })
    report(
      `${NODES} secured nodes at ${stack.bootstrap.join(',')}: cluster ready in ${stack.broker.readyMs()} ms, ` +
        `with redis, topics and ACLs ${Date.now() - started} ms`,
    )
  }, 300_000)

  afterAll(async () => {
    if (scratch) rmSync(scratch, { recursive: true, force: true })
    // Every node's JVM is gone, even after a failed test.
    await stopClusterFile({ pollers, services, sim, stack })
  }, 120_000)

  const target = () => ({ brokers: stack.bootstrap.join(','), redisUrl: stack.redisUrl })
  /** Every user's password, as the canaries that must be in no output. */
  const passwords = () =>
    security.users.map((user) => readFileSync(security.passwordFile(user), 'utf8'))

  it('runs poller, aggregator and classifier as their own principals: everything equals the reference, and no secret shows', async () => {
    const aggregator = await startAggregator(target(), {
      name: 'sentiment-aggregator',
      outputTopic: topics.agentSentiment.name,
      env: security.env('sentiment-aggregator'),
    })
    services.push(aggregator)
    const classifier = await startClassifier(target(), {
      name: 'tramite-classifier',
      env: {
        ...security.env('tramite-classifier'),
        CLASSIFIER_OUTPUT_TOPIC: topics.chatTramite.name,
      },
    })
    services.push(classifier)

    const startMs = Math.floor((Date.now() - 3 * HOUR) / 1000) * 1000
    const poller = await startPollerRun({
      stack: target(),
      sim,
      token: TOKEN,
      startMs,
      extra: { ...security.env('poller'), POLL_MAX_WINDOW: '30m' },
    })
    pollers.push(poller)
    await waitForWatermark(poller, Date.now() - 10_000, 180_000)
    // What the poller shows while it runs: its status and metrics pages.
    const port = poller.env.HTTP_PORT
    const pages = [
      JSON.stringify(await getJson(`http://127.0.0.1:${port}/status`)),
      await (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
    ]
    const watermark = await stopPollerRun(poller)

    // The topic, read as the admin: the truth of the polled range, each message once or more.
    const server = poller.server
    const records = await readTopicToEnd(stack.kafka, topics.chatMessage.name, {
      timeoutMs: 60_000,
    })
    const events = records
      .map((r) => decodeChatMessage(r.value!))
      .filter((e) => e.server === server)
    const truth = sim.truth({ from: new Date(startMs), to: new Date(watermark) })
    const expected = expectedMessages(truth, server)
    const diff = compareWithTruth(events, expected)
    expect(expected.size).toBeGreaterThan(500)
    expect(diff.missing).toEqual([])
    expect(diff.unexpected).toEqual([])
    expect(diff.wrong).toEqual([])
    await expectAnswers(aggregator, server, truthSnapshot(sim, server, startMs, watermark), 120_000)
    const conversations = await expectTramiteCounts({
      classifier,
      sim,
      server,
      fromMs: startMs,
      toMs: watermark,
      timeoutMs: 120_000,
    })
    report(
      `secured pipeline: ${expected.size} messages, ${events.length} records, missing 0, repeated ${diff.repeated.length}, ` +
        `${conversations} conversations classified`,
    )

    // No password and no token anywhere a user or an attacker could read.
    const servicePages = await Promise.all(
      [aggregator.httpPort(), classifier.httpPort()].flatMap((p) => [
        fetch(`http://127.0.0.1:${p}/status`).then((r) => r.text()),
        fetch(`http://127.0.0.1:${p}/metrics`).then((r) => r.text()),
      ]),
    )
    const topicText = (
      await Promise.all(
        [...productTopics.map((t) => t.name), dlqTopic('sentiment-aggregator').name].map(
          async (name) =>
            (await readTopicToEnd(stack.kafka, name, { timeoutMs: 60_000 }))
              .map((r) => `${r.key?.toString('latin1') ?? ''} ${r.value?.toString('latin1') ?? ''}`)
              .join('\n'),
        ),
      )
    ).join('\n')
    const redis = await dumpRedis(stack.redisUrl)
    const nodeLogs = stack.cluster!.nodes.flatMap((node) =>
      ['server.log', 'stdout.log'].map((file) => {
        try {
          return readFileSync(join(node.workDir, file), 'utf8')
        } catch {
          return ''
        }
      }),
    )
    const outputs: Record<string, string> = {
      'poller stdout': poller.process.stdout(),
      'poller stderr': poller.process.stderr(),
      'poller pages': pages.join('\n'),
      'service pages': servicePages.join('\n'),
      'aggregator log': loggedLines(aggregator).join(''),
      'classifier log': classifierLines(classifier).join(''),
      topics: topicText,
      redis: `${redis.keys.join('\n')}\n${redis.text}`,
      'node logs': nodeLogs.join('\n'),
    }
    expect(nodeLogs.join('').length).toBeGreaterThan(0)
    for (const [where, text] of Object.entries(outputs)) {
      for (const secret of [...passwords(), TOKEN]) {
        expect(text.includes(secret), `a secret in the ${where}`).toBe(false)
      }
    }
    for (const service of services.splice(0)) await service.stop()
  }, 420_000)

  /** Runs `poller once` with the secured variables of `user` and `overrides`; its outcome. */
  async function pollerOnce(user: string, overrides: Record<string, string>) {
    const env = pollerEnv({
      server: newServerCode(),
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers: target().brokers,
      redisUrl: stack.redisUrl,
      extra: { ...security.env(user), POLL_START: '1h', ...overrides },
    })
    const began = Date.now()
    const result = await runPoller(['once'], env)
    return { ...result, ms: Date.now() - began }
  }

  it('stops the poller at start with one error naming what to fix: a wrong password, an unknown CA, a principal without the ACL', async () => {
    const wrongPassword = 'canary-wrong-password-c81f'
    const passwordFile = join(scratch, 'wrong.password')
    writeFileSync(passwordFile, wrongPassword, { mode: 0o600 })
    // A CA of its own, which signed nothing the brokers present.
    const otherCa = join(scratch, 'other-ca.pem')
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(scratch, 'other-ca.key'),
        '-out',
        otherCa,
        '-subj',
        '/CN=not-the-brokers-ca',
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    )

    const cases = [
      {
        what: 'a wrong password',
        run: () => pollerOnce('poller', { KAFKA_SASL_PASSWORD_FILE: passwordFile }),
        code: 'KAFKA_AUTH_FAILED',
        names: 'KAFKA_SASL_PASSWORD_FILE',
      },
      {
        what: 'a CA that did not sign the brokers',
        run: () => pollerOnce('poller', { KAFKA_SSL_CA_FILE: otherCa }),
        code: 'KAFKA_TLS_FAILED',
        names: 'KAFKA_SSL_CA_FILE',
      },
      {
        what: "the classifier's principal, without the poller's ACLs",
        run: () => pollerOnce('tramite-classifier', {}),
        code: 'KAFKA_NOT_AUTHORIZED',
        // It may read the message topic (the classifier's input), not the poller's other two.
        names: 'topics wolkvox.poller.checkpoint.v1, wolkvox.poller.dlq.v1',
      },
    ]
    for (const c of cases) {
      const outcome = await c.run()
      const lastLine = outcome.stderr.trim().split('\n').at(-1) ?? ''
      report(
        `poller with ${c.what}: exit ${outcome.code} after ${outcome.ms} ms: ${lastLine.slice(0, 240)}`,
      )
      expect(outcome.code, `${c.what}: ${outcome.stderr}`).toBe(1)
      expect(lastLine, c.what).toContain(`poller: ${c.code}: `)
      expect(lastLine, c.what).toContain(c.names)
      // At start, not after a retry loop.
      expect(outcome.ms, c.what).toBeLessThan(90_000)
      for (const secret of [...passwords(), wrongPassword, TOKEN]) {
        expect(`${outcome.stdout}${outcome.stderr}`.includes(secret), c.what).toBe(false)
      }
    }
  }, 360_000)

  it('stops a consumer service at start when its principal lacks the ACL of its topics or of its group', async () => {
    const refusals = [
      {
        what: "the aggregator with the classifier's principal",
        user: 'tramite-classifier',
        // Its output topic exists, but not for a principal without an ACL on it.
        names: `topic ${topics.agentSentiment.name}`,
      },
      {
        what: 'the aggregator with every topic ACL but none on its group',
        user: NO_GROUP_USER,
        names: 'consumer group sentiment-aggregator',
      },
    ]
    for (const r of refusals) {
      const began = Date.now()
      const error = await startAggregator(target(), {
        name: 'sentiment-aggregator',
        outputTopic: topics.agentSentiment.name,
        env: security.env(r.user),
      }).then(
        (service) => {
          services.push(service)
          return null
        },
        (e: unknown) => e,
      )
      const ms = Date.now() - began
      report(
        `${r.what}: ${error instanceof Error ? error.message.split('\n')[0] : 'started'} (${ms} ms)`,
      )
      expect(isAppError(error, 'KAFKA_NOT_AUTHORIZED'), `${r.what}: ${String(error)}`).toBe(true)
      expect((error as Error).message).toContain(r.names)
      expect(ms, r.what).toBeLessThan(90_000)
      for (const secret of passwords()) {
        expect(String((error as Error).message).includes(secret)).toBe(false)
      }
    }
  }, 240_000)
})
