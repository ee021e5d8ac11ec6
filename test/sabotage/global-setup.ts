import type { TestProject } from 'vitest/node'

/**
 * The services of a sabotage run, started once by test/sabotage/run.ts for all its runs: each
 * vitest run would otherwise start a broker of its own (about 20 s each on a loaded machine).
 */
export function setup(project: TestProject): void {
  const need = (key: string): string => {
    const value = process.env[key]
    if (!value)
      throw new Error(`${key} is not set: run the sabotage checks with npm run test:sabotage`)
    return value
  }
  project.provide('kafkaBrokers', need('WCS_SABOTAGE_KAFKA'))
  project.provide('redisUrl', need('WCS_SABOTAGE_REDIS'))
  project.provide('kafkaVersion', need('WCS_SABOTAGE_KAFKA_VERSION'))
}
