/** The poll context, message and chat the builder's tests start from (test code, not built). */
import type { PollContext } from './chat-message-builder.js'

export const context: PollContext = {
  server: '0010',
  zone: 'America/Bogota',
  window: { start: new Date('2025-02-11T15:00:00Z'), end: new Date('2025-02-11T15:29:59Z') },
  polledAt: new Date('2025-02-11T15:35:00.123Z'),
}

/** One upstream message with every documented field, `overrides` on top. */
export const message = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  channel: 'WhatsApp',
  from: 'CUSTOMER',
  from_name: 'Zoë',
  to_name: 'chat bot',
  date: '2025-02-11 10:22:33',
  message: 'hola',
  customer_id: '573001234567',
  ...overrides,
})

/** One upstream chat of `conversation`, `overrides` on top. */
export const chat = (conversation: unknown[], overrides: Record<string, unknown> = {}) => ({
  conn_id: 'CH-1',
  agent_name: 'Ana  María',
  customer_name: 'Zoë',
  conversation,
  ...overrides,
})
