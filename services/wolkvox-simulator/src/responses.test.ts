import { describe, expect, it } from 'vitest'
import { createDataset, type SelectedChat } from './dataset.js'
import { applyRowCap, renderBody, toItems, withWrongTypes } from './responses.js'
import { parseCompact } from './wall-clock.js'

const dataset = createDataset({
  seed: 3,
  chatsPerHour: 60,
  timeZone: 'America/Bogota',
  historyStartMs: Date.parse('2025-02-01T00:00:00Z'),
})
const selected: SelectedChat[] = dataset.select({
  fromLocalSec: parseCompact('20250203000000')!,
  toLocalSec: parseCompact('20250203235959')!,
  selection: 'closing',
  visibleUntilSec: Date.parse('2025-02-10T00:00:00Z') / 1000,
})
const total = selected.reduce((sum, s) => sum + s.messages.length, 0)

describe('renderBody', () => {
  it('is the JSON of the items, code as given', () => {
    const body = JSON.parse(renderBody(selected, '200', 12))
    expect(body).toEqual({
      code: '200',
      error: null,
      msg: '12 records were found',
      data: toItems(selected),
    })
    expect(body.data[0]).toMatchObject({ conn_id: selected[0]!.chat.fields.conn_id })
  })
})

describe('applyRowCap', () => {
  it('cuts silently at the cap in messages, mid-chat', () => {
    const cap = Math.floor(total / 2) + 1
    const capped = applyRowCap(selected, cap, 'message')
    expect(capped.truncated).toBe(true)
    expect(capped.records).toBe(cap)
    expect(capped.selected.reduce((sum, s) => sum + s.messages.length, 0)).toBe(cap)
    const last = capped.selected.at(-1)!
    expect(last.messages).toEqual(
      selected[capped.selected.length - 1]!.messages.slice(0, last.messages.length),
    )
  })

  it('cuts at the cap in chats', () => {
    const capped = applyRowCap(selected, 10, 'chat')
    expect(capped).toMatchObject({ records: 10, truncated: true })
    expect(capped.selected).toEqual(selected.slice(0, 10))
  })

  it('leaves a response under the cap whole', () => {
    expect(applyRowCap(selected, total, 'message')).toMatchObject({
      records: total,
      truncated: false,
    })
  })
})

describe('withWrongTypes', () => {
  it('puts numbers, null, objects and arrays where strings belong', () => {
    const [item] = withWrongTypes(toItems(selected.slice(0, 1)))
    expect(typeof item!.agent_name).toBe('object')
    expect(item!.tags).toEqual(['sim', 'wrong-types'])
    expect(item!.conversation.every((m) => m.feeling === null)).toBe(true)
  })
})
