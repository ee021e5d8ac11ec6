/*
 * `npm run generate -w @wolkvox-chat-stream/events`: rewrites src/generated/records.ts from
 * schemas/*.avsc. Run it after adding a schema version; a unit test fails until you do.
 */
import { writeFileSync } from 'node:fs'
import { generatedFile, readSchemaFiles, renderFormatted } from './render-records.js'

writeFileSync(generatedFile, await renderFormatted(readSchemaFiles()))
process.stderr.write(`${generatedFile} updated\n`)
