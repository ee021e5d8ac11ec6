export {
  computeTruth,
  reportsManagerPath,
  startSimulator,
  type RunningSimulator,
  type SimulatorOptions,
  type SimulatorSettings,
  type Truth,
  type TruthOptions,
  type TruthWindow,
} from './simulator.js'
export {
  findOverlaps,
  tokenFingerprint,
  type CallOutcome,
  type Overlap,
  type SimCall,
} from './calls.js'
export { faultKinds, parseFaultSpec, type Fault, type FaultSpec } from './faults.js'
export {
  createDataset,
  planHour,
  writeChat,
  type ChatHeader,
  type Dataset,
  type DatasetOptions,
  type Selection,
  type SimChat,
  type SimMessage,
} from './dataset.js'
export { applyRowCap, texts, type ChatItem, type RowCapUnit } from './responses.js'
export { readSimulatorConfig, simulatorFlags, usage, type SimulatorConfig } from './config.js'
