/*
 * `npm run new:consumer` scaffolds a service that works as written: it type-checks, its own unit
 * test passes, it is formatted, and, started like a real service, it consumes a ChatMessage of the
 * simulator's data and answers for it over HTTP, then stops cleanly on SIGTERM.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createKafkaClient } from '@wolkvox-chat-stream/kafka'
import { createRedis, waitUntilReady } from '@wolkvox-chat-stream/redis'
import { deleteServiceState } from '@wolkvox-chat-stream/service-kit'
import { datasetEvents, produceEvents } from '../support/chat-events.js'
import { createTopic } from '../support/topics.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const run = promisify(execFile)
const bin = (tool: string): string => join(root, 'node_modules/.bin', tool)

describe('npm run new:consumer', () => {
  const dir = join(root, 'test-artifacts', uniqueName('scaffold'))
  const name = uniqueName('scaffolded')
  const service = join(dir, 'services', name)
  let child: ChildProcess | undefined

  afterAll(async () => {
    child?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
    const redis = createRedis(inject('redisUrl'), { name: 'scaffold-test' })
    await waitUntilReady(redis)
    await deleteServiceState(redis, name)
    await redis.quit()
  })

  it('scaffolds a service that builds, passes its test and consumes an event', async () => {
    const created = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=source',
        'packages/service-kit/src/new-consumer.ts',
        name,
        '--services-dir',
        join(dir, 'services'),
      ],
      { cwd: root },
    )
    expect(created.stdout).toContain(`${name}/ (8 files)`)

    const fail = (what: string) => (error: { stdout?: string; stderr?: string }) => {
      throw new Error(`The scaffold ${what}:\n${error.stdout ?? ''}${error.stderr ?? ''}`)
    }
    await run(bin('tsc'), ['--noEmit', '-p', service], { timeout: 120_000 }).catch(
      fail('does not type-check'),
    )
    await run(bin('prettier'), ['--check', service]).catch(fail('is not formatted'))
    // Its own unit test, as `vitest --project unit` runs it once it lives under services/.
    writeFileSync(
      join(service, 'vitest.config.mjs'),
      `import { defineConfig } from 'vitest/config'
export default defineConfig({
  ssr: { resolve: { conditions: ['source'] } },
  test: { include: ['src/**/*.test.ts'] },
})
`,
    )
    await run(bin('vitest'), ['run', '--config', 'vitest.config.mjs'], {
      cwd: service,
      timeout: 120_000,
    }).catch(fail('unit test fails'))

    const brokers = inject('kafkaBrokers')
    const kafka = createKafkaClient({ brokers: [brokers], clientId: 'scaffold-test' })
    const admin = kafka.admin()
    await admin.connect()
    const topic = uniqueName('scaffold-input')
    await createTopic(admin, topic, 2)
    await admin.disconnect()
    const [event] = datasetEvents(1, { seed: 3 })
    await produceEvents(kafka, topic, [event!])

    // Node itself with tsx as a loader, not the tsx CLI: the CLI relays SIGTERM through an IPC
    // handshake with a 30 ms deadline and kills the child (exit 143) when a loaded machine is late.
    child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', 'src/main.ts'], {
      cwd: service,
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers,
        REDIS_URL: inject('redisUrl'),
        HTTP_PORT: '0',
        CONSUMER_INPUT_TOPIC: topic,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve))
    let port: number | undefined
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const record = JSON.parse(line) as { msg?: string; port?: number }
        if (record.msg === 'http server listening') port = record.port
      } catch {
        // kafkajs may print plain lines
      }
    })
    const counts = await waitFor(
      async () => {
        if (port === undefined) return undefined
        const response = await fetch(`http://127.0.0.1:${port}/counts`)
        const body = (await response.json()) as Record<string, number>
        return body.total === 1 ? body : undefined
      },
      { what: 'the scaffolded service to count the event', timeoutMs: 60_000 },
    )
    expect(counts).toEqual({
      total: 1,
      [`sentiment.${event!.sentiment}`]: 1,
      [`sender.${event!.sender}`]: 1,
    })
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    child = undefined
  })
})
