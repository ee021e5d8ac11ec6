/*
 * A private CA and the certificates it signs, made with `openssl` for the dev stack's secured
 * services (the Kafka cluster, the Redis Cluster). P-256 keys: fast to make, and Java, Node and
 * Redis all speak ECDSA. Private keys are 0600; nothing here is long-lived.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { AppError, type ErrorCode } from '@wolkvox-chat-stream/errors'

/** The subject alternative names of a certificate for a service on this machine. */
export const LOCALHOST_SAN = 'IP:127.0.0.1, DNS:localhost'

/**
 * Runs a certificate tool (`openssl`, `keytool`) to its end; rejects with an AppError of `code`
 * carrying its output. Never give it a password as an argument: pass those by variable in `env`.
 */
export function runCertTool(
  command: string,
  args: readonly string[],
  options: { code: ErrorCode; env?: NodeJS.ProcessEnv },
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { env: options.env ?? process.env, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(
            new AppError(
              options.code,
              `${command} ${args[0] ?? ''} failed while making the cluster's certificates: ` +
                `${`${stderr}${stdout}`.trim().slice(-1_500) || error.message}`,
              { cause: error },
            ),
          )
        } else {
          resolve(`${stdout}${stderr}`)
        }
      },
    )
  })
}

/** A new P-256 key and certificate request: `openssl req -new … -nodes`, then the key is 0600. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/**
 * Makes a private CA in `dir` (created 0700 when missing): `ca.pem` and its key `ca-key.pem`
 * (0600), named `cn`, valid for `days`.
 * @throws AppError of `code` with openssl's output.
 */
export async function createCa(
  dir: string,
  options: { cn: string; days: number; code: ErrorCode },
): Promise<{ caFile: string; caKeyFile: string }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const caConfig = join(dir, 'ca.cnf')
  writeFileSync(
    caConfig,
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = ${options.cn}`,
      '[v3_ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  )
  const caFile = join(dir, 'ca.pem')
  const caKeyFile = join(dir, 'ca-key.pem')
  await runCertTool(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      ...NEW_EC_KEY,
      '-keyout',
      caKeyFile,
      '-out',
      caFile,
      '-days',
      String(options.days),
      '-sha256',
      '-config',
      caConfig,
      '-extensions',
      'v3_ca',
    ],
    { code: options.code },
  )
  chmodSync(caKeyFile, 0o600)
  rmSync(caConfig, { force: true })
  return { caFile, caKeyFile }
}

/**
 * Issues a leaf certificate from the CA that {@link createCa} made in `dir`: a new key
 * `<name>-key.pem` (0600) and `<name>.pem` for CN=`cn`, with the extended key `usage`
 * (`serverAuth, clientAuth`, `clientAuth`) and the subject alternative names `san` (none when
 * omitted; {@link LOCALHOST_SAN} for a service here).
 * @throws AppError of `code` with openssl's output.
 */
export async function issueLeaf(
  dir: string,
  name: string,
  options: { cn: string; usage: string; san?: string; days: number; code: ErrorCode },
): Promise<{ certFile: string; keyFile: string }> {
  const keyFile = join(dir, `${name}-key.pem`)
  const certFile = join(dir, `${name}.pem`)
  const csr = join(dir, `${name}.csr`)
  await runCertTool(
    'openssl',
    ['req', '-new', ...NEW_EC_KEY, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${options.cn}`],
    { code: options.code },
  )
  chmodSync(keyFile, 0o600)
  const extfile = join(dir, `${name}.ext`)
  writeFileSync(
    extfile,
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature, keyAgreement',
      `extendedKeyUsage = ${options.usage}`,
      'authorityKeyIdentifier = keyid',
      ...(options.san === undefined || options.san === ''
        ? []
        : [`subjectAltName = ${options.san}`]),
      '',
    ].join('\n'),
  )
  await runCertTool(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      join(dir, 'ca.pem'),
      '-CAkey',
      join(dir, 'ca-key.pem'),
      '-set_serial',
      `0x${randomBytes(16).toString('hex')}`,
      '-days',
      String(options.days),
      '-sha256',
      '-out',
      certFile,
      '-extfile',
      extfile,
    ],
    { code: options.code },
  )
  rmSync(extfile, { force: true })
  rmSync(csr, { force: true })
  return { certFile, keyFile }
}
