import { readPemFile, type EnvReader, type Secret } from '@wolkvox-chat-stream/config'

/** Where the registry is and how to reach it; registry mode is on when this exists. */
export interface SchemaRegistrySettings {
  /**
   * `SCHEMA_REGISTRY_URL`: the Confluent-compatible API's base, e.g.
   * `http://127.0.0.1:8080/apis/ccompat/v7` (Apicurio) or `https://registry:8081` (Confluent).
   */
  readonly url: string
  /** `SCHEMA_REGISTRY_USERNAME` and `SCHEMA_REGISTRY_PASSWORD_FILE`: HTTP basic authentication. */
  readonly username?: string
  readonly password?: Secret
  /** `SCHEMA_REGISTRY_CA_FILE`'s PEM text: the only CA trusted for `https://`. */
  readonly ca?: string
}

/**
 * Reads the registry settings; undefined when `SCHEMA_REGISTRY_URL` is unset (single-object mode,
 * nothing changes). Problems are reported on the reader (`CONFIG_INVALID` once all are read): a
 * URL that is not http(s), credentials in the URL, a password without a user (or the reverse), an
 * unreadable file.
 */
export function readSchemaRegistrySettings(reader: EnvReader): SchemaRegistrySettings | undefined {
  const url = reader.string('SCHEMA_REGISTRY_URL')
  const username = reader.string('SCHEMA_REGISTRY_USERNAME')
  const password = reader.secretFile('SCHEMA_REGISTRY_PASSWORD_FILE')
  const caFile = reader.string('SCHEMA_REGISTRY_CA_FILE')
  if (url === undefined) {
    for (const name of [
      'SCHEMA_REGISTRY_USERNAME',
      'SCHEMA_REGISTRY_PASSWORD_FILE',
      'SCHEMA_REGISTRY_CA_FILE',
    ]) {
      if (reader.string(name) !== undefined)
        reader.report(name, 'is set without SCHEMA_REGISTRY_URL')
    }
    return undefined
  }
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    reader.report('SCHEMA_REGISTRY_URL', 'is not a URL')
  }
  if (parsed !== undefined) {
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      reader.report(
        'SCHEMA_REGISTRY_URL',
        `must start with http:// or https://, not ${parsed.protocol}//`,
      )
    }
    if (parsed.username !== '' || parsed.password !== '') {
      reader.report(
        'SCHEMA_REGISTRY_URL',
        'holds credentials: give them as SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD_FILE',
      )
    }
    if (parsed.search !== '' || parsed.hash !== '') {
      reader.report('SCHEMA_REGISTRY_URL', 'may not have a query string or fragment')
    }
    if (caFile !== undefined && parsed.protocol !== 'https:') {
      reader.report('SCHEMA_REGISTRY_CA_FILE', 'is set but SCHEMA_REGISTRY_URL is not https://')
    }
  }
  if ((username === undefined) !== (password === undefined)) {
    reader.report(
      username === undefined ? 'SCHEMA_REGISTRY_USERNAME' : 'SCHEMA_REGISTRY_PASSWORD_FILE',
      'is required with the other half of the basic-auth credentials',
    )
  }
  const ca =
    caFile === undefined
      ? undefined
      : readPemFile(reader, 'SCHEMA_REGISTRY_CA_FILE', caFile, 'certificate')
  return {
    url: url.replace(/\/+$/, ''),
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(ca === undefined ? {} : { ca }),
  }
}
