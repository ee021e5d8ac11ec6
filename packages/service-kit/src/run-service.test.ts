import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { AppError } from '@wolkvox-chat-stream/errors'
import { createLogger, REPEATED_SIGNAL_WINDOW_MS } from '@wolkvox-chat-stream/observability'
import type { ConsumerService } from './consumer-service.js'
import { runService } from './run-service.js'

const logger = createLogger({ name: 'test', level: 'silent' })

function fakeService(start: () => Promise<void> = () => Promise.resolve()) {
  let settle!: { resolve: () => void; reject: (e: unknown) => void }
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }))
  done.catch(() => undefined)
  const stop = vi.fn(() => {
    settle.resolve()
    return Promise.resolve()
  })
  return { service: { logger, start, stop, done } as unknown as ConsumerService, settle, stop }
}

function harness() {
  const signals = new EventEmitter()
  const codes: number[] = []
  let exited: () => void = () => undefined
  const exit = new Promise<void>((resolve) => (exited = resolve))
  return {
    signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    emit: (signal: string) => signals.emit(signal, signal),
    exit: (code: number) => {
      codes.push(code)
      exited()
    },
    codes,
    exited: exit,
    listeners: () => signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT'),
  }
}

describe('runService', () => {
  it('stops on SIGTERM and exits 0, releasing the signals', async () => {
    const h = harness()
    const { service, stop } = fakeService()
    const running = runService(service, { exit: h.exit, signals: h.signals })
    await new Promise((resolve) => setImmediate(resolve))
    h.emit('SIGTERM')
    await h.exited
    await running
    expect(stop).toHaveBeenCalledTimes(1)
    expect(h.codes).toEqual([0])
    expect(h.listeners()).toBe(0)
  })

  it('exits 1 when the service stops on a failure', async () => {
    const h = harness()
    const { service, settle } = fakeService()
    const running = runService(service, { exit: h.exit, signals: h.signals })
    settle.reject(new AppError('CONSUMER_TOO_MANY_FAILURES', 'ten in a row'))
    await running
    expect(h.codes).toEqual([1])
  })

  it('exits 1 when the service cannot be created or started', async () => {
    const h = harness()
    await runService(
      () => {
        throw new AppError('CONFIG_INVALID', 'bad')
      },
      { exit: h.exit, signals: h.signals, logger },
    )
    const { service } = fakeService(() => Promise.reject(new AppError('HTTP_LISTEN_FAILED', 'x')))
    await runService(service, { exit: h.exit, signals: h.signals })
    expect(h.codes).toEqual([1, 1])
  })

  it('exits at once on a second signal', async () => {
    const h = harness()
    const { service } = fakeService()
    ;(service as { stop: () => Promise<void> }).stop = () => new Promise(() => undefined)
    let now = 0
    const running = runService(service, { exit: h.exit, signals: h.signals, now: () => now })
    await new Promise((resolve) => setImmediate(resolve))
    h.emit('SIGINT')
    now += REPEATED_SIGNAL_WINDOW_MS
    h.emit('SIGINT')
    await h.exited
    expect(h.codes).toEqual([1])
    void running
  })

  it('takes a SIGTERM delivered again within the window (npm and tsx forward it) as one', async () => {
    const h = harness()
    let finish: () => void = () => undefined
    const { service, stop, settle } = fakeService()
    stop.mockImplementation(
      () => new Promise<void>((resolve) => (finish = () => (resolve(), settle.resolve()))),
    )
    let now = 0
    const running = runService(service, { exit: h.exit, signals: h.signals, now: () => now })
    await new Promise((resolve) => setImmediate(resolve))
    h.emit('SIGTERM')
    now += 3
    h.emit('SIGTERM')
    now += REPEATED_SIGNAL_WINDOW_MS - 4
    h.emit('SIGTERM')
    expect(h.codes).toEqual([])
    finish()
    await h.exited
    await running
    expect(stop).toHaveBeenCalledTimes(1)
    expect(h.codes).toEqual([0])
  })
})
