/*
 * A real Apicurio Registry from the dev stack (`startSchemaRegistry`: Maven Central's Quarkus
 * distribution, in-memory storage), driven through its Confluent-compatible API with plain fetch,
 * as a Confluent client would: register an Avro schema, set BACKWARD compatibility, register a
 * compatible v2, see an incompatible change refused with 409 and the registry's message, read a
 * schema back by id. Reports its start time and resident memory; stopping it leaves no process.
 * The run's shared Kafka and Redis are not used.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  devStackHome,
  isAlive,
  listProcesses,
  startSchemaRegistry,
  type SchemaRegistry,
} from '@wolkvox-chat-stream/dev-stack'
import { isAppError, type AppError } from '@wolkvox-chat-stream/errors'

const log = (line: string): void => {
  process.stderr.write(`[schema-registry] ${line}\n`)
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

/** A Confluent API call: JSON in and out, with the registry's content type. */
async function call(
  registry: SchemaRegistry,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${registry.ccompatUrl}${path}`, {
    method,
    headers: {
      accept: CONTENT_TYPE,
      ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await response.text()
  return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as never) }
}

/** The resident memory of a process in MB, from /proc/<pid>/status. */
function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Math.round(Number(match[1]) / 1024) : Number.NaN
}

const v1 = {
  type: 'record',
  name: 'RegistryProbe',
  namespace: 'com.wolkvoxchatstream.test',
  fields: [
    { name: 'chatId', type: 'string' },
    { name: 'messages', type: 'int' },
  ],
}
/** v1 and a new optional field with a default: BACKWARD compatible (v2 reads v1 data). */
const v2 = {
  ...v1,
  fields: [...v1.fields, { name: 'channel', type: ['null', 'string'], default: null }],
}
/** A new required field without a default: v3 cannot read v1 or v2 data, so BACKWARD refuses it. */
const v3 = { ...v1, fields: [...v2.fields, { name: 'agent', type: 'string' }] }

describe('the dev stack schema registry (Apicurio, Confluent-compatible API)', () => {
  let registry: SchemaRegistry
  const subject = `registry-probe-${Date.now()}-value`

  beforeAll(async () => {
    const started = Date.now()
    registry = await startSchemaRegistry({ onProgress: log })
    log(
      `Apicurio Registry ${registry.version} on Java ${registry.java.major} (${registry.java.path}) ` +
        `ready at ${registry.ccompatUrl} in ${registry.readyMs} ms (${Date.now() - started} ms with the checks before the spawn); ` +
        `RSS ${rssMb(registry.pid())} MB at ready`,
    )
  })

  afterAll(async () => {
    // Stops it even when a test failed; a second stop is a no-op.
    await registry?.stop()
  })

  it('registers an Avro schema, enforces BACKWARD compatibility and serves schemas by id', async () => {
    expect(registry.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(registry.ccompatUrl).toBe(`${registry.url}/apis/ccompat/v7`)
    expect(await call(registry, 'GET', '/subjects')).toEqual({
      status: 200,
      json: expect.any(Array),
    })

    const first = await call(registry, 'POST', `/subjects/${subject}/versions`, {
      schema: JSON.stringify(v1),
    })
    expect(first.status, JSON.stringify(first.json)).toBe(200)
    const id1 = first.json.id as number
    expect(Number.isInteger(id1)).toBe(true)
    // The same schema again is the same registration, not a new version.
    expect(
      (
        await call(registry, 'POST', `/subjects/${subject}/versions`, {
          schema: JSON.stringify(v1),
        })
      ).json.id,
    ).toBe(id1)

    const config = await call(registry, 'PUT', `/config/${subject}`, { compatibility: 'BACKWARD' })
    expect(config).toMatchObject({ status: 200, json: { compatibility: 'BACKWARD' } })
    expect((await call(registry, 'GET', `/config/${subject}`)).json).toMatchObject({
      compatibilityLevel: 'BACKWARD',
    })

    const second = await call(registry, 'POST', `/subjects/${subject}/versions`, {
      schema: JSON.stringify(v2),
    })
    expect(second.status, JSON.stringify(second.json)).toBe(200)
    const id2 = second.json.id as number
    expect(id2).not.toBe(id1)

    const refused = await call(registry, 'POST', `/subjects/${subject}/versions`, {
      schema: JSON.stringify(v3),
    })
    log(`incompatible v3: ${refused.status} ${JSON.stringify(refused.json)}`)
    expect(refused.status).toBe(409)
    expect(refused.json.error_code).toBe(409)
    expect(String(refused.json.message)).toMatch(/incompatib|compatib/i)
    expect((await call(registry, 'GET', `/subjects/${subject}/versions`)).json).toEqual([1, 2])

    const byId = await call(registry, 'GET', `/schemas/ids/${id1}`)
    expect(byId.status).toBe(200)
    expect(JSON.parse(byId.json.schema as string)).toEqual(v1)
    const latest = await call(registry, 'GET', `/subjects/${subject}/versions/latest`)
    expect(latest.json).toMatchObject({ subject, version: 2, id: id2 })

    // Content ids or global ids? The same content under another subject answers with v1's id
    // when the ids are content ids (apicurio.ccompat.legacy-id-mode.enabled=false, the default).
    const other = await call(registry, 'POST', `/subjects/${subject}-copy/versions`, {
      schema: JSON.stringify(v1),
    })
    // The native API tells both ids apart: that registration is a new global id, the same content id.
    const native = (await (
      await fetch(
        `${registry.url}/apis/registry/v3/groups/default/artifacts/${subject}-copy/versions/1`,
        { signal: AbortSignal.timeout(10_000) },
      )
    ).json()) as { globalId?: number; contentId?: number }
    log(
      `ids: v1 ${id1}, v2 ${id2}, v1's content under another subject ${String(other.json.id)}; ` +
        `native API for that one: globalId ${native.globalId}, contentId ${native.contentId}`,
    )
    expect(other.status).toBe(200)
    expect(other.json.id).toBe(id1)
    expect(native.contentId).toBe(id1)
    expect(native.globalId).not.toBe(id1)
    log(`RSS ${rssMb(registry.pid())} MB after the calls`)
  })

  it('stops by pid, leaving no process and no record behind', async () => {
    const pid = registry.pid()
    expect(isAlive(pid)).toBe(true)
    expect(listProcesses(devStackHome()).some((r) => r.pid === pid)).toBe(true)
    const started = Date.now()
    await registry.stop()
    log(`stopped in ${Date.now() - started} ms`)
    expect(registry.pid()).toBe(-1)
    expect(isAlive(pid)).toBe(false)
    expect(listProcesses(devStackHome()).some((r) => r.pid === pid)).toBe(false)
    expect(existsSync(registry.workDir)).toBe(false)
  })

  it('fails a start that is not ready in time with DEV_STACK_REGISTRY_START_FAILED and its log, killing the JVM', async () => {
    const caught = await startSchemaRegistry({ readyTimeoutMs: 300 }).catch(
      (error: unknown) => error,
    )
    expect(isAppError(caught, 'DEV_STACK_REGISTRY_START_FAILED')).toBe(true)
    expect(String((caught as Error).message)).toMatch(
      /Apicurio Registry .* did not become ready within 0 s; see .*registry\.log/,
    )
    const details = (caught as AppError).details as { pid: number; workDir: string; log: string }
    // Killed and reaped, unrecorded; its folder stays with the whole log until removed here.
    expect(isAlive(details.pid)).toBe(false)
    expect(listProcesses(devStackHome()).some((r) => r.pid === details.pid)).toBe(false)
    expect(existsSync(details.log)).toBe(true)
    rmSync(details.workDir, { recursive: true, force: true })
  })
})
