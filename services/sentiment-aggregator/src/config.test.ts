import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { AppError } from '@wolkvox-chat-stream/errors'
import { agentSentimentCodec, identifyFingerprint } from '@wolkvox-chat-stream/events'
import { readAggregatorConfig } from './config.js'
import { outputCodec } from './service.js'

const fixture = (name: string): Buffer =>
  readFileSync(new URL(`../../../schemas/fixtures/${name}`, import.meta.url))

describe('SENTIMENT_AGENT_SENTIMENT_VERSION', () => {
  it('writes AgentSentiment v2 by default, v1 on request, and refuses anything else', () => {
    expect(readAggregatorConfig({}).outputVersion).toBe(2)
    expect(readAggregatorConfig({ SENTIMENT_AGENT_SENTIMENT_VERSION: '1' }).outputVersion).toBe(1)
    let error: AppError | undefined
    try {
      readAggregatorConfig({ SENTIMENT_AGENT_SENTIMENT_VERSION: '3' })
    } catch (e) {
      error = e as AppError
    }
    expect(error?.code).toBe('CONFIG_INVALID')
    expect(error?.message).toContain('SENTIMENT_AGENT_SENTIMENT_VERSION')
  })

  it('gives the output a codec that writes the version asked, and reads both', () => {
    const value = agentSentimentCodec.decode(fixture('agent-sentiment.v2.bin'))
    expect(outputCodec(2)).toBe(agentSentimentCodec)
    const v1 = outputCodec(1)
    expect(v1.writeVersion).toBe(1)
    const written = v1.encode(value)
    expect(identifyFingerprint(written.readBigInt64LE(2))).toBe('AgentSentiment v1')
    expect(written.equals(fixture('agent-sentiment.v1.bin'))).toBe(true)
    expect(v1.decode(fixture('agent-sentiment.v2.bin'))).toEqual(value)
  })
})
