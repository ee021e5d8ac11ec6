/*
 * The package loads, and each shipped codec is usable right after: imported inside the test, not
 * at the top of the file. A fault at load time (a codec that cannot be built from its schemas)
 * then fails this test instead of only failing to load the files that import the package, which
 * a test runner may report as no test at all (Stryker's Vitest runner does: README, Mutation
 * testing).
 */
import { describe, expect, it } from 'vitest'

describe('@wolkvox-chat-stream/events', () => {
  it('loads, with a codec for every record, each writing and reading its own bytes', async () => {
    const events = await import('./index.js')
    const codecs = [
      events.chatMessageCodec,
      events.pollerCheckpointCodec,
      events.agentSentimentCodec,
      events.tramiteClassificationCodec,
      events.chatQualityCodec,
    ]
    for (const codec of codecs) expect(typeof codec.decode).toBe('function')
    const checkpoint = {
      server: '0010',
      report: 'chat_2',
      watermark: new Date('2025-02-11T15:00:00Z'),
      window_start: new Date('2025-02-11T14:00:00Z'),
      window_end: new Date('2025-02-11T14:59:59Z'),
      fetched: 3,
      published: 2,
      duplicates: 1,
      dead_lettered: 0,
      splits: 0,
      fence: 7,
      checkpointed_at: new Date('2025-02-11T15:05:00Z'),
    }
    const bytes = events.encodePollerCheckpoint(checkpoint)
    expect(events.decodePollerCheckpoint(bytes)).toEqual(checkpoint)
  })
})
