import { describe, expect, it } from 'vitest'
import { assertPrerequisites, findMissingPrerequisites, javaMajorVersion } from './prerequisites.js'

describe('prerequisites', () => {
  const empty = { ...process.env, PATH: '/nonexistent' }

  it('names every missing program and how to install it, in one error', () => {
    let caught: unknown
    try {
      assertPrerequisites(['java', 'maven', 'redis-server', 'openssl', 'keytool'], empty)
    } catch (error) {
      caught = error
    }
    expect(caught).toMatchObject({ code: 'DEV_STACK_PREREQUISITE_MISSING' })
    const message = (caught as Error).message
    expect(message).toContain('Java 17 or newer')
    expect(message).toContain('apt-get install maven')
    expect(message).toContain('apt-get install redis-server')
    expect(message).toContain('OpenSSL (makes the private CA')
    expect(message).toContain("Java's keytool")
  })

  it('finds what this machine has', () => {
    expect(findMissingPrerequisites(['java', 'redis-server', 'openssl', 'keytool'])).toEqual([])
    expect(javaMajorVersion()).toBeGreaterThanOrEqual(17)
    expect(javaMajorVersion(empty)).toBeNull()
  })
})
