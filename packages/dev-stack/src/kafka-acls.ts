/*
 * The ACLs of the product's principals on a secured cluster (`startKafkaCluster({ secure: true })`,
 * where nothing without an ACL is allowed), as data: the same lists grant them, document them and
 * test them. Each principal gets only what its service does:
 *
 *   poller                 writes chat messages, its checkpoints and its dead letters, provisions
 *                          those three topics, reads its checkpoints back through throwaway
 *                          groups `wolkvox-reader-*` (readTopicToEnd) that it then deletes, and
 *                          verifies (describes) the consumers' output topics at start;
 *   a consumer service     reads its input topic in its group (= its name), verifies the input's
 *                          settings, and provisions and writes its outputs and its dead letters;
 *                          a companion consumer in the same process (chat-quality's
 *                          `chat-quality-tramites`) the same for its own input, group and dead
 *                          letters, under the service's principal.
 */
import { dlqTopic, topics } from '@wolkvox-chat-stream/events'
import {
  createKafkaClient,
  toKafkaError,
  type Admin,
  type KafkaConnection,
} from '@wolkvox-chat-stream/kafka'

/** An operation a grant allows (Kafka's ACL operation names). */
export type AclOperationName =
  'READ' | 'WRITE' | 'CREATE' | 'DELETE' | 'DESCRIBE' | 'DESCRIBE_CONFIGS'

/** Operations on one resource: a topic or group by its name, or every one whose name starts so. */
export interface AclGrant {
  resourceType: 'TOPIC' | 'GROUP'
  name: string
  /** `LITERAL`: this name; `PREFIXED`: every name starting with it. */
  patternType: 'LITERAL' | 'PREFIXED'
  operations: readonly AclOperationName[]
}

/** What one principal may do; everything else it is refused. */
export interface PrincipalAcls {
  /** `User:<SCRAM user>`. */
  principal: string
  grants: readonly AclGrant[]
}

/** A producer's rights on a topic it provisions: create it, see it and its settings, write. */
const PRODUCE: readonly AclOperationName[] = ['CREATE', 'DESCRIBE', 'DESCRIBE_CONFIGS', 'WRITE']

const topic = (name: string, operations: readonly AclOperationName[]): AclGrant => ({
  resourceType: 'TOPIC',
  name,
  patternType: 'LITERAL',
  operations,
})

/** The group prefix of `readTopicToEnd`'s throwaway consumer groups. */
export const READER_GROUP_PREFIX = 'wolkvox-reader-'

/**
 * The poller's ACLs: {@link PRODUCE} on the chat message, checkpoint and poller DLQ topics, READ on
 * the checkpoint topic, and READ and DELETE on the groups `wolkvox-reader-*` it reads the
 * checkpoints with. Nothing on any other topic: at start it provisions or verifies only its own
 * three (`pollerTopics`). `verifyTopics` (default none) adds DESCRIBE and DESCRIBE_CONFIGS on
 * others, for a deployment whose tooling checks more topics as the poller's principal.
 * Names default to the contract's.
 */
export function pollerAcls(
  options: {
    user?: string
    messageTopic?: string
    checkpointTopic?: string
    dlqTopic?: string
    readerGroupPrefix?: string
    verifyTopics?: readonly string[]
  } = {},
): PrincipalAcls {
  const checkpoint = options.checkpointTopic ?? topics.pollerCheckpoint.name
  const verify = options.verifyTopics ?? []
  return {
    principal: `User:${options.user ?? 'poller'}`,
    grants: [
      topic(options.messageTopic ?? topics.chatMessage.name, PRODUCE),
      topic(checkpoint, [...PRODUCE, 'READ']),
      topic(options.dlqTopic ?? topics.pollerDlq.name, PRODUCE),
      {
        resourceType: 'GROUP',
        name: options.readerGroupPrefix ?? READER_GROUP_PREFIX,
        patternType: 'PREFIXED',
        operations: ['READ', 'DELETE'],
      },
      ...verify.map((name) => topic(name, ['DESCRIBE', 'DESCRIBE_CONFIGS'])),
    ],
  }
}

/** A consumer run in the same process as a service, under its principal (service-kit `companions`). */
export interface CompanionConsumer {
  /** Its name: its consumer group and its DLQ's middle part. */
  name: string
  /** The topic it reads. */
  input: string
  /** Default `dlqTopic(name)`. */
  dlq?: string
}

/**
 * A consumer service's ACLs (principal `User:<user>`, default its name): READ, DESCRIBE and
 * DESCRIBE_CONFIGS (its settings are verified at start) on the input topic; READ and DESCRIBE on
 * the group `<name>`; {@link PRODUCE} on each output and on its DLQ `wolkvox.<name>.dlq`; then,
 * for each of `companions`, the same on its input, its group and its DLQ (it writes no output).
 * Defaults: input `wolkvox.chat.message.v1`, DLQ from `dlqTopic(name)`.
 */
export function consumerServiceAcls(options: {
  /** The service's name: its consumer group and its DLQ's middle part. */
  name: string
  user?: string
  input?: string
  outputs: readonly string[]
  dlq?: string
  /** Consumers in the same process, under the same principal (default none). */
  companions?: readonly CompanionConsumer[]
}): PrincipalAcls {
  /** Reading `input` in group `name`: READ, DESCRIBE, DESCRIBE_CONFIGS; READ, DESCRIBE. */
  const reading = (name: string, input: string): AclGrant[] => [
    topic(input, ['READ', 'DESCRIBE', 'DESCRIBE_CONFIGS']),
    { resourceType: 'GROUP', name, patternType: 'LITERAL', operations: ['READ', 'DESCRIBE'] },
  ]
  const deadLetters = (name: string, dlq: string | undefined): AclGrant =>
    topic(dlq ?? dlqTopic(name).name, PRODUCE)
  return {
    principal: `User:${options.user ?? options.name}`,
    grants: [
      ...reading(options.name, options.input ?? topics.chatMessage.name),
      ...options.outputs.map((name) => topic(name, PRODUCE)),
      deadLetters(options.name, options.dlq),
      ...(options.companions ?? []).flatMap((c) => [
        ...reading(c.name, c.input),
        deadLetters(c.name, c.dlq),
      ]),
    ],
  }
}

/**
 * The ACLs of the product's four principals with the contract's topic names: `poller`,
 * `sentiment-aggregator` (writes `wolkvox.agent.sentiment.v1`), `tramite-classifier` (writes
 * `wolkvox.chat.tramite.v1`) and `chat-quality` (writes `wolkvox.chat.quality.v1`), the three
 * consumers reading `wolkvox.chat.message.v1`; `chat-quality` also reads
 * `wolkvox.chat.tramite.v1` in its companion group `chat-quality-tramites`, whose dead letters go
 * to `wolkvox.chat-quality-tramites.dlq`.
 */
export function productAcls(): PrincipalAcls[] {
  return [
    pollerAcls(),
    consumerServiceAcls({ name: 'sentiment-aggregator', outputs: [topics.agentSentiment.name] }),
    consumerServiceAcls({ name: 'tramite-classifier', outputs: [topics.chatTramite.name] }),
    consumerServiceAcls({
      name: 'chat-quality',
      outputs: [topics.chatQuality.name],
      companions: [{ name: 'chat-quality-tramites', input: topics.chatTramite.name }],
    }),
  ]
}

// kafkajs's enums (types/index.d.ts: AclResourceTypes, AclOperationTypes, ResourcePatternTypes,
// AclPermissionTypes), by value: only packages/kafka imports kafkajs. A unit test compares them.
/** kafkajs `AclResourceTypes`. */
export const ACL_RESOURCE_TYPES = { TOPIC: 2, GROUP: 3 } as const
/** kafkajs `AclOperationTypes`. */
export const ACL_OPERATION_TYPES = {
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  DESCRIBE: 8,
  DESCRIBE_CONFIGS: 10,
} as const
/** kafkajs `ResourcePatternTypes`. */
export const ACL_PATTERN_TYPES = { LITERAL: 3, PREFIXED: 4 } as const
/** kafkajs `AclPermissionTypes.ALLOW`. */
export const ACL_ALLOW = 3

/** One ACL as kafkajs's `admin.createAcls` takes it. */
export type AclEntry = Parameters<Admin['createAcls']>[0]['acl'][number]

/** Every ACL of `acls` as kafkajs entries: ALLOW from any host, one entry per operation. */
export function aclEntries(acls: readonly PrincipalAcls[]): AclEntry[] {
  return acls.flatMap(({ principal, grants }) =>
    grants.flatMap((grant) =>
      grant.operations.map((operation): AclEntry => ({
        principal,
        host: '*',
        resourceType: ACL_RESOURCE_TYPES[grant.resourceType],
        resourceName: grant.name,
        resourcePatternType: ACL_PATTERN_TYPES[grant.patternType],
        operation: ACL_OPERATION_TYPES[operation],
        permissionType: ACL_ALLOW,
      })),
    ),
  )
}

/**
 * `acls` as a Markdown table (principal, resource, operations), for documentation written from
 * the same data that is granted.
 */
export function renderAclTable(acls: readonly PrincipalAcls[]): string {
  const rows = acls.flatMap(({ principal, grants }) =>
    grants.map(
      (g) =>
        `| \`${principal}\` | ${g.resourceType.toLowerCase()} \`${g.name}\`${g.patternType === 'PREFIXED' ? '*' : ''} | ${g.operations.join(', ')} |`,
    ),
  )
  return ['| Principal | Resource | Operations |', '| --- | --- | --- |', ...rows].join('\n')
}

/**
 * Creates the ACLs of `acls` (ALLOW, any host) through `connection`, which must be a super user's
 * (on a secured local cluster: `cluster.security.connection('admin')`). Creating an ACL that exists
 * is a no-op, so granting twice is safe. Each broker applies new ACLs from the cluster metadata
 * within moments: a request in the same instant may still be refused.
 * @throws AppError `KAFKA_AUTH_FAILED`, `KAFKA_UNAVAILABLE` or `KAFKA_REQUEST_FAILED` (see
 *   `toKafkaError`).
 */
export async function grantAcls(
  connection: KafkaConnection,
  acls: readonly PrincipalAcls[],
): Promise<void> {
  const entries = aclEntries(acls)
  if (entries.length === 0) return
  const admin = createKafkaClient({ clientId: 'wolkvox-dev-stack-acls', ...connection }).admin()
  try {
    await admin.connect()
    await admin.createAcls({ acl: entries })
  } catch (error) {
    throw toKafkaError(error, 'Granting ACLs')
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}
