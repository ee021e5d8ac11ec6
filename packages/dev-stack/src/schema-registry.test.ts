import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isAppError } from '@wolkvox-chat-stream/errors'
import {
  chooseJava,
  DEFAULT_SCHEMA_REGISTRY_VERSION,
  ensureSchemaRegistryDistribution,
  findJava,
  javaMajorFromVersionOutput,
  registryJavaMajor,
  schemaRegistryVersionFromEnv,
} from './schema-registry.js'

describe('the schema registry version', () => {
  it('is 3.3.3 unless SCHEMA_REGISTRY_VERSION names another', () => {
    expect(DEFAULT_SCHEMA_REGISTRY_VERSION).toBe('3.3.3')
    expect(schemaRegistryVersionFromEnv({})).toBe('3.3.3')
    expect(schemaRegistryVersionFromEnv({ SCHEMA_REGISTRY_VERSION: ' ' })).toBe('3.3.3')
    expect(schemaRegistryVersionFromEnv({ SCHEMA_REGISTRY_VERSION: '3.0.9' })).toBe('3.0.9')
  })

  it('needs Java 21 from 3.1 on, 17 for the 3.0 line', () => {
    expect(registryJavaMajor('3.3.3')).toBe(21)
    expect(registryJavaMajor('3.1.0')).toBe(21)
    expect(registryJavaMajor('3.0.9')).toBe(17)
  })

  it('refuses a version that is not x.y.z before running Maven', async () => {
    const home = mkdtempSync(join(tmpdir(), 'schema-registry-unit-'))
    try {
      const caught = await ensureSchemaRegistryDistribution({ home, version: 'latest' }).catch(
        (error: unknown) => error,
      )
      expect(isAppError(caught, 'DEV_STACK_JARS_FETCH_FAILED')).toBe(true)
      expect(String(caught)).toMatch(/"latest" is not an Apicurio Registry version/)
    } finally {
      rmSync(home, { recursive: true, force: true })
    }
  })
})

describe('finding a Java for the registry', () => {
  it('reads the major version from java -version', () => {
    expect(
      javaMajorFromVersionOutput('openjdk version "25.0.3" 2026-04-21 LTS\nOpenJDK Runtime'),
    ).toBe(25)
    expect(javaMajorFromVersionOutput('openjdk version "17.0.15" 2025-04-15')).toBe(17)
    expect(javaMajorFromVersionOutput('openjdk version "21" 2023-09-19')).toBe(21)
    expect(javaMajorFromVersionOutput('java version "1.8.0_392"')).toBe(8)
    expect(javaMajorFromVersionOutput('bash: java: command not found')).toBeNull()
  })

  it('takes the newest that is new enough, the first listed among equals', () => {
    const installs = [
      { path: 'java', major: 17 },
      { path: '/usr/lib/jvm/a/bin/java', major: 21 },
      { path: '/usr/lib/jvm/b/bin/java', major: 25 },
      { path: '/usr/lib/jvm/c/bin/java', major: 25 },
    ]
    expect(chooseJava(installs, 21)).toEqual({ path: '/usr/lib/jvm/b/bin/java', major: 25 })
    expect(chooseJava(installs, 17)?.major).toBe(25)
    expect(chooseJava(installs.slice(0, 1), 17)).toEqual({ path: 'java', major: 17 })
    expect(chooseJava(installs.slice(0, 1), 21)).toBeNull()
    expect(chooseJava([], 17)).toBeNull()
  })

  it('says what it found and how to fix it when SCHEMA_REGISTRY_JAVA is no Java', () => {
    const call = (): unknown => findJava(21, { SCHEMA_REGISTRY_JAVA: '/nonexistent/jdk' })
    expect(call).toThrow(/needs Java 21 or newer; found \/nonexistent\/jdk \(did not run\)/)
    expect(call).toThrow(/openjdk-21-jre-headless.*SCHEMA_REGISTRY_JAVA/)
    try {
      call()
    } catch (error) {
      expect(isAppError(error, 'DEV_STACK_PREREQUISITE_MISSING')).toBe(true)
    }
  })
})
