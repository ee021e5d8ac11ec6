/*
 * Composition root: `npm run classifier -- run` (and `node dist/main.js`). Reads the configuration,
 * builds the classifier and runs it until SIGTERM or SIGINT (README: Trámite classifier).
 */
import { runService } from '@wolkvox-chat-stream/service-kit'
import { createTramiteClassifier } from './service.js'

await runService(() => createTramiteClassifier())
