/*
 * schemas/openapi.yaml describes every HTTP API of the product. It must be a valid OpenAPI 3.1
 * document for @readme/openapi-parser (no error, no warning), and its components must be JSON
 * Schema 2020-12 that Ajv compiles in strict mode, each example matching its schema. That the
 * document says what the services answer is openapi-contract.test.ts's job.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { compileErrors, dereference, validate } from '@readme/openapi-parser'
import { Ajv2020 } from 'ajv/dist/2020.js'
import formats from 'ajv-formats'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const documentFile = fileURLToPath(new URL('../../schemas/openapi.yaml', import.meta.url))
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

interface Document {
  openapi: string
  jsonSchemaDialect?: string
  servers: { url: string }[]
  paths: Record<string, Record<string, unknown> & { servers?: { url: string }[] }>
  components: { schemas: Record<string, { examples?: unknown[] }> }
}

/** The document as written, parsed afresh (the parser dereferences what it is given in place). */
const read = (): Document => parse(readFileSync(documentFile, 'utf8')) as Document

describe('schemas/openapi.yaml', () => {
  it('is a valid OpenAPI 3.1 document, without a warning', async () => {
    const document = read()
    expect(document.openapi).toMatch(/^3\.1\.\d+$/u)
    expect(document.jsonSchemaDialect).toBe('https://json-schema.org/draft/2020-12/schema')
    const result = await validate(document as never)
    if (!result.valid) expect.fail(compileErrors(result))
    expect(result.warnings).toEqual([])
  })

  it('has components that compile as strict JSON Schema 2020-12, examples included', async () => {
    const document = (await dereference(read() as never)) as unknown as Document
    const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true })
    formats.default(ajv)
    const schemas = Object.entries(document.components.schemas)
    expect(schemas.length).toBeGreaterThan(30)
    for (const [name, schema] of schemas) {
      const check = ajv.compile(schema)
      for (const example of schema.examples ?? []) {
        if (!check(example)) expect.fail(`${name} example: ${ajv.errorsText(check.errors)}`)
      }
    }
  })

  it('names the servers of every path among the services, and unique operation ids', () => {
    const document = read()
    const services = new Set(document.servers.map((s) => s.url))
    expect(services.size).toBe(4)
    const ids: string[] = []
    for (const [path, item] of Object.entries(document.paths)) {
      for (const server of item.servers ?? []) expect(services, path).toContain(server.url)
      for (const method of methods) {
        const operation = item[method] as { operationId?: string } | undefined
        if (operation === undefined) continue
        expect(operation.operationId, `${method} ${path}`).toBeTypeOf('string')
        ids.push(operation.operationId!)
      }
    }
    expect(new Set(ids).size).toBe(ids.length)
  })
})
