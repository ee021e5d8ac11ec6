import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createLogger, createMetricsRegistry } from '@wolkvox-chat-stream/observability'
import { createRulesHolder } from './holder.js'

const rules = (version: string, keyword = 'certificad*') =>
  JSON.stringify({
    version,
    tramites: [{ id: 'certificado', label: 'Certificados', keywords: [keyword] }],
  })

describe('the rules holder', () => {
  it('puts a new version in force, refuses a bad file or an edit under the same version', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'rules-holder-')), 'rules.json')
    writeFileSync(file, rules('1'))
    const lines: string[] = []
    const metrics = createMetricsRegistry({ collectDefaultMetrics: false })
    const holder = createRulesHolder({
      file,
      metrics,
      logger: createLogger({ name: 't', stream: { write: (l: string) => lines.push(l) } }),
    })
    expect(holder.current).toMatchObject({ version: '1', file })
    expect(holder.reload('http')).toEqual({ version: '1', previous_version: '1', changed: false })

    writeFileSync(file, '{')
    expect(() => holder.reload('http')).toThrow(
      expect.objectContaining({ code: 'TRAMITE_RULES_INVALID' }),
    )
    writeFileSync(file, rules('1', 'constancia'))
    expect(() => holder.reload('http')).toThrow(
      expect.objectContaining({ code: 'TRAMITE_RULES_VERSION_UNCHANGED' }),
    )
    expect(holder.current.version).toBe('1')
    expect(lines.filter((l) => l.includes('rules reload refused'))).toHaveLength(2)

    writeFileSync(file, rules('2', 'constancia'))
    expect(holder.reload('watch')).toEqual({ version: '2', previous_version: '1', changed: true })
    expect(holder.current.compiled.version).toBe('2')
    const text = await metrics.metrics()
    expect(text).toContain('wolkvox_classifier_rules_info{version="2"} 1')
    expect(text).not.toContain('wolkvox_classifier_rules_info{version="1"}')
    expect(text).toContain('wolkvox_classifier_rules_reloads_total{outcome="refused"} 2')
    expect(text).toContain('wolkvox_classifier_rules_reloads_total{outcome="loaded"} 1')
    expect(text).toContain('wolkvox_classifier_rules_reloads_total{outcome="unchanged"} 1')
  })

  it('fails at creation on a missing file', () => {
    expect(() =>
      createRulesHolder({
        file: '/nonexistent/rules.json',
        logger: createLogger({ name: 't', level: 'silent' }),
      }),
    ).toThrow(expect.objectContaining({ code: 'TRAMITE_RULES_FILE_UNREADABLE' }))
  })
})
