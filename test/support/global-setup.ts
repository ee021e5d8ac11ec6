import type { TestProject } from 'vitest/node'
import {
  kafkaNodesFromEnv,
  kafkaVersionFromEnv,
  startPrivateStack,
  type PrivateStack,
} from '@wolkvox-chat-stream/dev-stack'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the run's private broker (of a cluster: its first node). */
    kafkaBrokers: string
    /** URL of the run's private redis-server. */
    redisUrl: string
    /** Version of the run's broker (`KAFKA_VERSION`, default 3.9.2). */
    kafkaVersion: string
  }
}

let stack: PrivateStack | undefined

/**
 * Starts one private Kafka broker and one private redis-server, on free ports, for the whole
 * integration run. A failure here fails the run loudly: no test skips for want of a service.
 * `KAFKA_VERSION` picks the broker (default 3.9.2; `npm run test:kafka4` runs 4.4.0);
 * `KAFKA_NODES=3` runs the integration project on a three-node KRaft cluster instead.
 */
export async function setup(project: TestProject): Promise<void> {
  const started = Date.now()
  const onProgress = (line: string): void => {
    process.stderr.write(`[dev-stack] ${line}\n`)
  }
  const nodes = kafkaNodesFromEnv()
  stack = await startPrivateStack({
    kafka: { version: kafkaVersionFromEnv(), onProgress },
    cluster: { nodes, version: kafkaVersionFromEnv(), onProgress },
  })
  process.stderr.write(
    `[dev-stack] Kafka ${stack.kafka.version}${nodes > 1 ? ` (${nodes} nodes)` : ''} at ${stack.kafkaBrokers} (ready in ${stack.kafka.readyMs()} ms), ` +
      `redis-server at ${stack.redisUrl}; ${Date.now() - started} ms in all\n`,
  )
  // One bootstrap address even for a cluster: tests pass it as `brokers: [inject('kafkaBrokers')]`,
  // and kafkajs finds the other nodes in the metadata (no integration test stops a node).
  project.provide('kafkaBrokers', stack.kafkaBrokers.split(',')[0]!)
  project.provide('redisUrl', stack.redisUrl)
  project.provide('kafkaVersion', stack.kafka.version)
}

export async function teardown(): Promise<void> {
  await stack?.stop()
}
