/*
 * Composition root: `npm run quality` (and `node dist/main.js`). Reads the configuration, builds
 * the quality service and runs it until SIGTERM or SIGINT (README of this service).
 */
import { runService } from '@wolkvox-chat-stream/service-kit'
import { createChatQuality } from './service.js'

await runService(() => createChatQuality())
