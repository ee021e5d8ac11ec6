/*
 * The Prometheus configurations and alert rules of deploy/prometheus, checked by promtool: the
 * configurations (compose and local) and rules are valid, and every alert has unit tests that see it fire and stay
 * quiet (deploy/prometheus/tests). Needs promtool (sudo apt-get install prometheus).
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  localPrometheusConfigFile,
  prometheusConfigFile,
  promtool,
  repoRoot,
} from '../support/prometheus.js'

const deployDir = join(repoRoot, 'deploy', 'prometheus')
const filesIn = (dir: string, suffix: string): string[] =>
  readdirSync(join(deployDir, dir))
    .filter((f) => f.endsWith(suffix))
    .map((f) => join(deployDir, dir, f))
const ruleFiles = filesIn('rules', '.rules.yml')
const testFiles = filesIn('tests', '.test.yml')

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[]
}
interface RuleTestFile {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[]
}

describe('the alert rules (promtool)', () => {
  it('has rule files and unit tests to check', () => {
    expect(ruleFiles.length).toBeGreaterThan(0)
    expect(testFiles.length).toBeGreaterThan(0)
  })

  it.each([prometheusConfigFile, localPrometheusConfigFile])(
    'accepts %s and the rule files it loads',
    async (config) => {
      const result = await promtool(['check', 'config', config])
      expect(result.stderr + result.stdout).toContain('SUCCESS')
      expect(result.code, result.stderr).toBe(0)
      for (const file of ruleFiles) expect(result.stdout).toContain(file)
    },
  )

  it('accepts every rule file', async () => {
    const result = await promtool(['check', 'rules', ...ruleFiles])
    expect(result.code, result.stderr + result.stdout).toBe(0)
  })

  it('passes the unit tests of every alert', async () => {
    const result = await promtool(['test', 'rules', ...testFiles])
    expect(result.code, result.stderr + result.stdout).toBe(0)
  })

  it('tests every alert both firing and not firing', () => {
    const alerts = ruleFiles.flatMap((file) =>
      (parse(readFileSync(file, 'utf8')) as RuleFile).groups.flatMap((g) =>
        g.rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert])),
      ),
    )
    expect(alerts).toEqual(
      expect.arrayContaining([
        'WolkvoxPollerLagging',
        'WolkvoxPollerLeaseLost',
        'WolkvoxPollerDeadLetters',
        'WolkvoxConsumerDeadLetters',
        'WolkvoxConsumerLagging',
        'WolkvoxConsumerRetentionGap',
        'WolkvoxConsumerLogReplaced',
        'WolkvoxUpstreamMaintenance',
        'WolkvoxTokenInvalid',
        'WolkvoxQuotaExhausted',
        'WolkvoxPollerWindowStuck',
      ]),
    )
    const cases = testFiles.flatMap((file) =>
      (parse(readFileSync(file, 'utf8')) as RuleTestFile).tests.flatMap(
        (t) => t.alert_rule_test ?? [],
      ),
    )
    for (const alert of alerts) {
      const own = cases.filter((c) => c.alertname === alert)
      expect(
        own.some((c) => (c.exp_alerts ?? []).length > 0),
        `${alert} fires`,
      ).toBe(true)
      expect(
        own.some((c) => (c.exp_alerts ?? []).length === 0),
        `${alert} stays quiet`,
      ).toBe(true)
    }
  })

  it('is actually checked: a changed threshold fails the unit tests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'))
    cpSync(deployDir, dir, { recursive: true })
    const [ruleFile] = readdirSync(join(dir, 'rules')).filter((f) => f.endsWith('.rules.yml'))
    const path = join(dir, 'rules', ruleFile!)
    const original = readFileSync(path, 'utf8')
    const changed = original.replace(
      '> 3 * wolkvox_poller_interval_seconds',
      '> 30 * wolkvox_poller_interval_seconds',
    )
    expect(changed).not.toBe(original)
    writeFileSync(path, changed)
    const tests = readdirSync(join(dir, 'tests')).map((f) => join(dir, 'tests', f))
    const result = await promtool(['test', 'rules', ...tests])
    expect(result.code).not.toBe(0)
    expect(result.stdout + result.stderr).toContain('WolkvoxPollerLagging')
  })
})
