/*
 * Renders src/generated/records.ts from schemas/*.avsc: each schema embedded as data (so the
 * package never reads files at run time) and a TypeScript type per record, with each field's `doc`
 * as its TSDoc. A unit test re-renders it and fails when the file is out of step with the schemas.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's `schemas/` folder. */
export const schemasDir = fileURLToPath(new URL('../../../../schemas/', import.meta.url))

/** Where the generated module lives. */
export const generatedFile = fileURLToPath(new URL('../generated/records.ts', import.meta.url))

/** One `<record>.v<N>.avsc` file. */
export interface SchemaFile {
  file: string
  version: number
  schema: Record<string, unknown>
}

const FILE_NAME = /^([a-z0-9]+(?:-[a-z0-9]+)*)\.v([1-9][0-9]*)\.avsc$/

/** Reads every `<record>.v<N>.avsc` of a folder, sorted by file name. */
export function readSchemaFiles(dir: string = schemasDir): SchemaFile[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.avsc'))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file)
      if (!match) throw new Error(`${file}: schema files are named <record>.v<N>.avsc`)
      const schema = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>
      return { file, version: Number(match[2]), schema }
    })
}

const camel = (kebab: string): string =>
  kebab.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())

const docComment = (doc: unknown, indent: string): string =>
  typeof doc === 'string' ? `${indent}/** ${doc.replace(/\*\//g, '*\\/')} */\n` : ''

/** The TypeScript source of the generated module, before formatting. */
export function renderRecordsModule(files: readonly SchemaFile[]): string {
  const out: string[] = [
    '// Generated from schemas/*.avsc by `npm run generate -w @wolkvox-chat-stream/events`. Do not edit:',
    '// a unit test fails when this file and the schemas differ.',
    "import type { SchemaVersion } from '../codec.js'",
    '',
  ]
  const declared = new Map<string, string>()

  for (const { file, version, schema } of files) {
    const suffix = `V${version}`
    const namespace = typeof schema.namespace === 'string' ? schema.namespace : undefined
    const local = new Map<string, string>()

    const typeOf = (node: unknown, ns: string | undefined): string => {
      if (typeof node === 'string') {
        switch (node) {
          case 'null':
            return 'null'
          case 'boolean':
            return 'boolean'
          case 'int':
          case 'long':
          case 'float':
          case 'double':
            return 'number'
          case 'string':
            return 'string'
          case 'bytes':
            return 'Buffer'
        }
        const full = node.includes('.') || !ns ? node : `${ns}.${node}`
        const name = local.get(full)
        if (name === undefined) throw new Error(`${file}: unknown type ${node}`)
        return name
      }
      if (Array.isArray(node)) return node.map((branch) => typeOf(branch, ns)).join(' | ')
      const object = node as Record<string, unknown>
      if (object.logicalType === 'timestamp-millis') return 'Date'
      switch (object.type) {
        case 'array':
          return `${wrap(typeOf(object.items, ns))}[]`
        case 'map':
          return `Record<string, ${typeOf(object.values, ns)}>`
        case 'enum':
        case 'record': {
          const short = String(object.name)
          const childNs = typeof object.namespace === 'string' ? object.namespace : ns
          const full = short.includes('.') || !childNs ? short : `${childNs}.${short}`
          const tsName = `${full.slice(full.lastIndexOf('.') + 1)}${suffix}`
          const owner = declared.get(tsName)
          if (owner !== undefined)
            throw new Error(`${file}: ${tsName} is also declared by ${owner}`)
          declared.set(tsName, file)
          local.set(full, tsName)
          const doc = docComment(
            `${typeof object.doc === 'string' ? object.doc : short} (\`${full}\`, schemas/${file})`,
            '',
          )
          if (object.type === 'enum') {
            const symbols = (object.symbols as string[]).map((s) => `'${s}'`).join(' | ')
            out.push(`${doc}export type ${tsName} = ${symbols}\n`)
          } else {
            const fields = (object.fields as Record<string, unknown>[]).map(
              (field) =>
                `${docComment(field.doc, '  ')}  ${String(field.name)}: ${typeOf(field.type, full.slice(0, full.lastIndexOf('.')) || undefined)}`,
            )
            out.push(`${doc}export interface ${tsName} {\n${fields.join('\n')}\n}\n`)
          }
          return tsName
        }
        default:
          return typeOf(object.type, ns)
      }
    }

    const root = typeOf(schema, namespace)
    const constName = camel(file.replace(/\.avsc$/, '').replace(/\./g, '-'))
    out.push(
      `/** ${root} as schemas/${file} defines it. */`,
      `export const ${constName}: SchemaVersion = { version: ${version}, schema: ${JSON.stringify(schema)} }\n`,
    )
  }
  return `${out.join('\n')}\n`
}

function wrap(type: string): string {
  return type.includes(' | ') ? `(${type})` : type
}

/** The generated module, formatted with the repository's Prettier settings. */
export async function renderFormatted(files: readonly SchemaFile[]): Promise<string> {
  const prettier = await import('prettier')
  const options = await prettier.resolveConfig(generatedFile)
  return prettier.format(renderRecordsModule(files), { ...options, filepath: generatedFile })
}
