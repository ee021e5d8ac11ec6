/*
 * The poller as a person at a terminal sees it (issue 25): commands run on a real
 * pseudo-terminal (util-linux `script`), their output replayed on a model screen. Log lines are
 * human lines and never land on the backfill's bar; `status` is a table; kafkajs's normal
 * chatter and its bounded-retries warning stay out of sight; with a pipe, everything is JSON.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startRedisServer, type RedisServer } from '@wolkvox-chat-stream/dev-stack'
import { startSimulator, type RunningSimulator } from '@wolkvox-chat-stream/wolkvox-simulator'
import { newServerCode, pollerEnv } from '../support/poller-harness.js'
import { runPoller } from '../support/poller-service-harness.js'

const TOKEN = 'canary-poller-terminal-token-5d21'
const main = fileURLToPath(new URL('../../services/poller/src/main.ts', import.meta.url))
const run = promisify(execFile)

/**
 * Runs `npm run poller -- <args>` with stdout and stderr on one pseudo-terminal; answers its exit
 * code and what the terminal received. The arguments travel in the environment (no spaces in
 * them), never quoted into the command line.
 */
async function onTerminal(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  const command = '"$NODE" --import tsx --conditions=source "$POLLER_MAIN" $POLLER_ARGS'
  const result = await run('script', ['-qec', command, '/dev/null'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...env,
      NODE: process.execPath,
      POLLER_MAIN: main,
      POLLER_ARGS: args.join(' '),
    },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  }).then(
    ({ stdout }) => ({ code: 0, output: stdout }),
    (error: { code: number; stdout: string }) => ({ code: error.code, output: error.stdout }),
  )
  return result
}

/** The screen after `output`: text, `\r`, `\n` and ESC[2K (erase the line) as a terminal does. */
function screenOf(output: string): string[] {
  const lines: string[] = ['']
  let col = 0
  for (let i = 0; i < output.length; i += 1) {
    const row = lines.length - 1
    if (output.startsWith('\x1b[2K', i)) {
      lines[row] = ''
      i += 3
    } else if (output[i] === '\r') col = 0
    else if (output[i] === '\n') {
      lines.push('')
      col = 0
    } else {
      const line = lines[row]!.padEnd(col)
      lines[row] = line.slice(0, col) + output[i]! + line.slice(col + 1)
      col += 1
    }
  }
  return lines.filter((line) => line !== '')
}

const HUMAN_LOG = /^(TRACE|DEBUG|INFO |WARN |ERROR|FATAL) \d\d:\d\d:\d\d poller: /

describe('the poller on a terminal', () => {
  let sim: RunningSimulator
  let redis: RedisServer
  let env: Record<string, string>
  const server = newServerCode()

  beforeAll(async () => {
    ;[sim, redis] = await Promise.all([
      startSimulator({ tokens: [TOKEN], chatsPerHour: 30, seed: 25, latencyMs: 5 }),
      startRedisServer(),
    ])
    env = pollerEnv({
      server,
      token: TOKEN,
      simulatorUrl: sim.url,
      kafkaBrokers: inject('kafkaBrokers'),
      redisUrl: redis.url,
      extra: { POLL_START: '3h' },
    })
  })

  afterAll(async () => {
    await sim?.close()
    await redis?.stop()
  })

  // Regression: a range one second longer than six windows was counted as 6 windows and polled
  // as 7, and the bar's 7/6 threw a RangeError that failed the finished backfill on a terminal.
  it('backfill: log lines go above the bar, in the human form; the bar ends at 6/6', async () => {
    // debug: kafkajs's records (its chatter included) interleave with every window.
    const { code, output } = await onTerminal(
      ['backfill', '--from', '3h', '--to', '2h', '--window', '10m'],
      { ...env, LOG_LEVEL: 'debug' },
    )
    const screen = screenOf(output)
    expect(code, screen.join('\n')).toBe(0)
    const bar = new RegExp(`^${server} backfill \\[[#-]{24}\\] \\d/6 windows`)
    const others = screen.filter(
      (line) => !HUMAN_LOG.test(line) && !bar.test(line) && !line.startsWith('{"event":"end"'),
    )
    // Every line is whole: a log line, the bar, or the summary; nothing printed over another.
    expect(others).toEqual([])
    expect(screen.filter((line) => bar.test(line))).toEqual([
      expect.stringMatching(new RegExp(`^${server} backfill \\[#{24}\\] 6/6 windows 100%`)),
    ])
    expect(JSON.parse(screen.at(-1)!)).toMatchObject({ event: 'end', windowsDone: 6 })
    // Log lines were written while the bar was up, each after erasing it.
    const firstBar = output.indexOf(`\x1b[2K${server} backfill [`)
    expect(firstBar).toBeGreaterThan(-1)
    const during = output.slice(firstBar, output.indexOf('{"event":"end"'))
    const erasedThenLogged = during.split('\x1b[2K').filter((part) => HUMAN_LOG.test(part))
    expect(erasedThenLogged.length).toBeGreaterThan(0)
    expect(output).not.toContain('"level":')
    expect(output).not.toContain('EoS')
  })

  it('once: human lines at info, none of kafkajs chatter, no warning', async () => {
    const { code, output } = await onTerminal(['once'], { ...env, LOG_LEVEL: 'info' })
    const screen = screenOf(output)
    expect(code, screen.join('\n')).toBe(0)
    // The summary on stdout; the log lines (if any) human, none about kafkajs's own doings.
    const summary = screen.filter((line) => line.startsWith('{'))
    expect(summary).toHaveLength(1)
    expect(JSON.parse(summary[0]!)).toMatchObject({ server })
    for (const line of screen.filter((l) => !l.startsWith('{'))) expect(line).toMatch(HUMAN_LOG)
    expect(output).not.toMatch(/kafka: |EoS|^(WARN|ERROR)/m)
  })

  it('status: a table on a terminal, JSON with --json or through a pipe', async () => {
    const table = await onTerminal(['status'], env)
    const screen = screenOf(table.output)
    expect(table.code, screen.join('\n')).toBe(0)
    expect(screen[0]).toMatch(/^operations {3}1 \(1 (ok|lagging)\)$/)
    const header = screen.findIndex((line) => line.startsWith('SERVER  STATE'))
    expect(screen[header]).toMatch(
      /^SERVER +STATE +WATERMARK \(local\) +LAG +LAST SUCCESS +LAST ERROR +QUOTA LEFT +GAPS$/,
    )
    expect(screen[header + 1]).toMatch(
      new RegExp(`^${server} +(ok|lagging) +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +`),
    )

    const json = await onTerminal(['status', '--json'], env)
    expect(JSON.parse(json.output)).toMatchObject({ operations: [{ server }] })

    const piped = await runPoller(['status'], env)
    expect(piped.code, piped.stderr).toBe(0)
    expect(JSON.parse(piped.stdout)).toMatchObject({ summary: { operations: 1 } })
  })
})
