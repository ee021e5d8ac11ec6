import type { SelectedChat } from './dataset.js'

/** A `data` item as served: the chat's fields and its conversation. */
export type ChatItem = Record<string, unknown> & {
  conn_id: string
  conversation: Record<string, unknown>[]
}

/** The upstream's texts, as documented (and, where undocumented, our best guess). */
export const texts = {
  apiUnknown: 'THE API YOU WANT TO CONSULT DOES NOT EXIST',
  parametersRequired: 'SOME PARAMETERS ARE REQUIRED',
  tokenMissing: 'PLEASE ENTER THE WOLKVOX-TOKEN',
  tokenInvalid: 'PLEASE VALIDATE TOKEN',
  quotaExceeded: 'TOKEN LIMIT EXCEEDED',
  concurrent: (limit: number) => `EXCEEDS THE LIMIT OF SIMULTANEOUS REQUESTS PER TOKEN (${limit})`,
  noRecords: 'Validate dates entered',
  // Not documented: the real texts for these two are unknown.
  badDate: 'THE DATES MUST HAVE THE FORMAT YYYYmmddHHiiss',
  rangeTooLong: 'THE MAXIMUM RANGE OF DATES IS 31 DAYS',
  maintenance: 'WE ARE PERFORMING BACKUP TASKS, PLEASE TRY AGAIN LATER',
} as const

/** An error body in the upstream's style. */
export const errorBody = (code: number, text: string): string =>
  JSON.stringify({ code, error: text, msg: text })

/** The `data` items of selected chats, as objects (for the truth and for spoiling faults). */
export function toItems(selected: readonly SelectedChat[]): ChatItem[] {
  return selected.map(({ chat, messages }) => ({
    ...chat.fields,
    conversation: messages.map((m) => JSON.parse(m.text) as Record<string, unknown>),
  })) as ChatItem[]
}

/** The JSON text of a success body: built by joining cached texts, not by `JSON.stringify`. */
export function renderBody(
  selected: readonly SelectedChat[],
  code: number | string,
  records: number,
): string {
  let body = `{"code":${JSON.stringify(code)},"error":null,"msg":"${records} records were found","data":[`
  for (const [i, { chat, messages }] of selected.entries()) {
    if (i > 0) body += ','
    body += chat.head
    body += ',"conversation":['
    for (const [j, message] of messages.entries())
      body += j === 0 ? message.text : `,${message.text}`
    body += ']}'
  }
  return `${body}]}`
}

/** A record is a message or a chat; what the cap counts. */
export type RowCapUnit = 'message' | 'chat'

/**
 * Cuts a selection to the row cap the way the upstream does: silently. In messages, the chat that
 * crosses the cap loses its last messages.
 */
export function applyRowCap(
  selected: readonly SelectedChat[],
  cap: number,
  unit: RowCapUnit,
): { selected: SelectedChat[]; records: number; truncated: boolean } {
  if (unit === 'chat') {
    return {
      selected: selected.slice(0, cap),
      records: Math.min(cap, selected.length),
      truncated: selected.length > cap,
    }
  }
  const out: SelectedChat[] = []
  let records = 0
  for (const item of selected) {
    if (records >= cap) return { selected: out, records, truncated: true }
    const room = cap - records
    if (item.messages.length > room) {
      out.push({ chat: item.chat, messages: item.messages.slice(0, room) })
      return { selected: out, records: cap, truncated: true }
    }
    out.push(item)
    records += item.messages.length
  }
  return { selected: out, records, truncated: false }
}

/**
 * The same items with the wrong JSON types where strings belong: numbers, null, objects, arrays.
 * A robust client keeps them as their JSON text.
 */
export function withWrongTypes(items: readonly ChatItem[]): ChatItem[] {
  return items.map((item, i) => ({
    ...item,
    agent_name: { name: item.agent_name },
    priority: i % 3,
    tags: ['sim', 'wrong-types'],
    conversation: item.conversation.map((message) => ({
      ...message,
      customer_id: /^\d{1,15}$/.test(String(message.customer_id))
        ? Number(message.customer_id)
        : message.customer_id,
      feeling: null,
      attachments: [],
    })),
  }))
}
