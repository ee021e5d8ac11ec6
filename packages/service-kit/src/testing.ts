import { createLogger } from '@wolkvox-chat-stream/observability'
import type { EventContext, MessageInfo } from './options.js'
import { createStateWriter, type StateOp } from './state-ops.js'

/**
 * A handler context for unit tests: `ops` collects what the handler records, in order, exactly
 * as the kit would apply it. `scripts` names the Lua functions the service registers.
 */
export function createTestContext(
  info: Partial<MessageInfo> = {},
  scripts: readonly string[] = [],
): { ctx: EventContext; ops: StateOp[] } {
  const ops: StateOp[] = []
  const ctx: EventContext = {
    topic: 'wolkvox.chat.message.v1',
    partition: 0,
    offset: '0',
    key: null,
    timestamp: '0',
    ...info,
    state: createStateWriter(ops, new Set(scripts)),
    logger: createLogger({ name: 'test', level: 'silent' }),
  }
  return { ctx, ops }
}
