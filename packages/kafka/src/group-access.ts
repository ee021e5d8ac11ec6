import { AppError } from '@wolkvox-chat-stream/errors'
import { createKafkaClient, type KafkaConnection } from './client.js'

/**
 * Fails when the cluster refuses the client's principal the consumer group `groupId`
 * (`GROUP_AUTHORIZATION_FAILED`); any other outcome resolves, leaving other failures to the calls
 * that follow.
 *
 * kafkajs 2.2.4 asks each broker in turn for the group's coordinator and, when every one refuses,
 * reports only "Failed to find group coordinator", which reads as a cluster that is away (retried
 * without end). The refusal itself appears only in its debug log, so this asks once through a
 * short-lived client at debug level and looks for it there.
 * @throws AppError `KAFKA_NOT_AUTHORIZED` naming the group.
 */
export async function assertGroupAccess(
  connection: KafkaConnection,
  groupId: string,
  topics: readonly string[],
): Promise<void> {
  let refused: string | undefined
  const client = createKafkaClient({
    ...connection,
    clientId: `${connection.clientId ?? 'wolkvox-chat-stream'}-group-check`,
    logger: undefined,
    logLevel: 'debug',
    log: ({ fields }) => {
      const type = (fields.error as { type?: unknown } | undefined)?.type
      if (type === 'GROUP_AUTHORIZATION_FAILED') refused = type
    },
  })
  const admin = client.admin({ retry: { retries: 0 } })
  try {
    await admin.connect()
    await admin.fetchOffsets({ groupId, topics: [...topics] })
  } catch {
    // Judged below by what the brokers answered.
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
  if (refused !== undefined) {
    throw new AppError(
      'KAFKA_NOT_AUTHORIZED',
      `Joining consumer group ${groupId} was refused (${refused}): the client's principal lacks READ on the group; grant it (README: Production Kafka)`,
      { details: { resource: 'consumer group', group: groupId, type: refused } },
    )
  }
}
