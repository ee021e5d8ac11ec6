import { AppError } from '@wolkvox-chat-stream/errors'
import {
  addRegistrySchema,
  knowsRegistrySchema,
  registrySchemaId,
  type AvroSchema,
  type EncodeOptions,
  type EventCodec,
} from '@wolkvox-chat-stream/events'
import { Agent, request, type Dispatcher } from 'undici'
import type { SchemaRegistrySettings } from './settings.js'

/** The subject of a topic's values under the TopicNameStrategy: `<topic>-value`. */
export const valueSubject = (topic: string): string => `${topic}-value`

/** A Confluent-compatible schema registry (Confluent's, Apicurio's `/apis/ccompat/v7`, …). */
export interface SchemaRegistry {
  /** The API base, as configured (no credentials in it). */
  readonly url: string
  /**
   * Registers `schema` under `subject` and returns its id; the same schema again returns the same
   * id (the registry's rule) without a new version. A subject that does not exist yet gets the
   * compatibility `BACKWARD` first, so a later version must still read what this one wrote.
   * Cached: one request per (subject, schema) per process.
   * @throws AppError `SCHEMA_REGISTRY_REFUSED` (an incompatible or invalid schema: the registry's
   * message), `SCHEMA_REGISTRY_AUTH_FAILED`, `SCHEMA_REGISTRY_UNAVAILABLE` (retriable).
   */
  register(subject: string, schema: AvroSchema): Promise<number>
  /**
   * The schema text of `id`. Cached.
   * @throws AppError `SCHEMA_REGISTRY_SCHEMA_NOT_FOUND`, `SCHEMA_REGISTRY_AUTH_FAILED`,
   * `SCHEMA_REGISTRY_UNAVAILABLE`.
   */
  schemaById(id: number): Promise<string>
  /**
   * Teaches the product's codecs (packages/events) every schema id in `values` (Confluent wire
   * format bytes) they do not know yet, so that decoding them cannot meet an unknown id. One
   * request per new id; nothing for single-object bytes or known ids. An id the registry lacks,
   * or whose schema the product cannot read, is left unknown (its records fail to decode with
   * `EVENT_SCHEMA_ID_UNKNOWN`, each a dead letter) and not asked again.
   * @throws AppError `SCHEMA_REGISTRY_UNAVAILABLE` (retriable) or `SCHEMA_REGISTRY_AUTH_FAILED`.
   */
  prepare(values: Iterable<Uint8Array | null | undefined>): Promise<void>
  close(): Promise<void>
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'

/** A client of the registry `settings` name. Makes no request until asked. */
export function createSchemaRegistry(
  settings: SchemaRegistrySettings,
  options: { timeoutMs?: number; dispatcher?: Dispatcher } = {},
): SchemaRegistry {
  const timeoutMs = options.timeoutMs ?? 10_000
  const own =
    options.dispatcher === undefined
      ? new Agent({
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          connectTimeout: timeoutMs,
          ...(settings.ca === undefined ? {} : { connect: { ca: settings.ca } }),
        })
      : undefined
  const dispatcher = options.dispatcher ?? own!
  const auth =
    settings.username === undefined || settings.password === undefined
      ? undefined
      : `Basic ${Buffer.from(`${settings.username}:${settings.password.reveal()}`).toString('base64')}`

  /** One call; the parsed JSON body of a 2xx, else the mapped error. */
  const call = async (
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    what: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> => {
    let response: Dispatcher.ResponseData
    try {
      response = await request(`${settings.url}${path}`, {
        method,
        dispatcher,
        headers: {
          accept: CONTENT_TYPE,
          ...(body === undefined ? {} : { 'content-type': CONTENT_TYPE }),
          ...(auth === undefined ? {} : { authorization: auth }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    } catch (error) {
      const code = (error as { code?: string }).code ?? ''
      const tls = /CERT|SELF_SIGNED|TLS|SSL/i.test(code)
      throw new AppError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `${what}: the schema registry at ${settings.url} did not answer (${code || (error as Error).message})${tls ? '; check SCHEMA_REGISTRY_CA_FILE' : ''}`,
        { cause: error, details: { url: settings.url } },
      )
    }
    const text = await response.body.text()
    let json: unknown
    try {
      json = text === '' ? undefined : JSON.parse(text)
    } catch {
      json = undefined
    }
    const { statusCode: status } = response
    if (status >= 200 && status < 300) return { status, json }
    const message =
      typeof (json as { message?: unknown })?.message === 'string'
        ? (json as { message: string }).message
        : text.slice(0, 300)
    const registryCode = (json as { error_code?: unknown })?.error_code
    const details = {
      url: settings.url,
      status,
      ...(typeof registryCode === 'number' ? { registryCode } : {}),
    }
    if (status === 401 || status === 403) {
      throw new AppError(
        'SCHEMA_REGISTRY_AUTH_FAILED',
        `${what}: the schema registry refused the credentials (HTTP ${status}); check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD_FILE`,
        { details },
      )
    }
    if (status === 404) return { status, json }
    if (status === 409 || status === 422) {
      throw new AppError(
        'SCHEMA_REGISTRY_REFUSED',
        `${what}: the schema registry refused it (HTTP ${status}): ${message}`,
        { details },
      )
    }
    throw new AppError(
      'SCHEMA_REGISTRY_UNAVAILABLE',
      `${what}: the schema registry answered HTTP ${status}: ${message}`,
      { details },
    )
  }

  const ids = new Map<string, Promise<number>>()
  const schemas = new Map<number, Promise<string>>()
  const refused = new Set<number>()
  const path = (subject: string): string => `/subjects/${encodeURIComponent(subject)}`

  const registerOnce = async (subject: string, schema: AvroSchema): Promise<number> => {
    const what = `Registering the schema of ${subject}`
    const versions = await call('GET', `${path(subject)}/versions`, what)
    if (versions.status === 404) {
      await call('PUT', `/config/${encodeURIComponent(subject)}`, what, {
        compatibility: 'BACKWARD',
      })
    }
    const registered = await call('POST', `${path(subject)}/versions`, what, {
      schema: JSON.stringify(schema),
    })
    const id = (registered.json as { id?: unknown } | undefined)?.id
    if (registered.status === 404 || typeof id !== 'number') {
      throw new AppError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `${what}: the schema registry answered without an id (HTTP ${registered.status})`,
        { details: { url: settings.url } },
      )
    }
    return id
  }

  const fetchSchema = async (id: number): Promise<string> => {
    const what = `Reading schema ${id}`
    const found = await call('GET', `/schemas/ids/${id}`, what)
    const schema = (found.json as { schema?: unknown } | undefined)?.schema
    if (found.status === 404 || typeof schema !== 'string') {
      throw new AppError(
        'SCHEMA_REGISTRY_SCHEMA_NOT_FOUND',
        `${what}: the schema registry at ${settings.url} has no schema ${id}`,
        { details: { url: settings.url, id } },
      )
    }
    return schema
  }

  /** The promise of `key` in `cache`, made by `make` once; forgotten when it fails. */
  const once = <K, V>(cache: Map<K, Promise<V>>, key: K, make: () => Promise<V>): Promise<V> => {
    let found = cache.get(key)
    if (found === undefined) {
      found = make()
      cache.set(key, found)
      found.catch(() => cache.delete(key))
    }
    return found
  }

  return {
    url: settings.url,
    register: (subject, schema) =>
      once(ids, `${subject}\n${JSON.stringify(schema)}`, () => registerOnce(subject, schema)),
    schemaById: (id) => once(schemas, id, () => fetchSchema(id)),
    async prepare(values) {
      const unknown = new Set<number>()
      for (const value of values) {
        if (value === null || value === undefined) continue
        const id = registrySchemaId(value)
        if (id !== undefined && !knowsRegistrySchema(id)) unknown.add(id)
      }
      for (const id of unknown) {
        if (refused.has(id)) continue
        try {
          addRegistrySchema(id, await once(schemas, id, () => fetchSchema(id)))
        } catch (error) {
          // A schema the registry lacks or the product cannot read: its records stay undecodable
          // (EVENT_SCHEMA_ID_UNKNOWN, a dead letter each), not a stop; asked once per process.
          if (
            error instanceof AppError &&
            (error.retriable || error.code === 'SCHEMA_REGISTRY_AUTH_FAILED')
          )
            throw error
          refused.add(id)
        }
      }
    },
    async close() {
      await own?.close()
    },
  }
}

/**
 * How a producer encodes `topic`'s values: in registry mode (`settings`), the schema of the
 * version it writes (`version`, else `codec`'s write version) registered under `<topic>-value`
 * (once, at start) and its id, for `encode(value, { registryId })`; else single-object (`{}`,
 * or `{ version }`).
 * @throws AppError `SCHEMA_REGISTRY_UNAVAILABLE`, `SCHEMA_REGISTRY_REFUSED`,
 * `SCHEMA_REGISTRY_AUTH_FAILED`.
 */
export async function registryEncoding(
  settings: SchemaRegistrySettings | undefined,
  topic: string,
  codec: EventCodec<unknown> | undefined,
  version?: number,
  /** A client already open on `settings` (kept open); else one is opened and closed here. */
  client?: SchemaRegistry,
): Promise<EncodeOptions> {
  const versioned: EncodeOptions = version === undefined ? {} : { version }
  if (settings === undefined || codec === undefined) return versioned
  const schema = codec.schemas.get(version ?? codec.writeVersion)
  if (schema === undefined) return versioned
  const registry = client ?? createSchemaRegistry(settings)
  try {
    return { ...versioned, registryId: await registry.register(valueSubject(topic), schema) }
  } finally {
    if (client === undefined) await registry.close()
  }
}
