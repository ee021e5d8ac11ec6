/*
 * The simulator in its own process for the benchmark cases, so that its work is not counted in
 * the case's process: started on a random port, ready when /healthz answers.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { formatWallClock } from '@wolkvox-chat-stream/wolkvox-client'

export const HOUR_MS = 3_600_000
export const BENCH_ZONE = 'America/Bogota'

export interface SimulatorProcess {
  url: string
  /** The simulator's ground truth of an inclusive range of instants. */
  truth(fromMs: number, toMs: number): Promise<{ messageCount: number; data: unknown[] }>
  stop(): void
}

export async function startSimulatorProcess(options: {
  /** The one operation's token; with `operations`, each has `sim-token-<server>`. */
  token?: string
  seed?: number
  chatsPerHour?: number
  /** Many operations, server codes from `firstServer` on (the simulator's `--operations`). */
  operations?: { count: number; firstServer: number }
}): Promise<SimulatorProcess> {
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const main = fileURLToPath(
    new URL('../../services/wolkvox-simulator/src/main.ts', import.meta.url),
  )
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=source',
      main,
      ...['--port', String(port), '--seed', String(options.seed ?? 5)],
      ...['--chats-per-hour', String(options.chatsPerHour ?? 600)],
      ...(options.operations === undefined
        ? ['--token', options.token ?? 'sim-token']
        : [
            ...['--operations', String(options.operations.count)],
            ...['--first-server', String(options.operations.firstServer)],
          ]),
      ...['--row-cap', '1000000', '--log-level', 'warn'],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  )
  // A case that throws before its own stop (or ends without one) must not leave the simulator behind.
  process.once('exit', () => child.kill('SIGKILL'))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    const up = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (up) break
    if (i > 300 || child.exitCode !== null) {
      child.kill('SIGKILL')
      throw new Error('the simulator did not start')
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {
    url,
    async truth(fromMs, toMs) {
      const query = `date_ini=${formatWallClock(fromMs, BENCH_ZONE)}&date_end=${formatWallClock(toMs, BENCH_ZONE)}`
      return (await (await fetch(`${url}/__sim/truth?${query}`)).json()) as {
        messageCount: number
        data: unknown[]
      }
    },
    stop: () => void child.kill('SIGTERM'),
  }
}

/** A past range ending two hours ago, sized from the last hour's rate to hold about `target` messages. */
export async function rangeHolding(
  simulator: SimulatorProcess,
  target: number,
  endMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 2 * HOUR_MS,
): Promise<{ fromMs: number; toMs: number }> {
  const perHour = Math.max(1, (await simulator.truth(endMs - HOUR_MS, endMs - 1000)).messageCount)
  const spanMs = Math.ceil((target / perHour) * (HOUR_MS / 1000)) * 1000
  return { fromMs: endMs - spanMs, toMs: endMs - 1000 }
}
