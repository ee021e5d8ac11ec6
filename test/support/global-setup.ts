import type { TestProject } from 'vitest/node'
import {
  kafkaVersionFromEnv,
  startPrivateStack,
  type PrivateStack,
} from '@wolkvox-chat-stream/dev-stack'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the run's private broker. */
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
 * `KAFKA_VERSION` picks the broker (default 3.9.2; `npm run test:kafka4` runs 4.4.0).
 */
export async function setup(project: TestProject): Promise<void> {
  const started = Date.now()
  stack = await startPrivateStack({
    kafka: {
      version: kafkaVersionFromEnv(),
      onProgress: (line) => process.stderr.write(`[dev-stack] ${line}\n`),
    },
  })
  process.stderr.write(
    `[dev-stack] Kafka ${stack.kafka.version} at ${stack.kafkaBrokers} (ready in ${stack.kafka.readyMs()} ms), ` +
      `redis-server at ${stack.redisUrl}; ${Date.now() - started} ms in all\n`,
  )
  project.provide('kafkaBrokers', stack.kafkaBrokers)
  project.provide('redisUrl', stack.redisUrl)
  project.provide('kafkaVersion', stack.kafka.version)
}

export async function teardown(): Promise<void> {
  await stack?.stop()
}
