/*
 * The rules in force for a service (the trámite classifier, chat quality): loaded at start,
 * reloaded on `POST /rules/reload` or when the file changes. A bad file is refused (the previous
 * rules stay) and logged; an edit must carry a new version.
 */
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import { AppError, isAppError } from '@wolkvox-chat-stream/errors'
import type { Logger, MetricsRegistry } from '@wolkvox-chat-stream/observability'
import { compileRules, type CompiledRules } from './compile.js'
import { loadRules } from './rules.js'
import type { RuleSet } from './types.js'

/** One loaded rule set. */
export interface LoadedRules {
  readonly version: string
  readonly compiled: CompiledRules
  readonly ruleSet: RuleSet
  readonly file: string
  readonly loadedAt: Date
}

/** What a reload did. */
export interface ReloadResult {
  version: string
  previous_version: string
  /** False when the file holds the rules already in force. */
  changed: boolean
}

export interface RulesHolder {
  /** The rules in force; read it once per batch (a reload swaps the reference). */
  readonly current: LoadedRules
  /**
   * Loads the file again and puts it in force.
   *
   * @throws AppError `TRAMITE_RULES_FILE_UNREADABLE`, `TRAMITE_RULES_INVALID`, or
   * `TRAMITE_RULES_VERSION_UNCHANGED` (other rules under the version in force); the rules in force
   * stay.
   */
  reload(trigger: 'http' | 'watch'): ReloadResult
  /** Reloads whenever the file changes (a bad version is logged and refused). */
  watch(): void
  close(): void
}

const canonical = (ruleSet: RuleSet): string => JSON.stringify(ruleSet)

/**
 * Loads `file` now (throwing its AppError when it is unreadable or invalid) and keeps it in force.
 * With `metrics`, declares `<metricPrefix>_rules_info{version}` and
 * `<metricPrefix>_rules_reloads_total{outcome}` (`loaded`, `unchanged`, `refused`).
 */
export function createRulesHolder(options: {
  file: string
  logger: Logger
  metrics?: MetricsRegistry
  /** The metrics' name prefix. Default `wolkvox_classifier`. */
  metricPrefix?: string
  /** How long the file must stay quiet after a change before it is read. Default 200 ms. */
  settleMs?: number
}): RulesHolder {
  const { file, logger } = options
  const load = (): LoadedRules => {
    const ruleSet = loadRules(file)
    return {
      version: ruleSet.version,
      compiled: compileRules(ruleSet),
      ruleSet,
      file,
      loadedAt: new Date(),
    }
  }
  const prefix = options.metricPrefix ?? 'wolkvox_classifier'
  let current = load()
  let currentCanonical = canonical(current.ruleSet)
  const info = options.metrics?.gauge({
    name: `${prefix}_rules_info`,
    help: 'Always 1, labelled with the version of the rules in force.',
    labelNames: ['version'],
  })
  const reloads = options.metrics?.counter({
    name: `${prefix}_rules_reloads_total`,
    help: 'Rule reloads by outcome: loaded (a new version in force), unchanged, refused (bad file; the previous rules stay).',
    labelNames: ['outcome'],
  })
  info?.set({ version: current.version }, 1)
  for (const outcome of ['loaded', 'unchanged', 'refused']) reloads?.inc({ outcome }, 0)

  const reload = (trigger: 'http' | 'watch'): ReloadResult => {
    const previous = current
    try {
      const ruleSet = loadRules(file)
      const text = canonical(ruleSet)
      if (text === currentCanonical) {
        reloads?.inc({ outcome: 'unchanged' })
        return { version: previous.version, previous_version: previous.version, changed: false }
      }
      if (ruleSet.version === previous.version) {
        throw new AppError(
          'TRAMITE_RULES_VERSION_UNCHANGED',
          `Rules file ${file} changed but its version is still ${JSON.stringify(previous.version)}: give the edited rules a new version (results and counts are kept per version)`,
          { details: { file, version: previous.version } },
        )
      }
      const next = {
        version: ruleSet.version,
        compiled: compileRules(ruleSet),
        ruleSet,
        file,
        loadedAt: new Date(),
      }
      current = next
      currentCanonical = text
      info?.remove({ version: previous.version })
      info?.set({ version: next.version }, 1)
      reloads?.inc({ outcome: 'loaded' })
      logger.info('rules reloaded', {
        version: next.version,
        previousVersion: previous.version,
        trigger,
        file,
      })
      return { version: next.version, previous_version: previous.version, changed: true }
    } catch (error) {
      reloads?.inc({ outcome: 'refused' })
      logger.error('rules reload refused; the rules in force stay', {
        err: error,
        code: isAppError(error) ? error.code : undefined,
        version: previous.version,
        trigger,
        file,
      })
      throw error
    }
  }

  let watcher: FSWatcher | undefined
  let timer: NodeJS.Timeout | undefined
  const settleMs = options.settleMs ?? 200
  return {
    get current() {
      return current
    },
    reload,
    watch() {
      if (watcher !== undefined) return
      // The directory, not the file: editors and deploys replace a file by renaming over it.
      watcher = watch(dirname(file), (_event, name) => {
        if (name !== null && name !== basename(file)) return
        clearTimeout(timer)
        timer = setTimeout(() => {
          try {
            reload('watch')
          } catch {
            // Logged and counted by reload; the rules in force stay.
          }
        }, settleMs)
      })
      watcher.on('error', (error) =>
        logger.error('watching the rules file failed; reload with POST /rules/reload', {
          err: error,
          file,
        }),
      )
    },
    close() {
      clearTimeout(timer)
      watcher?.close()
      watcher = undefined
    },
  }
}
