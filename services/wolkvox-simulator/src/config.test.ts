import { describe, expect, it } from 'vitest'
import { readSimulatorConfig, usage } from './config.js'

describe('readSimulatorConfig', () => {
  it('has the documented defaults', () => {
    expect(readSimulatorConfig({}, [])).toMatchObject({
      port: 8089,
      host: '127.0.0.1',
      seed: 1,
      chatsPerHour: 60,
      tokens: ['sim-token'],
      timeZone: 'America/Bogota',
      historyMs: 7 * 86_400_000,
      selection: 'closing',
      rowCap: 60_000,
      rowCapUnit: 'message',
      dailyQuota: 10_000,
      concurrentLimit: 2,
      latencyMs: 0,
      visibilityLagMs: 2_000,
      lateDataMs: 0,
      lateShare: 1,
      faultRate: 1,
      logLevel: 'info',
    })
  })

  it('takes flags over variables', () => {
    const config = readSimulatorConfig({ HTTP_PORT: '9000', SIM_SEED: '5', SIM_TOKENS: 'a,b' }, [
      '--port',
      '8090',
      '--chats-per-hour',
      '600',
      '--token',
      'x',
      '--token',
      'y',
      '--fault',
      'maintenance',
      '--fault-rate',
      '0.25',
      '--selection',
      'message',
    ])
    expect(config).toMatchObject({
      port: 8090,
      seed: 5,
      chatsPerHour: 600,
      tokens: ['x', 'y'],
      fault: { kind: 'maintenance' },
      faultRate: 0.25,
      selection: 'message',
    })
  })

  it('reads late data from a flag or a variable', () => {
    expect(
      readSimulatorConfig({ SIM_LATE_DATA: '2m', SIM_LATE_SHARE: '0.5' }, ['--late-data', '90s']),
    ).toMatchObject({ lateDataMs: 90_000, lateShare: 0.5 })
    expect(() => readSimulatorConfig({ SIM_LATE_DATA: 'soon', SIM_LATE_SHARE: '2' }, [])).toThrow(
      /SIM_LATE_DATA[\s\S]*SIM_LATE_SHARE|SIM_LATE_SHARE[\s\S]*SIM_LATE_DATA/,
    )
  })

  it('reads a fault with parameters as JSON', () => {
    expect(
      readSimulatorConfig({ SIM_FAULT: '{"kind":"rate-limited","retryAfterSeconds":3}' }, []).fault,
    ).toEqual({
      kind: 'rate-limited',
      retryAfterSeconds: 3,
    })
  })

  it('reports every problem at once, and never a token', () => {
    try {
      readSimulatorConfig({ SIM_TOKENS: 'secret-tok', SIM_FAULT_RATE: '2' }, [
        '--port',
        'x',
        '--selection',
        'sideways',
        '--fault',
        'explode',
        '--latency',
        'soon',
      ])
      expect.unreachable()
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
      const message = (error as Error).message
      for (const variable of [
        'HTTP_PORT',
        'SIM_SELECTION',
        'SIM_FAULT',
        'SIM_LATENCY',
        'SIM_FAULT_RATE',
      ]) {
        expect(message).toContain(variable)
      }
      expect(message).not.toContain('secret-tok')
    }
  })

  it('reads many operations and their first server code, and documents them', () => {
    expect(readSimulatorConfig({}, [])).not.toHaveProperty('operations')
    expect(readSimulatorConfig({ SIM_OPERATIONS: '200' }, [])).toMatchObject({
      operations: 200,
      firstServer: 100_001,
    })
    expect(
      readSimulatorConfig({ SIM_OPERATIONS: '3' }, ['--operations', '5', '--first-server', '10']),
    ).toMatchObject({ operations: 5, firstServer: 10 })
    expect(usage()).toMatch(/--operations\s+SIM_OPERATIONS .*sim-token-<server>/)
    expect(usage()).toMatch(/--first-server\s+SIM_FIRST_SERVER .*\(default 100001\)/)
  })

  it('refuses a number of operations out of 1..10000, as other numbers', () => {
    const refused = (env: Record<string, string>, argv: string[]): string => {
      try {
        readSimulatorConfig(env, argv)
      } catch (error) {
        expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
        return (error as Error).message
      }
      return expect.unreachable()
    }
    for (const value of ['0', '-1', '1.5', '10001', 'many']) {
      expect(refused({ SIM_OPERATIONS: value }, [])).toContain('SIM_OPERATIONS')
      expect(refused({}, [`--operations=${value}`])).toContain('SIM_OPERATIONS')
    }
    expect(refused({}, ['--operations', '0'])).toContain('SIM_OPERATIONS')
    expect(refused({}, ['--operations', '10', '--first-server', '999995'])).toContain(
      'SIM_OPERATIONS',
    )
    expect(refused({}, ['--first-server', '10'])).toContain('SIM_FIRST_SERVER')
    // Tokens are derived with operations: a token given as well is a mistake, and never echoed.
    const message = refused({ SIM_TOKENS: 'secret-tok' }, ['--operations', '2'])
    expect(message).toContain('SIM_TOKENS')
    expect(message).not.toContain('secret-tok')
  })

  it('refuses unknown flags with the usage', () => {
    expect(() => readSimulatorConfig({}, ['--prot', '1'])).toThrow(/Usage: npm run simulator/)
  })
})
