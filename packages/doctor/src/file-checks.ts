/*
 * Checks 6 and 7: the rules files the classifier and chat quality load at start, and the HTTP
 * token files the servers (and the dashboard's proxy) read.
 */
import { readConfig, readHttpSecurity, readTokenFile, type Env } from '@wolkvox-chat-stream/config'
import { isAppError } from '@wolkvox-chat-stream/errors'
import { compileRules, loadRules } from '@wolkvox-chat-stream/keyword-rules'
import type { ProductConfig } from './configs.js'
import { describeError, failed, passed, skipped, type CheckResult } from './result.js'

function rulesCheck(name: string, file: string | undefined, variable: string): CheckResult {
  if (file === undefined)
    return skipped(name, `not checked (the service's configuration is invalid)`)
  try {
    const ruleSet = loadRules(file)
    compileRules(ruleSet)
    return passed(name, `${file}: version ${ruleSet.version}, ${ruleSet.tramites.length} rules`)
  } catch (error) {
    return failed(
      name,
      describeError(error),
      isAppError(error, 'TRAMITE_RULES_FILE_UNREADABLE')
        ? `make ${file} readable by the service's user, or point ${variable} at a rules file`
        : `correct ${file} where each problem says, or point ${variable} at a valid rules file`,
    )
  }
}

/** `rules tramite-classifier` and `rules chat-quality`: loaded and compiled as the services do. */
export function checkRules(config: ProductConfig): CheckResult[] {
  return [
    rulesCheck(
      'rules tramite-classifier',
      config.classifier.ok ? config.classifier.value.own.rulesFile : undefined,
      'CLASSIFIER_RULES_FILE',
    ),
    rulesCheck(
      'rules chat-quality',
      config.quality.ok ? config.quality.value.own.rulesFile : undefined,
      'QUALITY_RULES_FILE',
    ),
  ]
}

const TOKEN_FIX =
  'one token a line, at least 16 characters, in a file the service user can read (openssl rand -base64 32 > file; chmod 600 file; README: Security)'

/**
 * `http token file` (`HTTP_AUTH_TOKEN_FILE`, read through the services' HTTP security reader)
 * and `dashboard upstream token file` (`DASHBOARD_UPSTREAM_TOKEN_FILE`); each skipped when unset.
 */
export function checkHttpTokens(env: Env): CheckResult[] {
  const results: CheckResult[] = []
  let tokenFile: string | undefined
  try {
    tokenFile = readConfig(env, (r) => readHttpSecurity(r)).auth?.tokenFile
  } catch (error) {
    results.push(
      failed('http token file', describeError(error), `HTTP_AUTH_TOKEN_FILE: ${TOKEN_FIX}`),
    )
  }
  if (results.length === 0) {
    results.push(
      tokenFile === undefined
        ? skipped('http token file')
        : fileLine('http token file', tokenFile, 'HTTP_AUTH_TOKEN_FILE'),
    )
  }
  const upstream = env.DASHBOARD_UPSTREAM_TOKEN_FILE?.trim()
  results.push(
    upstream === undefined || upstream === ''
      ? skipped('dashboard upstream token file')
      : fileLine('dashboard upstream token file', upstream, 'DASHBOARD_UPSTREAM_TOKEN_FILE'),
  )
  return results
}

function fileLine(name: string, file: string, variable: string): CheckResult {
  const read = readTokenFile(file)
  return Array.isArray(read)
    ? passed(name, `${file}: ${read.length} token${read.length === 1 ? '' : 's'}`)
    : failed(name, `${variable}: ${read.problem}`, `${variable}: ${TOKEN_FIX}`)
}
