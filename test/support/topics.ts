import type { Admin } from '@wolkvox-chat-stream/kafka'
import { waitFor } from './wait-for.js'

/**
 * Creates a test topic and waits until every partition has a leader. kafkajs's own
 * `waitForLeaders` can fail on a KRaft broker right after creation ("does not host this
 * topic-partition"), so leadership is polled through the metadata instead.
 */
export async function createTopic(
  admin: Admin,
  topic: string,
  numPartitions = 1,
  configEntries: { name: string; value: string }[] = [],
): Promise<void> {
  await admin.createTopics({
    topics: [{ topic, numPartitions, replicationFactor: 1, configEntries }],
  })
  await waitFor(
    async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
      const partitions = metadata.topics[0]?.partitions ?? []
      return partitions.length === numPartitions && partitions.every((p) => p.leader >= 0)
    },
    { what: `leaders for ${topic}`, timeoutMs: 30_000 },
  )
}
