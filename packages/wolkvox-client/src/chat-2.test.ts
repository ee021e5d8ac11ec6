import { describe, expect, it } from 'vitest'
import { parseChat2Row } from './chat-2.js'

describe('parseChat2Row', () => {
  it('keeps every string exactly, unknown fields included', () => {
    const parsed = parseChat2Row({
      conn_id: 'c1',
      agent_name: 'Laura  GÓMEZ ',
      customer_name: 'ana',
      skill: 'ventas',
      conversation: [
        {
          channel: 'WhatsApp',
          from: 'CUSTOMER',
          from_name: 'ana',
          to_name: 'chat_bot',
          date: '2025-02-11 10:22:33',
          message: '  Hola 😊 <a href="https://x/y.pdf">y.pdf</a>',
          customer_id: '573001112233',
          feeling: 'Very Positive',
          attachment_type: 'pdf',
        },
      ],
    })
    expect(parsed).toEqual({
      ok: true,
      messageCount: 1,
      row: {
        conn_id: 'c1',
        agent_name: 'Laura  GÓMEZ ',
        customer_name: 'ana',
        extra: { skill: 'ventas' },
        conversation: [
          {
            channel: 'WhatsApp',
            from: 'CUSTOMER',
            from_name: 'ana',
            to_name: 'chat_bot',
            date: '2025-02-11 10:22:33',
            message: '  Hola 😊 <a href="https://x/y.pdf">y.pdf</a>',
            customer_id: '573001112233',
            feeling: 'Very Positive',
            customer_phone: null,
            extra: { attachment_type: 'pdf' },
          },
        ],
      },
    })
  })

  it('keeps values that are not strings as their JSON text, and absent ones as null', () => {
    const parsed = parseChat2Row({
      conn_id: 12345,
      agent_name: null,
      flags: { vip: true },
      conversation: [
        { from: 'AGENT', customer_id: 573001112233, feeling: '', message: ['a'], n: null },
      ],
    })
    expect(parsed.ok).toBe(true)
    if (!parsed.ok) return
    expect(parsed.row.conn_id).toBe('12345')
    expect(parsed.row.agent_name).toBeNull()
    expect(parsed.row.customer_name).toBeNull()
    expect(parsed.row.extra).toEqual({ flags: '{"vip":true}' })
    const [message] = parsed.row.conversation
    expect(message).toMatchObject({
      customer_id: '573001112233',
      feeling: '',
      message: '["a"]',
      date: null,
      customer_phone: null,
      extra: { n: 'null' },
    })
  })

  it.each([
    ['a string', 'chat', 'item is not an object'],
    ['no conn_id', { conversation: [] }, 'conn_id is missing or empty'],
    ['an empty conn_id', { conn_id: '', conversation: [] }, 'conn_id is missing or empty'],
    ['no conversation', { conn_id: 'c' }, 'conversation is not an array'],
    ['a conversation object', { conn_id: 'c', conversation: {} }, 'conversation is not an array'],
    [
      'a message that is not an object',
      { conn_id: 'c', conversation: [{}, 'hi'] },
      'conversation[1] is not an object',
    ],
  ])('sets aside an item with %s', (_what, item, reason) => {
    expect(parseChat2Row(item)).toEqual({ ok: false, reason })
  })
})
