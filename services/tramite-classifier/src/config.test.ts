import { describe, expect, it } from 'vitest'
import { readClassifierConfig, shippedRulesFile } from './config.js'

describe('readClassifierConfig', () => {
  it('has defaults for everything', () => {
    expect(readClassifierConfig({})).toEqual({
      name: 'tramite-classifier',
      rulesFile: shippedRulesFile,
      watchRules: true,
      idleTimeoutMs: 1_800_000,
      sweepIntervalMs: 5_000,
      outputTopic: 'wolkvox.chat.tramite.v1',
      zone: 'America/Bogota',
    })
  })

  it('reads a relative rules file from the given directory', () => {
    expect(
      readClassifierConfig({ CLASSIFIER_RULES_FILE: 'rules/mine.json' }, '/srv/app').rulesFile,
    ).toBe('/srv/app/rules/mine.json')
  })

  it('reports every bad variable at once', () => {
    const env = {
      WOLKVOX_TIMEZONE: 'Mars/Olympus',
      CLASSIFIER_IDLE_TIMEOUT: '10ms',
      CLASSIFIER_SWEEP_INTERVAL: 'often',
      CLASSIFIER_RULES_WATCH: 'maybe',
      CLASSIFIER_NAME: 'Tramites',
    }
    let error: unknown
    try {
      readClassifierConfig(env)
    } catch (caught) {
      error = caught
    }
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' })
    for (const name of Object.keys(env)) expect((error as Error).message).toContain(name)
  })
})
