export { runDoctor, type DoctorOptions } from './doctor.js'
export {
  bounded,
  describeError,
  exitCodeOf,
  failed,
  oneLine,
  passed,
  redactResult,
  renderJson,
  renderLine,
  renderText,
  skipped,
  summarize,
  warned,
  type CheckResult,
  type CheckStatus,
} from './result.js'
export { grantCommand, missingAcls, type DescribedAcl, type MissingAcl } from './acls.js'
export {
  readProductConfig,
  serviceNames,
  type ProductConfig,
  type ServiceNames,
} from './configs.js'
export { expectedTopics } from './kafka-checks.js'
export { productSubjects } from './registry-checks.js'
