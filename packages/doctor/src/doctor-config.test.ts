import { describe, expect, it } from 'vitest'
import { configChecks, readProductConfig, serviceNames } from './configs.js'
import { parseFlags } from './flags.js'
import { expectedTopics } from './kafka-checks.js'
import { productSubjects } from './registry-checks.js'

const base = { WOLKVOX_SERVER: '0010', WOLKVOX_TOKEN: 'a-token-of-the-poller' }

describe('configuration lines', () => {
  it('are one per service, in order, each failing with its own code and variables', () => {
    const lines = configChecks(
      readProductConfig({ ...base, WOLKVOX_SERVER: 'x', CLASSIFIER_NAME: 'Bad Name' }, '/'),
    )
    expect(lines.map((l) => [l.check, l.status])).toEqual([
      ['config poller', 'fail'],
      ['config sentiment-aggregator', 'pass'],
      ['config tramite-classifier', 'fail'],
      ['config chat-quality', 'pass'],
    ])
    expect(lines[0]!.detail).toBe(
      'CONFIG_INVALID: Invalid configuration (1 problem):\n  - WOLKVOX_SERVER: must be 1 to 6 digits, such as 0010',
    )
    expect(lines[0]!.fix).toBe('set each variable named as it says (README: The poller)')
    expect(lines[2]!.detail).toContain('CLASSIFIER_NAME: must be 1 to 63 lower-case letters')
  })
})

describe('expected topics', () => {
  it('are the contract topics and each consumer dead-letter topic, names as configured', () => {
    const names = serviceNames(
      readProductConfig(
        { ...base, CLASSIFIER_NAME: 'doctor-x', QUALITY_OUTPUT_TOPIC: 'q.out' },
        '/',
      ),
    )
    expect(expectedTopics(names).map((t) => [t.name, t.partitions, t.cleanupPolicy])).toEqual([
      ['wolkvox.chat.message.v1', 6, 'delete'],
      ['wolkvox.poller.checkpoint.v1', 1, 'compact'],
      ['wolkvox.poller.dlq.v1', 1, 'delete'],
      ['wolkvox.agent.sentiment.v1', 6, 'compact'],
      ['wolkvox.chat.tramite.v1', 6, 'compact'],
      ['q.out', 6, 'compact'],
      ['wolkvox.sentiment-aggregator.dlq', 1, 'delete'],
      ['wolkvox.doctor-x.dlq', 1, 'delete'],
      ['wolkvox.chat-quality.dlq', 1, 'delete'],
      ['wolkvox.chat-quality-tramites.dlq', 1, 'delete'],
    ])
  })

  it('fall back to the defaults when a service configuration is invalid', () => {
    const names = serviceNames(readProductConfig({ CLASSIFIER_NAME: 'Bad Name' }, '/'))
    expect(names.classifier).toBe('tramite-classifier')
    expect(names.chatMessageVersion).toBe(2)
  })
})

describe('registry subjects', () => {
  it('are each written topic with the schema version written', () => {
    const names = serviceNames(readProductConfig({ ...base, POLL_CHAT_MESSAGE_VERSION: '1' }, '/'))
    expect(productSubjects(names).map((s) => [s.subject, s.record])).toEqual([
      ['wolkvox.chat.message.v1-value', 'ChatMessage v1'],
      ['wolkvox.poller.checkpoint.v1-value', 'PollerCheckpoint v1'],
      ['wolkvox.agent.sentiment.v1-value', 'AgentSentiment v2'],
      ['wolkvox.chat.tramite.v1-value', 'TramiteClassification v1'],
      ['wolkvox.chat.quality.v1-value', 'ChatQuality v1'],
    ])
  })
})

describe('flags', () => {
  it.each([
    [[], { json: false, call: false, timeoutMs: 5000 }],
    [['--json', '--call', '--timeout', '2000'], { json: true, call: true, timeoutMs: 2000 }],
    [['--help'], 'help'],
    [['--timeout', 'x'], { problem: '--timeout takes milliseconds, 100 to 120000' }],
    [['--force'], { problem: 'unknown argument "--force"' }],
  ])('%j', (args, expected) => {
    expect(parseFlags(args)).toEqual(expected)
  })
})
