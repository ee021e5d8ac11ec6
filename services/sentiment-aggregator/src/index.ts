export {
  eventFields as sentimentEventFields,
  agentKeyOf,
  countsFromText,
  figuresOf,
  isNegative,
  planBatch,
  scoreOf,
  senders,
  sentiments,
  textSentiments,
  textSentimentOf,
  type BatchPlan,
  type ConversationDelta,
  type Sender,
  type Sentiment,
  type SentimentEvent,
  type TextSentiment,
  type WindowFigures,
} from './aggregation.js'
export { readAggregatorConfig, type AggregatorConfig } from './config.js'
export { parseQueryTime, sentimentRoutes } from './http.js'
export { readAgents, readFigures, readWindows, type AgentWindow } from './queries.js'
export {
  SERVICE_NAME,
  createSentimentAggregator,
  outputCodec,
  recordBatch,
  type SentimentAggregatorOptions,
} from './service.js'
export { dayWindow, hourWindow, windowAt, type Granularity, type Window } from './windows.js'
