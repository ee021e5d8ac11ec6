/**
 * The trámite classification engine: pure functions over a rules file, no I/O beyond reading
 * the files given to the loaders.
 *
 * ```ts
 * const rules = compileRules(loadRules('rules/tramites.es.json'))
 * classifyMessage(rules, 'Necesito un CERTIFICÁDO laboral').primary // 'certificado'
 * ```
 */
export { classifyConversation, classifyMessage, weightScore } from './classify.js'
export { compileRules, termWeights, type CompiledRules } from './compile.js'
export {
  evaluate,
  noTramite,
  loadEvalSet,
  parseEvalSet,
  type EvaluationReport,
  type LabelledMessage,
  type Scores,
} from './evaluate.js'
export { normalizeText, type NormalizedText } from './fold.js'
export { mergeMessageMatches, type MessageMatches, type TramiteInfo } from './merge.js'
export { loadRules, parseRules, type RulesProblem } from './rules.js'
export {
  senders,
  type Classification,
  type ConversationMessage,
  type ExcludedMatch,
  type Explanation,
  type RuleSet,
  type Sender,
  type TermKind,
  type TramiteLabel,
  type TramiteRule,
} from './types.js'
export {
  createRulesHolder,
  type LoadedRules,
  type ReloadResult,
  type RulesHolder,
} from './holder.js'
export { rulesRoutes } from './holder-routes.js'
