/*
 * The language commands as an operator runs them (issue 24): `npm run classifier -- eval` on the
 * tuned and the held-out split, and `npm run sentiment -- score | eval`, each as its own process.
 * The expected figures are counted by hand from small labelled sets written here, so a wrong
 * split, a held-out line shown, or a figure computed on the wrong set fails.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** Runs a service's cli.ts to its end, `input` on stdin. */
function run(
  cli: 'tramite-classifier' | 'sentiment-aggregator',
  args: string[],
  input = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=source', join(root, `services/${cli}/src/cli.ts`), ...args],
    { cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: 'pipe' },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdin.end(input)
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })))
}

const dir = mkdtempSync(join(tmpdir(), 'language-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const jsonl = (rows: object[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n'

describe('npm run classifier -- eval', () => {
  const rules = join(dir, 'rules.json')
  const tuned = join(dir, 'tuned.jsonl')
  const heldOut = join(dir, 'heldout.jsonl')
  writeFileSync(
    rules,
    JSON.stringify({
      version: 'test-1',
      tramites: [
        { id: 'certificado', label: 'Certificados', keywords: ['certificad*'] },
        { id: 'pago', label: 'Pagos', keywords: ['pagar', 'factura'] },
      ],
    }),
  )
  // Tuned: lines 1-3 right, line 4 a payment the rules miss (no keyword).
  writeFileSync(
    tuned,
    jsonl([
      { text: 'necesito un certificado laboral', labels: ['certificado'] },
      { text: 'quiero pagar mi cuenta', labels: ['pago'] },
      { text: 'hola buenas tardes', labels: [] },
      { text: 'me cobraron doble este mes', labels: ['pago'] },
    ]),
  )
  // Held-out: line 2 is labelled certificado but names a factura (predicted pago).
  writeFileSync(
    heldOut,
    jsonl([
      { text: 'envienme el certificado', labels: ['certificado'] },
      { text: 'la factura llego mal', labels: ['certificado'] },
      { text: 'gracias', labels: [] },
    ]),
  )
  const files = ['--rules', rules, '--labels', tuned, '--heldout', heldOut]

  it('scores the tuned and the held-out split apart, with the figures counted by hand', async () => {
    const { code, stdout, stderr } = await run('tramite-classifier', ['eval', ...files, '--json'])
    expect(code, stderr).toBe(0)
    const doc = JSON.parse(stdout) as {
      rules_version: string
      splits: {
        name: string
        path: string
        messages: number
        perTramite: { id: string; support: number; scores: Record<string, number> }[]
        micro: Record<string, number>
        exactMatch: number
        primaryAccuracy: number
        confusion: Record<string, Record<string, number>>
        errors?: { line: number; expected: string[]; predicted: string[] }[]
      }[]
    }
    expect(doc.rules_version).toBe('test-1')
    expect(doc.splits.map((s) => [s.name, s.path, s.messages])).toEqual([
      ['tuned', tuned, 4],
      ['held-out', heldOut, 3],
    ])
    const [t, h] = doc.splits as [(typeof doc.splits)[0], (typeof doc.splits)[0]]
    const brief = (s: (typeof doc.splits)[0]): unknown =>
      s.perTramite.map((p) => [
        p.id,
        p.support,
        p.scores.truePositives,
        p.scores.falsePositives,
        p.scores.falseNegatives,
      ])
    // Tuned: certificado 1 TP; pago 1 TP and 1 FN (line 4).
    expect(brief(t)).toEqual([
      ['certificado', 1, 1, 0, 0],
      ['pago', 2, 1, 0, 1],
    ])
    expect(t.micro.precision).toBe(1)
    expect(t.micro.recall).toBeCloseTo(2 / 3, 10)
    expect(t.micro.f1).toBeCloseTo(0.8, 10)
    expect(t.exactMatch).toBe(0.75)
    expect(t.primaryAccuracy).toBe(0.75)
    expect(t.confusion).toEqual({ certificado: { certificado: 1 }, pago: { pago: 1, none: 1 } })
    expect(t.errors).toEqual([
      { line: 4, text: 'me cobraron doble este mes', expected: ['pago'], predicted: [] },
    ])
    // Held-out: certificado 1 TP and 1 FN (line 2), pago 1 FP (line 2).
    expect(brief(h)).toEqual([
      ['certificado', 2, 1, 0, 1],
      ['pago', 0, 0, 1, 0],
    ])
    expect([h.micro.precision, h.micro.recall, h.micro.f1]).toEqual([0.5, 0.5, 0.5])
    expect(h.exactMatch).toBeCloseTo(2 / 3, 10)
    expect(h.primaryAccuracy).toBeCloseTo(2 / 3, 10)
    expect(h.confusion).toEqual({ certificado: { certificado: 1, pago: 1 } })
    // The held-out split is only scored: its messages are never listed.
    expect(h).not.toHaveProperty('errors')
  })

  it('prints both splits as text; --errors lists the tuned split only', async () => {
    const { code, stdout, stderr } = await run('tramite-classifier', ['eval', ...files, '--errors'])
    expect(code, stderr).toBe(0)
    expect(stdout).toContain(`rules   ${rules} (version test-1, 2 trámites)`)
    expect(stdout).toContain(`== tuned: ${tuned} (4 messages)`)
    expect(stdout).toContain(`== held-out: ${heldOut} (3 messages)`)
    expect(stdout).toContain('exact label-set match: 0.750 (3/4)')
    expect(stdout).toContain('primary trámite right: 0.750 (3/4)')
    expect(stdout).toContain('exact label-set match: 0.667 (2/3)')
    expect(stdout).toContain('primary trámite right: 0.667 (2/3)')
    expect(stdout).toMatch(/^micro +3 +2 +0 +1 +1\.000 +0\.667 +0\.800$/m)
    expect(stdout).toMatch(/^micro +2 +1 +1 +1 +0\.500 +0\.500 +0\.500$/m)
    expect(stdout).toContain('  4: "me cobraron doble este mes"  [pago] → []')
    expect(stdout).not.toContain('la factura llego mal')
    expect(stdout).toContain('The held-out split is only scored')
  })

  it('refuses a label that is not a trámite of the rules, naming the file and line', async () => {
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(
      bad,
      jsonl([
        { text: 'x', labels: ['certificado'] },
        { text: 'y', labels: ['no-such'] },
      ]),
    )
    const { code, stderr } = await run('tramite-classifier', [
      'eval',
      '--rules',
      rules,
      '--labels',
      bad,
      '--heldout',
      heldOut,
    ])
    expect(code).not.toBe(0)
    expect(stderr).toContain('no-such')
    expect(stderr).toContain('bad.jsonl')
  })
})

describe('npm run sentiment -- score | eval', () => {
  it('score: one JSON line per input line, in order, the obvious ones with their polarity', async () => {
    const lines = [
      'pésimo servicio, estoy furioso, nunca me solucionan nada',
      'muchas gracias, excelente atención',
      'mi número de cédula es 123456',
    ]
    const { code, stdout, stderr } = await run(
      'sentiment-aggregator',
      ['score'],
      lines.join('\n') + '\n',
    )
    expect(code, stderr).toBe(0)
    const out = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; sentiment: string; score: number })
    expect(out.map((o) => o.text)).toEqual(lines)
    expect(['very_negative', 'negative']).toContain(out[0]!.sentiment)
    expect(out[0]!.score).toBeLessThan(0)
    expect(['very_positive', 'positive']).toContain(out[1]!.sentiment)
    expect(out[1]!.score).toBeGreaterThan(0)
    expect(out[2]).toMatchObject({ sentiment: 'neutral', score: 0 })
    for (const o of out) expect(Math.round(o.score * 1000) / 1000).toBe(o.score)
  })

  it('eval --file: the lines it gets wrong, by line number; JSON on a pipe', async () => {
    const file = join(dir, 'sentiment.jsonl')
    writeFileSync(
      file,
      jsonl([
        { text: 'mi número de cédula es 123456', sentiment: 'neutral' },
        // Deliberately mislabelled: the scorer cannot call thanks very negative.
        { text: 'muchas gracias, excelente atención', sentiment: 'very_negative' },
        { text: 'ok', sentiment: 'neutral' },
      ]),
    )
    const { code, stdout, stderr } = await run('sentiment-aggregator', ['eval', '--file', file])
    expect(code, stderr).toBe(0)
    const doc = JSON.parse(stdout) as {
      splits: {
        name: string
        file: string
        messages: number
        confusion: number[][]
        errors: { line: number }[]
      }[]
    }
    expect(doc.splits.map((s) => [s.name, s.file, s.messages])).toEqual([['file', file, 3]])
    expect(doc.splits[0]!.errors.map((e) => e.line)).toEqual([2])
    // Rows are the expected values (very_negative first, neutral third): 1 and 2 lines.
    expect(doc.splits[0]!.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([
      1, 0, 2, 0, 0,
    ])
  })

  it('eval: the shipped tuned and held-out sets apart, the held-out lines never shown', async () => {
    const { code, stdout, stderr } = await run('sentiment-aggregator', ['eval'])
    expect(code, stderr).toBe(0)
    const doc = JSON.parse(stdout) as {
      splits: { name: string; file: string; messages: number; errors: unknown[] }[]
    }
    const count = (f: string): number =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '').length
    expect(doc.splits.map((s) => [s.name, s.messages])).toEqual([
      ['tuned', count(doc.splits[0]!.file)],
      ['held-out', count(doc.splits[1]!.file)],
    ])
    expect(doc.splits[0]!.file).toMatch(/tuned\.es\.jsonl$/)
    expect(doc.splits[1]!.file).toMatch(/heldout\.es\.jsonl$/)
    expect(doc.splits[1]!.errors).toEqual([])
  })

  it('an unknown command prints the usage and exits 2', async () => {
    const { code, stderr } = await run('sentiment-aggregator', ['nope'])
    expect(code).toBe(2)
    expect(stderr).toContain('Unknown command "nope"')
    expect(stderr).toContain('npm run sentiment -- eval [--file FILE]')
  })
})
