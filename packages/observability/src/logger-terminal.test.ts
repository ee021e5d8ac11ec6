/*
 * The logger's format as a person and a script meet it: a real process whose stderr is a
 * pseudo-terminal (util-linux `script`), and the same process with stderr on a pipe.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const loggerFile = fileURLToPath(new URL('./logger.ts', import.meta.url))
const program = `
import { createLogger } from ${JSON.stringify(loggerFile)}
const logger = createLogger({ name: 'demo', stream: process.stderr })
logger.info('window polled', { server: '0010', published: 12 })
logger.error('window failed', { err: Object.assign(new Error('Kafka is away'), { code: 'KAFKA_UNAVAILABLE' }) })
`
const node = ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', program]

/** The environment of the child: no LOG_FORMAT from the caller's unless given. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { LOG_FORMAT: _ignored, ...env } = process.env
  return { ...env, ...extra }
}

/** Runs the program with its stdout and stderr on a pseudo-terminal; answers what it printed. */
async function onTerminal(extra: Record<string, string> = {}): Promise<string[]> {
  // `script -c` runs a shell command line; the program travels in the environment, never quoted into it.
  const out = await run('script', ['-qec', '"$NODE" $NODE_ARGS -e "$PROGRAM"', '/dev/null'], {
    env: envWith({
      ...extra,
      NODE: process.execPath,
      NODE_ARGS: node.slice(0, 4).join(' '),
      PROGRAM: program,
    }),
  })
  return out.stdout.split('\r\n').filter((line) => line !== '')
}

describe('the logger on a real terminal', () => {
  it('writes human lines when stderr is a terminal', async () => {
    const lines = await onTerminal()
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      /^INFO {2}\d\d:\d\d:\d\d demo: window polled {2}server=0010 published=12$/,
    )
    expect(lines[1]).toMatch(
      /^ERROR \d\d:\d\d:\d\d demo: window failed {2}err="KAFKA_UNAVAILABLE: Kafka is away"$/,
    )
  })

  it('writes JSON on a terminal with LOG_FORMAT=json', async () => {
    const lines = await onTerminal({ LOG_FORMAT: 'json' })
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      { level: 'info', name: 'demo', msg: 'window polled', server: '0010', published: 12 },
      { level: 'error', msg: 'window failed', err: { code: 'KAFKA_UNAVAILABLE' } },
    ])
  })

  it('writes JSON when stderr is a pipe, and human lines there with LOG_FORMAT=pretty', async () => {
    const piped = await run(process.execPath, node, { env: envWith({}) })
    const records = piped.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(records).toMatchObject([
      { level: 'info', msg: 'window polled' },
      { level: 'error', msg: 'window failed' },
    ])

    const pretty = await run(process.execPath, node, { env: envWith({ LOG_FORMAT: 'pretty' }) })
    expect(pretty.stderr).toMatch(/^INFO {2}\d\d:\d\d:\d\d demo: window polled/)
  })

  it('refuses an unknown LOG_FORMAT with CONFIG_INVALID naming the variable', async () => {
    const failed = await run(process.execPath, node, { env: envWith({ LOG_FORMAT: 'text' }) }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    )
    expect(failed?.code).toBe(1)
    expect(failed?.stderr).toContain('LOG_FORMAT: "text" is not one of auto, json, pretty')
  })
})
