import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { compileRules, loadRules } from '@wolkvox-chat-stream/keyword-rules'
import { protocolChecks } from './protocol.js'

const ruleSet = loadRules(fileURLToPath(new URL('../rules/protocol.es.json', import.meta.url)))
const rules = compileRules(ruleSet)
const passed = (checks: ReturnType<typeof protocolChecks>) =>
  Object.fromEntries(checks.map((c) => [c.id, c.passed]))

describe('protocol checks with the shipped rules', () => {
  it('passes an agent who greets, asks for the document, offers help and says goodbye', () => {
    const checks = protocolChecks(ruleSet, rules, [
      { position: 0, sender: 'customer', text: 'Buenos días, necesito un certificado' },
      {
        position: 1,
        sender: 'agent',
        text: 'Buenas tardes, mi nombre es Ana, ¿en qué le puedo ayudar?',
      },
      { position: 2, sender: 'agent', text: '¿Me regala su número de CÉDULA por favor?' },
      { position: 3, sender: 'agent', text: '¿Hay algo más en lo que le pueda ayudar?' },
      {
        position: 4,
        sender: 'agent',
        text: 'Gracias por comunicarse con nosotros, ¡feliz día! 😊',
      },
    ])
    expect(passed(checks)).toEqual({
      saludo: true,
      identificacion: true,
      'ofrece-ayuda': true,
      despedida: true,
      'no-expresiones-prohibidas': true,
    })
    const identity = checks.find((c) => c.id === 'identificacion')!
    expect(identity.explanations.map((e) => [e.position, e.term, e.matchedText])).toContainEqual([
      2,
      'cedula',
      'CÉDULA',
    ])
  })

  it('fails what the agent skipped, reads only agent messages, and explains a forbidden expression', () => {
    const checks = protocolChecks(ruleSet, rules, [
      { position: 0, sender: 'customer', text: 'hola, mi cédula es 123, gracias por comunicarse' },
      { position: 1, sender: 'bot', text: 'Bienvenido, hasta luego' },
      { position: 2, sender: 'agent', text: 'Eso no es mi problema, señor.' },
    ])
    expect(passed(checks)).toEqual({
      saludo: false,
      identificacion: false,
      'ofrece-ayuda': false,
      despedida: false,
      'no-expresiones-prohibidas': false,
    })
    const forbidden = checks.find((c) => c.id === 'no-expresiones-prohibidas')!
    expect(forbidden.kind).toBe('forbidden')
    expect(forbidden.explanations).toEqual([
      expect.objectContaining({
        position: 2,
        term: 'no es mi problema',
        matchedText: 'no es mi problema',
      }),
    ])
  })
})
