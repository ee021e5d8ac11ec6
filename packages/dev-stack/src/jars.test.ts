import { describe, expect, it } from 'vitest'
import { DEFAULT_KAFKA_VERSION, kafkaMajor, kafkaVersionFromEnv } from './jars.js'

describe('the broker version', () => {
  it('is KAFKA_VERSION when set, and the default when unset or empty', () => {
    expect(kafkaVersionFromEnv({ KAFKA_VERSION: '4.4.0' })).toBe('4.4.0')
    expect(kafkaVersionFromEnv({ KAFKA_VERSION: ' 4.4.0 ' })).toBe('4.4.0')
    expect(kafkaVersionFromEnv({ KAFKA_VERSION: '' })).toBe(DEFAULT_KAFKA_VERSION)
    expect(kafkaVersionFromEnv({})).toBe(DEFAULT_KAFKA_VERSION)
  })

  it('names its major line, which picks the logging binding', () => {
    expect(kafkaMajor('3.9.2')).toBe(3)
    expect(kafkaMajor('4.4.0')).toBe(4)
  })
})
