import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MockAgent } from 'undici'
import { describe, expect, it } from 'vitest'
import { readConfig, Secret, type Env } from '@wolkvox-chat-stream/config'
import type { AppError } from '@wolkvox-chat-stream/errors'
import {
  agentSentimentCodec,
  decodeAgentSentiment,
  encodeAgentSentiment,
  schemaVersions,
  type AgentSentiment,
} from '@wolkvox-chat-stream/events'
import { createSchemaRegistry, valueSubject } from './client.js'
import { readSchemaRegistrySettings } from './settings.js'

const BASE = 'http://registry.test:8080'
const URL_ = `${BASE}/apis/ccompat/v7`
const schema = schemaVersions.agentSentiment[0].schema

function registry(password?: string) {
  const agent = new MockAgent({ enableCallHistory: true })
  agent.disableNetConnect()
  const pool = agent.get(BASE)
  const client = createSchemaRegistry(
    { url: URL_, ...(password ? { username: 'svc', password: new Secret(password) } : {}) },
    { dispatcher: agent },
  )
  return { agent, pool, client }
}

async function caught(action: () => Promise<unknown>): Promise<AppError> {
  try {
    await action()
  } catch (error) {
    return error as AppError
  }
  throw new Error('expected an error')
}

/** The golden fixture of AgentSentiment v1 (schemas/fixtures). */
const sample: AgentSentiment = agentSentimentCodec.fromAvroJson(
  readFileSync(
    new URL('../../../schemas/fixtures/agent-sentiment.v1.json', import.meta.url),
    'utf8',
  ),
)

describe('createSchemaRegistry', () => {
  it('sets BACKWARD on a new subject, registers, and asks only once per schema', async () => {
    const { agent, pool, client } = registry('pw-canary-1')
    const subject = valueSubject('wolkvox.agent.sentiment.v1')
    pool
      .intercept({ path: `/apis/ccompat/v7/subjects/${subject}/versions`, method: 'GET' })
      .reply(404, { error_code: 40401, message: 'Subject not found' })
    pool
      .intercept({ path: `/apis/ccompat/v7/config/${subject}`, method: 'PUT' })
      .reply(200, { compatibility: 'BACKWARD' })
    pool
      .intercept({ path: `/apis/ccompat/v7/subjects/${subject}/versions`, method: 'POST' })
      .reply(200, { id: 17 })
    expect(await client.register(subject, schema)).toBe(17)
    expect(await client.register(subject, schema)).toBe(17)
    const calls = agent.getCallHistory()!.calls()
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `GET /apis/ccompat/v7/subjects/${subject}/versions`,
      `PUT /apis/ccompat/v7/config/${subject}`,
      `POST /apis/ccompat/v7/subjects/${subject}/versions`,
    ])
    expect(JSON.parse(String(calls[1]!.body))).toEqual({ compatibility: 'BACKWARD' })
    const posted = JSON.parse(String(calls[2]!.body)) as { schema: string }
    expect(JSON.parse(posted.schema)).toEqual(schema)
    expect(calls[2]!.headers).toMatchObject({
      'content-type': 'application/vnd.schemaregistry.v1+json',
      authorization: `Basic ${Buffer.from('svc:pw-canary-1').toString('base64')}`,
    })
  })

  it("leaves an existing subject's compatibility alone, and passes on a refusal with the registry's message", async () => {
    const { agent, pool, client } = registry()
    pool
      .intercept({ path: '/apis/ccompat/v7/subjects/t-value/versions', method: 'GET' })
      .reply(200, [1])
    pool
      .intercept({ path: '/apis/ccompat/v7/subjects/t-value/versions', method: 'POST' })
      .reply(409, {
        error_code: 409,
        message: 'Schema being registered is incompatible with an earlier schema',
      })
    const error = await caught(() => client.register('t-value', schema))
    expect(error.code).toBe('SCHEMA_REGISTRY_REFUSED')
    expect(error.message).toContain('incompatible with an earlier schema')
    expect(
      agent
        .getCallHistory()!
        .calls()
        .map((c) => c.method),
    ).toEqual(['GET', 'POST'])
  })

  it('names refused credentials and a registry that does not answer, never the password', async () => {
    const { pool, client } = registry('pw-canary-2')
    pool
      .intercept({ path: '/apis/ccompat/v7/subjects/t-value/versions', method: 'GET' })
      .reply(401, { message: 'Unauthorized' })
    const auth = await caught(() => client.register('t-value', schema))
    expect(auth.code).toBe('SCHEMA_REGISTRY_AUTH_FAILED')
    expect(auth.retriable).toBe(false)
    pool
      .intercept({ path: '/apis/ccompat/v7/schemas/ids/3', method: 'GET' })
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
    const down = await caught(() => client.schemaById(3))
    expect(down).toMatchObject({ code: 'SCHEMA_REGISTRY_UNAVAILABLE', retriable: true })
    expect(JSON.stringify([auth, down, auth.message, down.message])).not.toContain('pw-canary-2')
  })

  it('prepare teaches the codecs the ids of Confluent records once, and skips ids the registry lacks', async () => {
    const { agent, pool, client } = registry()
    pool
      .intercept({ path: '/apis/ccompat/v7/schemas/ids/9001', method: 'GET' })
      .reply(200, { schema: JSON.stringify(schema) })
    pool
      .intercept({ path: '/apis/ccompat/v7/schemas/ids/9002', method: 'GET' })
      .reply(404, { error_code: 40403, message: 'Schema not found' })
    // Id 9001 is AgentSentiment v1 in this registry: the body is written with v1 to match.
    const framed = encodeAgentSentiment(sample, { registryId: 9001, version: 1 })
    const lost = encodeAgentSentiment(sample, { registryId: 9002, version: 1 })
    const single = encodeAgentSentiment(sample)
    expect(() => decodeAgentSentiment(framed)).toThrow(/9001/)
    await client.prepare([framed, framed, lost, single, null])
    await client.prepare([framed, lost])
    expect(decodeAgentSentiment(framed)).toEqual(sample)
    expect(() => decodeAgentSentiment(lost)).toThrow(
      expect.objectContaining({ code: 'EVENT_SCHEMA_ID_UNKNOWN' }),
    )
    // One request per id, however often they are met.
    expect(
      agent
        .getCallHistory()!
        .calls()
        .map((c) => c.path),
    ).toEqual(['/apis/ccompat/v7/schemas/ids/9001', '/apis/ccompat/v7/schemas/ids/9002'])
  })
})

describe('readSchemaRegistrySettings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'registry-settings-'))
  const passwordFile = join(dir, 'password')
  writeFileSync(passwordFile, 'pw-canary-3\n')
  const read = (env: Env) =>
    readConfig(env, (r) => ({ settings: readSchemaRegistrySettings(r) })).settings
  const problems = (env: Env): string[] => {
    try {
      read(env)
      return []
    } catch (error) {
      return (
        error as { details: { problems: { variable: string; problem: string }[] } }
      ).details.problems.map((p) => `${p.variable}: ${p.problem}`)
    }
  }

  it('is off without SCHEMA_REGISTRY_URL, and reads the URL and basic auth', () => {
    expect(read({})).toBeUndefined()
    const settings = read({
      SCHEMA_REGISTRY_URL: 'https://registry:8081/',
      SCHEMA_REGISTRY_USERNAME: 'svc',
      SCHEMA_REGISTRY_PASSWORD_FILE: passwordFile,
    })
    expect(settings).toMatchObject({ url: 'https://registry:8081', username: 'svc' })
    expect(settings?.password?.reveal()).toBe('pw-canary-3')
    expect(JSON.stringify(settings)).not.toContain('pw-canary-3')
  })

  it('reports every misconfiguration at once', () => {
    expect(
      problems({
        SCHEMA_REGISTRY_URL: 'ftp://u:p@registry/x?y=1',
        SCHEMA_REGISTRY_USERNAME: 'svc',
        SCHEMA_REGISTRY_CA_FILE: join(dir, 'missing.pem'),
      }),
    ).toEqual([
      'SCHEMA_REGISTRY_URL: must start with http:// or https://, not ftp://',
      'SCHEMA_REGISTRY_URL: holds credentials: give them as SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD_FILE',
      'SCHEMA_REGISTRY_URL: may not have a query string or fragment',
      'SCHEMA_REGISTRY_CA_FILE: is set but SCHEMA_REGISTRY_URL is not https://',
      'SCHEMA_REGISTRY_PASSWORD_FILE: is required with the other half of the basic-auth credentials',
      `SCHEMA_REGISTRY_CA_FILE: ${join(dir, 'missing.pem')} cannot be read`,
    ])
    expect(problems({ SCHEMA_REGISTRY_USERNAME: 'svc' })).toEqual([
      'SCHEMA_REGISTRY_USERNAME: is set without SCHEMA_REGISTRY_URL',
    ])
  })
})
