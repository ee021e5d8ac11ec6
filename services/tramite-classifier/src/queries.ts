/*
 * State key paths (relative to a partition, see the service kit) and the merged reads behind the
 * HTTP API.
 */
import type { StateReader } from '@wolkvox-chat-stream/service-kit'
import {
  memberOf,
  parseConversation,
  parseCountField,
  type ConversationState,
} from './conversation.js'

/** State key paths, relative to a partition. */
export const paths = {
  conversation: (server: string, connId: string): string[] => ['conv', server, connId],
  counts: (server: string, version: string): string[] => ['counts', server, version],
  dirty: 'dirty',
  pending: 'pending',
} as const

/** A conversation's state, from whichever partition holds it; undefined when none does. */
export async function readConversation(
  reader: StateReader,
  server: string,
  connId: string,
): Promise<ConversationState | undefined> {
  const parts = await reader.collect(paths.conversation(server, connId), (r, key) => r.hgetall(key))
  const member = memberOf(server, connId)
  // One partition holds it, unless the input's partition count changed without a rebuild.
  const states = parts.flatMap((hash) => parseConversation(member, hash) ?? [])
  return states.sort((a, b) => Number(b.changes) - Number(a.changes))[0]
}

/** One line of the counts: conversations of a local day, channel and primary trámite. */
export interface CountLine {
  day: string
  channel: string
  tramite: string | null
  conversations: number
}

/** The counts of `server` under rules `version`, merged over the partitions, zeros left out. */
export async function readCounts(
  reader: StateReader,
  server: string,
  version: string,
): Promise<CountLine[]> {
  const merged = await reader.sumHash(paths.counts(server, version))
  const lines: CountLine[] = []
  for (const [field, conversations] of Object.entries(merged)) {
    const parsed = parseCountField(field)
    if (parsed !== undefined && conversations > 0) lines.push({ ...parsed, conversations })
  }
  return lines
}
