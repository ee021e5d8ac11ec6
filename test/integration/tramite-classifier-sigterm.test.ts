/*
 * Regression (issue 25): systemd stops a service by sending SIGTERM to its whole process group, and
 * `npm run` and tsx forward the signal to their child as well, so the service received it two or
 * three times and took the repeats for a "second signal: exiting now", skipping the graceful stop.
 * Here the classifier's command line runs in a process group of its own and the group gets SIGTERM,
 * then the same again at once, as forwarded: the classifier stops gracefully and exits 0, run
 * directly and through `npm run`.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { freePort } from '@wolkvox-chat-stream/dev-stack'
import { createKafkaClient, type Admin } from '@wolkvox-chat-stream/kafka'
import { createRedis, waitUntilReady, type Redis } from '@wolkvox-chat-stream/redis'
import { deleteServiceState } from '@wolkvox-chat-stream/service-kit'
import { createTopic } from '../support/topics.js'
import { uniqueName, waitFor } from '../support/wait-for.js'

const brokers = inject('kafkaBrokers')
const redisUrl = inject('redisUrl')
const root = fileURLToPath(new URL('../../', import.meta.url))

describe('npm run classifier -- run, stopped by SIGTERM to its process group', () => {
  let admin: Admin
  let redis: Redis
  const name = uniqueName('tramite-sigterm')
  const input = uniqueName('tramite-sigterm-input')

  beforeAll(async () => {
    admin = createKafkaClient({ brokers: [brokers], clientId: 'tramite-sigterm-test' }).admin()
    await admin.connect()
    await createTopic(admin, input, 1)
    redis = createRedis(redisUrl, { name: 'tramite-sigterm-test' })
    await waitUntilReady(redis)
  })

  afterAll(async () => {
    await deleteServiceState(redis, name).catch(() => undefined)
    await redis.quit()
    await admin.disconnect()
  })

  /**
   * Starts `command` in a process group of its own (pid = pgid, as a systemd unit's), waits until
   * the classifier is ready, sends SIGTERM to the group, and resolves once every process of the
   * group has closed its output: the exit of the group's leader and the classifier's log messages.
   */
  const stopGroup = async (
    command: string,
    args: string[],
    signals: 1 | 2 = 1,
  ): Promise<{
    code: number | null
    signal: NodeJS.Signals | null
    out: string
    messages: string[]
  }> => {
    const port = await freePort()
    const child = spawn(command, args, {
      cwd: root,
      detached: true,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        KAFKA_BROKERS: brokers,
        REDIS_URL: redisUrl,
        HTTP_PORT: String(port),
        CLASSIFIER_NAME: name,
        CONSUMER_INPUT_TOPIC: input,
        CLASSIFIER_OUTPUT_TOPIC: uniqueName('tramite-sigterm-output'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('close', (code, signal) => resolve({ code, signal })),
    )
    const pid = child.pid!
    try {
      await waitFor(
        async () =>
          (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
        { timeoutMs: 90_000, what: 'the classifier process to be ready' },
      ).catch((error: unknown) => {
        throw new Error(out, { cause: error })
      })
      process.kill(-pid, 'SIGTERM')
      if (signals === 2) {
        // Signals pending together merge into one: the repeat goes once the first was taken,
        // well within REPEATED_SIGNAL_WINDOW_MS, as a forwarded one arrives.
        await waitFor(() => out.includes('"msg":"signal received: stopping"'), {
          intervalMs: 5,
          what: 'the first signal to be taken',
        })
        process.kill(-pid, 'SIGTERM')
      }
      const { code, signal } = await closed
      const messages = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { msg?: string }).msg ?? '')
      return { code, signal, out, messages }
    } finally {
      // Left running only when the test failed before the signal.
      if (child.exitCode === null && child.signalCode === null) process.kill(-pid, 'SIGKILL')
    }
  }

  // The root scripts run `node --import tsx`, not the tsx CLI: the CLI relays a SIGTERM to its
  // child and SIGKILLs the child unless it acknowledges within 2 x 30 ms (tsx 4.23
  // relaySignalToChild), which killed a busy service before its handler ran (one run in four).
  it('npm run classifier -- run: the classifier stops gracefully, once', async () => {
    // npm forwards the signal to the shell running the script and then re-raises it on itself,
    // whatever the service does (npm's own way); the service's graceful stop goes on meanwhile,
    // and the group's output closes only once it has stopped.
    const { messages, out } = await stopGroup('npm', ['run', '--silent', 'classifier', '--', 'run'])
    expect(
      messages.filter((m) => m === 'signal received: stopping'),
      out,
    ).toHaveLength(1)
    expect(messages.at(-1), messages.join('\n')).toBe('stopped')
    expect(out).not.toContain('second signal')
  })

  it('node --import tsx: SIGTERM to the group twice within the window is one signal, exit 0', async () => {
    // The service as its own group leader, the repeat sent as npm or tsx forward it: at once.
    const { code, signal, messages } = await stopGroup(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', 'services/tramite-classifier/src/cli.ts', 'run'],
      2,
    )
    expect({ code, signal }, messages.join('\n')).toEqual({ code: 0, signal: null })
    expect(
      messages.filter((m) => m === 'signal received: stopping'),
      messages.join('\n'),
    ).toHaveLength(1)
    expect(messages.filter((m) => m.startsWith('signal repeated'))).toHaveLength(1)
    expect(messages.at(-1), messages.join('\n')).toBe('stopped')
    expect(messages.some((m) => m.includes('second signal'))).toBe(false)
  })
})
