import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generatedFile, readSchemaFiles, renderFormatted } from './render-records.js'

describe('src/generated/records.ts', () => {
  it('is in step with schemas/*.avsc (run `npm run generate -w @wolkvox-chat-stream/events`)', async () => {
    const expected = await renderFormatted(readSchemaFiles())
    expect(readFileSync(generatedFile, 'utf8')).toBe(expected)
  })

  it('documents every field of every schema', () => {
    const missing: string[] = []
    const visit = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((n) => visit(n, where))
      if (node === null || typeof node !== 'object') return
      const object = node as Record<string, unknown>
      if (object.type === 'record' || object.type === 'enum') {
        if (typeof object.doc !== 'string') missing.push(`${where}: ${String(object.name)}`)
      }
      for (const field of (object.fields as Record<string, unknown>[] | undefined) ?? []) {
        if (typeof field.doc !== 'string' || field.doc.length < 10) {
          missing.push(`${where}: ${String(field.name)}`)
        }
        visit(field.type, where)
      }
      visit(object.items, where)
      visit(object.values, where)
    }
    const files = readSchemaFiles()
    for (const { file, schema } of files) {
      visit(schema, file)
      expect(schema.namespace, file).toBe('com.wolkvoxchatstream')
    }
    expect(missing).toEqual([])
    expect(files.map((f) => f.file)).toEqual([
      'agent-sentiment.v1.avsc',
      'agent-sentiment.v2.avsc',
      'chat-message.v1.avsc',
      'chat-message.v2.avsc',
      'chat-quality.v1.avsc',
      'poller-checkpoint.v1.avsc',
      'tramite-classification.v1.avsc',
    ])
  })

  it('gives every enum a default symbol and every time a timestamp-millis logical type', () => {
    const problems: string[] = []
    const visit = (node: unknown, path: string): void => {
      if (Array.isArray(node)) return node.forEach((n) => visit(n, path))
      if (node === null || typeof node !== 'object') return
      const object = node as Record<string, unknown>
      if (object.type === 'enum' && typeof object.default !== 'string') problems.push(path)
      for (const field of (object.fields as Record<string, unknown>[] | undefined) ?? []) {
        const name = String(field.name)
        const isTime = /(_at|^window_start|^window_end|^watermark)$/.test(name)
        const type = field.type as Record<string, unknown>
        if (isTime && type.logicalType !== 'timestamp-millis') problems.push(`${path}.${name}`)
        visit(field.type, `${path}.${name}`)
      }
      visit(object.items, path)
    }
    for (const { file, schema } of readSchemaFiles()) visit(schema, file)
    expect(problems).toEqual([])
  })
})
