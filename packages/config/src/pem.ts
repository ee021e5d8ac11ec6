import { readFileSync } from 'node:fs'
import type { EnvReader } from './env.js'

const PEM_CERT = /-----BEGIN CERTIFICATE-----/
const PEM_KEY = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/

/**
 * The text of the PEM file `path` named by variable `name`, or undefined with a problem reported
 * on `name` (unreadable, no PEM block of `kind`, an encrypted key). The file's text is never part
 * of a problem.
 */
export function readPemFile(
  reader: EnvReader,
  name: string,
  path: string,
  kind: 'certificate' | 'key',
): string | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    reader.report(name, `${path} cannot be read`)
    return undefined
  }
  if (!(kind === 'certificate' ? PEM_CERT : PEM_KEY).test(text)) {
    reader.report(
      name,
      kind === 'certificate'
        ? `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`
        : `${path} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`,
    )
    return undefined
  }
  if (kind === 'key' && /ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(text)) {
    reader.report(
      name,
      `${path} is an encrypted key; give the key unencrypted, in a file only the service can read`,
    )
    return undefined
  }
  return text
}
