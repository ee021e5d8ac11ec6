import { isAppError } from '@wolkvox-chat-stream/errors'
import type { WolkvoxClient } from '@wolkvox-chat-stream/wolkvox-client'
import type { ChatSource } from '../core/ports.js'
import { widenForAmbiguity } from '../window.js'

/**
 * The upstream for the core: `chat_2` through the Wolkvox client, streamed when the core asks. A
 * response at the row cap, or one abandoned for being over the size cap, comes back as
 * `truncated` so the core splits it.
 */
export function createWolkvoxSource(
  client: WolkvoxClient,
  report: 'chat_2' = 'chat_2',
): ChatSource {
  return {
    fetch: async (range, { signal, deadline, stream }) => {
      const asked = widenForAmbiguity(range, client.timeZone)
      try {
        const result = await client.fetchReport({
          report,
          from: new Date(asked.fromMs),
          to: new Date(asked.toMs),
          signal,
          deadline,
          ...(stream === undefined
            ? {}
            : {
                stream: {
                  onItems: (items) => stream.onChats(items),
                  onRetry: () => stream.onRetry(),
                },
              }),
        })
        return { chats: result.items, truncated: result.hitRowCap, bytes: result.bytes }
      } catch (error) {
        if (isAppError(error, 'WOLKVOX_RESPONSE_TOO_LARGE'))
          return { chats: [], truncated: true, bytes: 0 }
        throw error
      }
    },
  }
}
