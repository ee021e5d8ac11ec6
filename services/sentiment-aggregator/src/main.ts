/*
 * Composition root: `npm run sentiment`. Reads the configuration, builds the aggregator and runs it
 * until SIGTERM or SIGINT (README: Running).
 */
import { runService } from '@wolkvox-chat-stream/service-kit'
import { createSentimentAggregator } from './service.js'

await runService(() => createSentimentAggregator())
