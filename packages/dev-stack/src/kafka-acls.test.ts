import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import {
  ACL_ALLOW,
  ACL_OPERATION_TYPES,
  ACL_PATTERN_TYPES,
  ACL_RESOURCE_TYPES,
  aclEntries,
  consumerServiceAcls,
  pollerAcls,
  productAcls,
  renderAclTable,
  type PrincipalAcls,
} from './kafka-acls.js'

/** `acls` as `resource name: operations` lines, sorted, for readable expectations. */
const summary = (acls: PrincipalAcls): string[] =>
  acls.grants
    .map(
      (g) =>
        `${g.resourceType} ${g.name}${g.patternType === 'PREFIXED' ? '*' : ''}: ${[...g.operations].sort().join(',')}`,
    )
    .sort()

describe('the product principals’ ACLs', () => {
  it('let the poller produce to its three topics and read its checkpoints back, and nothing else', () => {
    const acls = pollerAcls()
    expect(acls.principal).toBe('User:poller')
    expect(summary(acls)).toEqual([
      'GROUP wolkvox-reader-*: DELETE,READ',
      'TOPIC wolkvox.chat.message.v1: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
      'TOPIC wolkvox.poller.checkpoint.v1: CREATE,DESCRIBE,DESCRIBE_CONFIGS,READ,WRITE',
      'TOPIC wolkvox.poller.dlq.v1: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
    ])
    // Other topics only to describe, when asked for.
    expect(
      summary(pollerAcls({ verifyTopics: ['wolkvox.chat.tramite.v1'] })).filter((l) =>
        l.includes('tramite'),
      ),
    ).toEqual(['TOPIC wolkvox.chat.tramite.v1: DESCRIBE,DESCRIBE_CONFIGS'])
  })

  it('let a consumer service read its input in its group and produce its outputs and dead letters', () => {
    expect(
      summary(
        consumerServiceAcls({ name: 'tramite-classifier', outputs: ['wolkvox.chat.tramite.v1'] }),
      ),
    ).toEqual([
      'GROUP tramite-classifier: DESCRIBE,READ',
      'TOPIC wolkvox.chat.message.v1: DESCRIBE,DESCRIBE_CONFIGS,READ',
      'TOPIC wolkvox.chat.tramite.v1: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
      'TOPIC wolkvox.tramite-classifier.dlq: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
    ])
    expect(
      summary(consumerServiceAcls({ name: 'chat-quality', outputs: ['wolkvox.chat.quality.v1'] })),
    ).toEqual([
      'GROUP chat-quality: DESCRIBE,READ',
      'TOPIC wolkvox.chat-quality.dlq: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
      'TOPIC wolkvox.chat.message.v1: DESCRIBE,DESCRIBE_CONFIGS,READ',
      'TOPIC wolkvox.chat.quality.v1: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
    ])
  })

  it('let a companion consumer read its own input in its own group and produce its dead letters, under the service’s principal', () => {
    const acls = consumerServiceAcls({
      name: 'chat-quality',
      outputs: ['wolkvox.chat.quality.v1'],
      companions: [{ name: 'chat-quality-tramites', input: 'wolkvox.chat.tramite.v1' }],
    })
    expect(acls.principal).toBe('User:chat-quality')
    expect(summary(acls)).toEqual([
      'GROUP chat-quality-tramites: DESCRIBE,READ',
      'GROUP chat-quality: DESCRIBE,READ',
      'TOPIC wolkvox.chat-quality-tramites.dlq: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
      'TOPIC wolkvox.chat-quality.dlq: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
      'TOPIC wolkvox.chat.message.v1: DESCRIBE,DESCRIBE_CONFIGS,READ',
      'TOPIC wolkvox.chat.quality.v1: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
      'TOPIC wolkvox.chat.tramite.v1: DESCRIBE,DESCRIBE_CONFIGS,READ',
    ])
    // The same grants as the companion's own consumerServiceAcls under the service's user.
    const alone = consumerServiceAcls({
      name: 'chat-quality-tramites',
      user: 'chat-quality',
      input: 'wolkvox.chat.tramite.v1',
      outputs: [],
    })
    expect(acls.grants.slice(-3)).toEqual(alone.grants)
  })

  it('take every name as a parameter (tests use unique ones)', () => {
    const poller = pollerAcls({
      user: 'p1',
      messageTopic: 'm1',
      checkpointTopic: 'c1',
      dlqTopic: 'd1',
      readerGroupPrefix: 'r1-',
      verifyTopics: ['v1'],
    })
    expect(poller.principal).toBe('User:p1')
    expect(poller.grants.map((g) => g.name)).toEqual(['m1', 'c1', 'd1', 'r1-', 'v1'])
    const consumer = consumerServiceAcls({
      name: 'svc-x',
      user: 'u-x',
      input: 'in-x',
      outputs: ['out-a', 'out-b'],
      dlq: 'dlq-x',
      companions: [
        { name: 'svc-x-c', input: 'in-c', dlq: 'dlq-c' },
        { name: 'svc-x-d', input: 'in-d' },
      ],
    })
    expect(consumer.principal).toBe('User:u-x')
    expect(consumer.grants.map((g) => `${g.resourceType}:${g.name}`)).toEqual([
      'TOPIC:in-x',
      'GROUP:svc-x',
      'TOPIC:out-a',
      'TOPIC:out-b',
      'TOPIC:dlq-x',
      'TOPIC:in-c',
      'GROUP:svc-x-c',
      'TOPIC:dlq-c',
      'TOPIC:in-d',
      'GROUP:svc-x-d',
      'TOPIC:wolkvox.svc-x-d.dlq',
    ])
  })

  it('cover the four product principals with the contract’s topics', () => {
    const acls = productAcls()
    expect(acls.map((a) => a.principal)).toEqual([
      'User:poller',
      'User:sentiment-aggregator',
      'User:tramite-classifier',
      'User:chat-quality',
    ])
    const sentiment = acls[1]!.grants.map((g) => g.name)
    expect(sentiment).toEqual([
      'wolkvox.chat.message.v1',
      'sentiment-aggregator',
      'wolkvox.agent.sentiment.v1',
      'wolkvox.sentiment-aggregator.dlq',
    ])
    // chat-quality also reads the classifications for FCR, in its companion's group.
    expect(acls[3]!.grants.map((g) => g.name)).toEqual([
      'wolkvox.chat.message.v1',
      'chat-quality',
      'wolkvox.chat.quality.v1',
      'wolkvox.chat-quality.dlq',
      'wolkvox.chat.tramite.v1',
      'chat-quality-tramites',
      'wolkvox.chat-quality-tramites.dlq',
    ])
    expect(summary(acls[3]!).filter((l) => l.includes('tramite'))).toEqual([
      'GROUP chat-quality-tramites: DESCRIBE,READ',
      'TOPIC wolkvox.chat-quality-tramites.dlq: CREATE,DESCRIBE,DESCRIBE_CONFIGS,WRITE',
      'TOPIC wolkvox.chat.tramite.v1: DESCRIBE,DESCRIBE_CONFIGS,READ',
    ])
    // Each topic has one owner: no two principals may write or create it.
    const writers = new Map<string, string[]>()
    for (const { principal, grants } of acls) {
      for (const g of grants) {
        if (g.operations.includes('WRITE') || g.operations.includes('CREATE')) {
          writers.set(g.name, [...(writers.get(g.name) ?? []), principal])
        }
      }
    }
    for (const [topic, who] of writers) expect(who, topic).toHaveLength(1)
  })
})

describe('aclEntries', () => {
  it('uses kafkajs’s enum values', () => {
    const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } =
      kafkajs
    for (const [name, value] of Object.entries(ACL_OPERATION_TYPES)) {
      expect(AclOperationTypes[name as keyof typeof AclOperationTypes], name).toBe(value)
    }
    for (const [name, value] of Object.entries(ACL_RESOURCE_TYPES)) {
      expect(AclResourceTypes[name as keyof typeof AclResourceTypes], name).toBe(value)
    }
    for (const [name, value] of Object.entries(ACL_PATTERN_TYPES)) {
      expect(ResourcePatternTypes[name as keyof typeof ResourcePatternTypes], name).toBe(value)
    }
    expect(AclPermissionTypes.ALLOW).toBe(ACL_ALLOW)
  })

  it('makes one ALLOW entry per operation, from any host', () => {
    const entries = aclEntries([pollerAcls({ readerGroupPrefix: 'rg-', verifyTopics: [] })])
    expect(entries).toHaveLength(4 + 5 + 4 + 2)
    expect(entries).toContainEqual({
      principal: 'User:poller',
      host: '*',
      resourceType: 2,
      resourceName: 'wolkvox.poller.checkpoint.v1',
      resourcePatternType: 3,
      operation: 3,
      permissionType: 3,
    })
    expect(entries).toContainEqual({
      principal: 'User:poller',
      host: '*',
      resourceType: 3,
      resourceName: 'rg-',
      resourcePatternType: 4,
      operation: 6,
      permissionType: 3,
    })
  })

  it('renders the same data as a Markdown table', () => {
    const table = renderAclTable(productAcls())
    expect(table.split('\n')[0]).toBe('| Principal | Resource | Operations |')
    expect(table).toContain(
      '| `User:poller` | topic `wolkvox.chat.message.v1` | CREATE, DESCRIBE, DESCRIBE_CONFIGS, WRITE |',
    )
    expect(table).toContain('| `User:poller` | group `wolkvox-reader-`* | READ, DELETE |')
  })
})

describe('the README ACL table', () => {
  it('is the table of productAcls() (run `npm run docs` after changing an ACL)', () => {
    const readme = readFileSync(
      fileURLToPath(new URL('../../../README.md', import.meta.url)),
      'utf8',
    )
    const between = readme
      .split('<!-- kafka-acls:start -->')[1]
      ?.split('<!-- kafka-acls:end -->')[0]
    // Prettier pads Markdown tables; compare cells, not spacing.
    const cells = (table: string | undefined): string =>
      (table ?? '')
        .trim()
        .replace(/ *\| */g, '|')
        .replace(/-{3,}/g, '---')
    expect(cells(between)).toBe(cells(renderAclTable(productAcls())))
  })
})
