import { describe, expect, it } from 'vitest'
import { createLogger } from '@wolkvox-chat-stream/observability'
import {
  createLiveLine,
  createProgressReporter,
  progressLine,
  type BackfillProgress,
} from './progress.js'

/**
 * A terminal screen both stdout and stderr write to, as a person sees it: text, `\r` (back to the
 * line's start), `\n` (a new line), ESC[2K (erase the line).
 */
function fakeTerminal() {
  const lines: string[] = ['']
  let col = 0
  const write = (text: string): boolean => {
    for (let i = 0; i < text.length; i += 1) {
      const row = lines.length - 1
      if (text.startsWith('\x1b[2K', i)) {
        lines[row] = ''
        i += 3
      } else if (text[i] === '\r') col = 0
      else if (text[i] === '\n') {
        lines.push('')
        col = 0
      } else {
        const line = lines[row]!.padEnd(col)
        lines[row] = line.slice(0, col) + text[i]! + line.slice(col + 1)
        col += 1
      }
    }
    return true
  }
  return {
    stdout: { write, isTTY: true },
    stderr: { write, isTTY: true },
    screen: () => [...lines],
  }
}

const progress = (windowsDone: number): BackfillProgress => ({
  server: '0010',
  window: { fromMs: 0, toMs: 3_600_000 },
  windowsDone,
  windowsTotal: 4,
  published: windowsDone * 10,
  fetched: windowsDone * 10,
  etaMs: null,
})

describe('the backfill bar on a terminal', () => {
  it('draws a full bar, not a RangeError, when more windows are done than counted', () => {
    expect(progressLine({ ...progress(7), windowsTotal: 6 })).toBe(
      `0010 backfill [${'#'.repeat(24)}] 7/6 windows 100% · 70 published · ETA …`,
    )
  })

  it('keeps log lines above the bar and draws it again below them', () => {
    const term = fakeTerminal()
    const live = createLiveLine(term.stdout)
    const logger = createLogger({
      name: 'poller',
      format: 'pretty',
      stream: live.around(term.stderr),
    })
    const reporter = createProgressReporter(term.stdout, live)

    logger.info('before the bar')
    reporter.window(progress(1))
    logger.warn('kafka: Stopped', { groupId: 'g' })
    reporter.window(progress(2))
    logger.info('one more')
    logger.info('and another')
    reporter.window(progress(4))
    reporter.end({ windows: 4 })
    logger.info('after the bar')

    const screen = term.screen().map((line) => line.replace(/\d\d:\d\d:\d\d/, 'HH:MM:SS'))
    expect(screen).toEqual([
      'INFO  HH:MM:SS poller: before the bar',
      'WARN  HH:MM:SS poller: kafka: Stopped  groupId=g',
      'INFO  HH:MM:SS poller: one more',
      'INFO  HH:MM:SS poller: and another',
      progressLine(progress(4)),
      '{"event":"end","windows":4}',
      'INFO  HH:MM:SS poller: after the bar',
      '',
    ])
  })

  it('writes exactly: erase the bar, the log line, the bar again', () => {
    const writes: [string, string][] = []
    const out = { write: (t: string) => writes.push(['out', t]), isTTY: true }
    const err = { write: (t: string) => writes.push(['err', t]), isTTY: true }
    const live = createLiveLine(out)
    const logStream = live.around(err)
    expect(logStream.isTTY).toBe(true)
    logStream.write('no bar yet\n')
    live.show('[##--]')
    logStream.write('a log line\n')
    live.done()
    live.done()
    logStream.write('below\n')
    expect(writes).toEqual([
      ['err', 'no bar yet\n'],
      ['out', '\r\x1b[2K[##--]'],
      ['out', '\r\x1b[2K'],
      ['err', 'a log line\n'],
      ['out', '[##--]'],
      ['out', '\n'],
      ['err', 'below\n'],
    ])
  })

  it('draws nothing and passes log lines through when stdout is not a terminal', () => {
    const writes: string[] = []
    const live = createLiveLine({ write: (t: string) => writes.push(`out:${t}`) })
    const logStream = live.around({ write: (t: string) => writes.push(`err:${t}`) })
    expect(logStream.isTTY).toBeUndefined()
    live.show('[##--]')
    logStream.write('line\n')
    live.done()
    expect(writes).toEqual(['err:line\n'])
  })
})
