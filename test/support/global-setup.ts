import type { TestProject } from 'vitest/node'
import { startPrivateStack, type PrivateStack } from '@wolkvox-chat-stream/dev-stack'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the run's private broker. */
    kafkaBrokers: string
    /** URL of the run's private redis-server. */
    redisUrl: string
  }
}

let stack: PrivateStack | undefined

/**
 * Starts one private Kafka broker and one private redis-server, on free ports, for the whole
 * integration run. A failure here fails the run loudly: no test skips for want of a service.
 */
export async function setup(project: TestProject): Promise<void> {
  const started = Date.now()
  stack = await startPrivateStack({
    kafka: { onProgress: (line) => process.stderr.write(`[dev-stack] ${line}\n`) },
  })
  process.stderr.write(
    `[dev-stack] Kafka ${stack.kafka.version} at ${stack.kafkaBrokers} (ready in ${stack.kafka.readyMs()} ms), ` +
      `redis-server at ${stack.redisUrl}; ${Date.now() - started} ms in all\n`,
  )
  project.provide('kafkaBrokers', stack.kafkaBrokers)
  project.provide('redisUrl', stack.redisUrl)
}

export async function teardown(): Promise<void> {
  await stack?.stop()
}
