/*
 * schemas/openapi.yaml describes every HTTP API of the product. It must be a valid OpenAPI 3.1
 * document for @readme/openapi-parser (no error, no warning), and its components must be JSON
 * Schema 2020-12 that Ajv compiles in strict mode, each example matching its schema. Every
 * operation says who may call it (`security`) and documents its 401 exactly when a token is
 * needed; the answers outside any operation (`x-unmatched-request`, `x-server-refusals`) are
 * components. That the document says what the services answer is openapi-contract.test.ts's job.
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

interface ResponseObject {
  $ref?: string
  headers?: Record<string, { required?: boolean }>
}
interface Operation {
  security?: Record<string, string[]>[]
  responses: Record<string, ResponseObject>
}
interface Document {
  openapi: string
  jsonSchemaDialect?: string
  servers: { url: string }[]
  paths: Record<string, Record<string, unknown> & { servers?: { url: string }[] }>
  components: {
    schemas: Record<string, { examples?: unknown[] }>
    responses: Record<string, ResponseObject>
    securitySchemes: Record<string, { type: string; scheme?: string }>
  }
  'x-unmatched-request': { responses: Record<string, ResponseObject> }
  'x-server-refusals': { responses: Record<string, ResponseObject> }
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

  it('says who may call each operation, and answers every refusal from the components', () => {
    const document = read()
    expect(document.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer' },
      basicAuth: { type: 'http', scheme: 'basic' },
    })
    /** A response as written, or the component it refers to. */
    const resolved = (response: ResponseObject): ResponseObject =>
      response.$ref === undefined
        ? response
        : document.components.responses[response.$ref.replace('#/components/responses/', '')]!
    // The answers outside the operations (x- extensions) are shared components.
    for (const name of ['x-unmatched-request', 'x-server-refusals'] as const) {
      for (const [status, response] of Object.entries(document[name].responses)) {
        expect(response.$ref, `${name} ${status}`).toMatch(/^#\/components\/responses\/\w+$/u)
        expect(resolved(response), `${name} ${status}`).toBeDefined()
      }
    }
    expect(Object.keys(document['x-server-refusals'].responses)).toEqual(
      expect.arrayContaining(['400', '413', '429']),
    )
    for (const [path, item] of Object.entries(document.paths)) {
      for (const method of methods) {
        const operation = item[method] as Operation | undefined
        if (operation === undefined) continue
        const where = `${method} ${path}`
        // Explicit on every operation: `[]` for the probes, a scheme for everything else.
        expect(operation.security, where).toBeDefined()
        const secured = operation.security!.some((r) => Object.keys(r).length > 0)
        expect(secured, where).toBe(path !== '/healthz' && path !== '/readyz')
        // A 401 exactly where a token is needed, with the challenge.
        const unauthorized = operation.responses['401']
        expect(unauthorized !== undefined, `${where} 401`).toBe(secured)
        if (unauthorized !== undefined)
          expect(resolved(unauthorized).headers?.['WWW-Authenticate']?.required, where).toBe(true)
        const refused = operation.responses['405']
        if (refused !== undefined)
          expect(resolved(refused).headers?.Allow?.required, `${where} 405`).toBe(true)
      }
    }
  })

  it('names the servers of every path among the services, and unique operation ids', () => {
    const document = read()
    const services = new Set(document.servers.map((s) => s.url))
    expect(services.size).toBe(5)
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
