/*
 * Check 4 (registry mode only): the schema registry answers with the configured credentials, and
 * the schema each product topic is written with is compatible with its subject's latest version.
 * Compatibility is asked (`POST /compatibility/...`), never registered.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import {
  agentSentimentCodec,
  chatMessageCodec,
  chatQualityCodec,
  pollerCheckpointCodec,
  topics,
  tramiteClassificationCodec,
  type AvroSchema,
  type EventCodec,
} from '@wolkvox-chat-stream/events'
import { valueSubject, type SchemaRegistrySettings } from '@wolkvox-chat-stream/schema-registry'
import type { ServiceNames } from './configs.js'
import { failed, passed, skipped, type CheckResult } from './result.js'

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

/** The subjects the product writes and the schema each is written with. */
export function productSubjects(
  names: ServiceNames,
): { subject: string; schema: AvroSchema; record: string }[] {
  const of = (topic: string, codec: EventCodec<unknown>, version?: number) => {
    const v = version ?? codec.writeVersion
    const schema = codec.schemas.get(v)
    return schema === undefined
      ? []
      : [{ subject: valueSubject(topic), schema, record: `${String(schema.name)} v${v}` }]
  }
  return [
    ...of(topics.chatMessage.name, chatMessageCodec, names.chatMessageVersion),
    ...of(topics.pollerCheckpoint.name, pollerCheckpointCodec),
    ...of(topics.agentSentiment.name, agentSentimentCodec, names.sentimentVersion),
    ...of(names.classifierOutput, tramiteClassificationCodec),
    ...of(names.qualityOutput, chatQualityCodec),
  ]
}

/** `schema registry` and `schema registry subjects`; both skipped without `SCHEMA_REGISTRY_URL`. */
export async function checkRegistry(
  settings: SchemaRegistrySettings | undefined,
  names: ServiceNames,
  timeoutMs: number,
): Promise<CheckResult[]> {
  if (settings === undefined) {
    return [skipped('schema registry'), skipped('schema registry subjects')]
  }
  const auth =
    settings.username === undefined || settings.password === undefined
      ? undefined
      : `Basic ${Buffer.from(`${settings.username}:${settings.password.reveal()}`).toString('base64')}`
  const call = (method: 'GET' | 'POST', path: string, body?: unknown) =>
    httpJson(`${settings.url}${path}`, {
      method,
      timeoutMs,
      ...(settings.ca === undefined ? {} : { ca: settings.ca }),
      headers: {
        accept: CONTENT_TYPE,
        ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }),
        ...(auth === undefined ? {} : { authorization: auth }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  let answer: Answer
  try {
    answer = await call('GET', '/subjects')
  } catch (error) {
    const code = (error as { code?: string }).code ?? (error as Error).message
    return [
      failed(
        'schema registry',
        `SCHEMA_REGISTRY_UNAVAILABLE: the schema registry at ${settings.url} did not answer (${code})`,
        `check SCHEMA_REGISTRY_URL (the Confluent-compatible API's base, e.g. http://host:8080/apis/ccompat/v7)${/CERT|TLS|SSL/iu.test(code) ? ' and SCHEMA_REGISTRY_CA_FILE' : ''}, or unset it for single-object encoding`,
      ),
      skipped('schema registry subjects', 'not checked (no registry)'),
    ]
  }
  if (answer.status === 401 || answer.status === 403) {
    return [
      failed(
        'schema registry',
        `SCHEMA_REGISTRY_AUTH_FAILED: the schema registry refused the credentials (HTTP ${answer.status})`,
        'check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD_FILE',
      ),
      skipped('schema registry subjects', 'not checked (no registry)'),
    ]
  }
  if (answer.status !== 200 || !Array.isArray(answer.json)) {
    return [
      failed(
        'schema registry',
        `SCHEMA_REGISTRY_UNAVAILABLE: GET ${settings.url}/subjects answered HTTP ${answer.status}, not a list of subjects`,
        "check that SCHEMA_REGISTRY_URL is the Confluent-compatible API's base (Apicurio: …/apis/ccompat/v7)",
      ),
      skipped('schema registry subjects', 'not checked (no registry)'),
    ]
  }
  const results = [passed('schema registry', `${settings.url}, ${answer.json.length} subjects`)]
  const problems: string[] = []
  let registered = 0
  // Apicurio's compatibility endpoint answers 200 (compatible) for a subject it does not have,
  // where Confluent's answers 404: only the subjects the registry lists are registered.
  const listed = new Set(answer.json.map(String))
  for (const { subject, schema, record } of productSubjects(names)) {
    if (!listed.has(subject)) continue // not registered yet: the service registers it at start
    const path = `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`
    let compat: Answer
    try {
      compat = await call('POST', path, { schema: JSON.stringify(schema) })
    } catch (error) {
      problems.push(`${subject}: no answer (${(error as { code?: string }).code ?? String(error)})`)
      continue
    }
    if (compat.status === 404) continue // not registered yet: the service registers it at start
    const ok = (compat.json as { is_compatible?: unknown } | undefined)?.is_compatible
    if (compat.status === 200 && ok === true) registered++
    else if (compat.status === 200 && ok === false)
      problems.push(`${subject}: ${record} is not compatible with its latest version`)
    else problems.push(`${subject}: HTTP ${compat.status} ${compat.text.slice(0, 120)}`)
  }
  results.push(
    problems.length === 0
      ? passed('schema registry subjects', `${registered} registered subjects compatible`)
      : failed(
          'schema registry subjects',
          problems.join('; '),
          "readers first: keep writing the version the subject's compatibility accepts (POLL_CHAT_MESSAGE_VERSION, SENTIMENT_AGENT_SENTIMENT_VERSION), or fix the subject's compatibility setting (README: Registry mode)",
        ),
  )
  return results
}

/** An answer of the registry: status, body and the body as JSON when it is. */
interface Answer {
  status: number
  json: unknown
  text: string
}

/**
 * One HTTP(S) request with a bound on the whole exchange (node:http: undici stays the Wolkvox
 * client's and the registry client's own). Rejects with the socket's error code as message.
 */
function httpJson(
  url: string,
  options: {
    method: string
    headers: Record<string, string>
    body?: string
    ca?: string
    timeoutMs: number
  },
): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const target = new URL(url)
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest
    const req = send(
      target,
      {
        method: options.method,
        headers: options.headers,
        timeout: options.timeoutMs,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let json: unknown
          try {
            json = JSON.parse(text)
          } catch {
            json = undefined
          }
          resolve({ status: res.statusCode ?? 0, json, text })
        })
      },
    )
    req.once('timeout', () =>
      req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
    )
    req.once('error', reject)
    req.end(options.body)
  })
}
