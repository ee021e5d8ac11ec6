import { describe, expect, it } from 'vitest'
import {
  customerClosings,
  customerIdentityReplies,
  customerRepeats,
  scripts,
  shippedRuleIds,
  tramites,
  type Tramite,
} from './catalog.js'
import { createDataset, type SimChat } from './dataset.js'
import { labelledCustomerLines, tramiteIntentOf, tramitesNamedBy } from './tramite-intent.js'

const start = Date.parse('2025-02-01T00:00:00Z')
const dataset = createDataset({
  seed: 5,
  chatsPerHour: 60,
  timeZone: 'America/Bogota',
  historyStartMs: start,
})
// About 6,000 chats: every catalog line, duplicates and images many times over.
const chats: SimChat[] = Array.from({ length: 100 }, (_, i) =>
  dataset.chatsInHour(start / 3_600_000 + i),
).flat()
const parsed = (chat: SimChat) =>
  chat.messages.map((m) => JSON.parse(m.text) as Record<string, string>)

describe('the trámites a chat names', () => {
  it('labels every line the catalog can give a customer, and nothing else', () => {
    const catalogLines = new Set([
      ...tramites.flatMap((t) => [...scripts[t].opening, ...scripts[t].followUp]),
      ...customerIdentityReplies,
      ...customerClosings,
      ...customerRepeats,
      // The bot menu's options, as the customer types them.
      ...tramites.map((_, i) => String(i + 1)),
    ])
    expect(new Set(labelledCustomerLines.keys())).toEqual(catalogLines)
    expect(() => tramitesNamedBy('Quiero un paz y salvo')).toThrow(/no label/u)
    expect(tramitesNamedBy('data:image/png;base64,cGFnbw==', true)).toEqual([])
  })

  it("writes no line naming another trámite than its chat's, and some that name none", () => {
    for (const t of tramites) {
      const named = [...scripts[t].opening, ...scripts[t].followUp].map((line) =>
        tramitesNamedBy(line),
      )
      expect(
        named.every((n) => n.every((x) => x === t)),
        t,
      ).toBe(true)
      // Each script's requests name their trámite, bar one vague request about a status.
      const vague = scripts[t].opening.filter((line) => tramitesNamedBy(line).length === 0)
      expect(vague, t).toEqual(
        t === 'estado_solicitud' ? ['buenas, me dijeron que en 5 días y ya van 10 🙄'] : [],
      )
    }
    for (const line of [...customerIdentityReplies, ...customerClosings, ...customerRepeats]) {
      expect(tramitesNamedBy(line), line).toEqual([])
    }
  })

  it('gives each chat the trámite its customer names, with the messages naming it', () => {
    expect(chats.length).toBeGreaterThan(5_000)
    const reasons = new Map<string, number>()
    for (const chat of chats) {
      const e = dataset.expectationOf(chat)
      const messages = parsed(chat)
      const naming = messages.flatMap((m, i) =>
        m.from === 'CUSTOMER' && m.message_type !== 'image'
          ? tramitesNamedBy(m.message!).map((t) => [t, i] as const)
          : [],
      )
      const expected = naming.length === 0 ? [] : [e.tramite]
      expect(
        e.intended_tramites.map((t) => t.tramite),
        e.conn_id,
      ).toEqual(expected)
      for (const t of e.intended_tramites) {
        expect(t.rule_id).toBe(shippedRuleIds[t.tramite])
        expect(t.messages).toEqual(naming.filter(([n]) => n === t.tramite).map(([, i]) => i))
      }
      expect(e.unnamed === null, e.conn_id).toBe(naming.length > 0)
      if (e.unnamed !== null) reasons.set(e.unnamed, (reasons.get(e.unnamed) ?? 0) + 1)
      if (e.unnamed === 'vague-request') expect(e.tramite).toBe('estado_solicitud')
    }
    // A vague request about a status with no radicado after it, about 1 chat in 50; a request
    // lost to a repeated greeting with nothing naming the trámite after it, about 1 in 250.
    const vague = reasons.get('vague-request') ?? 0
    const lost = reasons.get('request-repeated-over') ?? 0
    expect(vague / chats.length).toBeGreaterThan(0.01)
    expect(vague / chats.length).toBeLessThan(0.04)
    expect(lost / chats.length).toBeGreaterThan(0.001)
    expect(lost / chats.length).toBeLessThan(0.01)
  })

  it('puts the chat’s own trámite first, then others in the order first named', () => {
    const line = (text: string) => ({ role: 'customer', text, image: false })
    const topic: Tramite = 'cita'
    const intent = tramiteIntentOf(topic, [
      { role: 'bot', text: 'Quiero cancelar el servicio', image: false },
      line('Referencia de pago 7764512'),
      line('Quiero poner una queja formal'),
      line('Necesito reprogramar mi cita 📅'),
      line('Voy a poner la queja en la Superintendencia'),
    ])
    expect(intent).toEqual({
      intended_tramites: [
        { tramite: 'cita', rule_id: 'cita', messages: [3] },
        { tramite: 'pago', rule_id: 'pago-factura', messages: [1] },
        { tramite: 'queja', rule_id: 'queja-reclamo', messages: [2, 4] },
      ],
      unnamed: null,
    })
    expect(
      tramiteIntentOf('cita', [line('Hola'), line('Hola'), line('Prefiero en la mañana')]),
    ).toEqual({ intended_tramites: [], unnamed: 'request-repeated-over' })
  })
})
