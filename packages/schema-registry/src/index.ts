export {
  createSchemaRegistry,
  registryEncoding,
  valueSubject,
  type SchemaRegistry,
} from './client.js'
export { readSchemaRegistrySettings, type SchemaRegistrySettings } from './settings.js'
