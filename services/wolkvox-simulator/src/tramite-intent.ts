/*
 * The trámites a chat's customer names, known by construction: every line the catalog can put in a
 * customer's mouth is labelled here by hand with the trámites it names, read as a person would
 * read it on its own (never by the product's keyword rules), and a chat names what its customer
 * messages name. Tests use this as the trámite classifier's independent oracle.
 *
 * A chat is always written about one trámite (its `tramite`), yet its customer may never name it:
 * a vague request ("me dijeron que en 5 días y ya van 10") with follow-ups that name nothing, or
 * a request lost to a repeated greeting (the duplicate, see dataset.ts, may repeat "Hola" in its
 * place). Only the bot's menu option (a digit) then says what the chat is about, and a keyword
 * classifier of the customer's words is meant to find nothing.
 */
import { scripts, shippedRuleIds, type Tramite } from './catalog.js'

/** What each customer line of the catalog names. A line that names nothing has `[]`. */
const labelled: readonly (readonly [string, readonly Tramite[]])[] = [
  // certificado: every request asks for a certificate or a constancia; the questions after it
  // (time, cost, delivery, a document number) name nothing on their own.
  ['Buenos días, necesito un certificado de afiliación', ['certificado']],
  ['Hola, ¿cómo puedo descargar el certificado laboral?', ['certificado']],
  ['Necesito el certificado de retención en la fuente del año pasado 📄', ['certificado']],
  ['buenas tardes quisiera pedir una constancia de afiliación', ['certificado']],
  ['¿Cuánto se demora la expedición?', []],
  ['Lo necesito para mañana, es para un trámite en el banco', []],
  ['Mi número de documento es 1.020.304.050', []],
  ['¿Me lo pueden enviar al correo?', []],
  ['¿Tiene algún costo?', []],
  // pago
  ['No me ha llegado la factura de este mes', ['pago']],
  ['Ya pagué pero en el sistema me aparece el recibo sin pagar 😤', ['pago']],
  ['Hola, quiero pagar mi factura por PSE', ['pago']],
  ['¿Me pueden enviar el duplicado de la factura?', ['pago']],
  ['me llegó la factura con un valor que no entiendo!!', ['pago']],
  ['El pago lo hice el 5 de febrero por $185.900', ['pago']],
  ['Les envío el comprobante', []],
  ['¿Puedo pagar con tarjeta de crédito? 💳', ['pago']],
  ['Referencia de pago 7764512', ['pago']],
  ['¿Cuándo se ve reflejado el pago?', ['pago']],
  // actualizacion_datos: a new number or e-mail is a change of data; an address or a copy of
  // the cédula alone is not.
  ['Quiero actualizar mi dirección de correspondencia', ['actualizacion_datos']],
  ['Necesito cambiar mi número de celular', ['actualizacion_datos']],
  ['Buenas, cambié de correo y quiero actualizarlo', ['actualizacion_datos']],
  ['hola como actualizo mis datos personales', ['actualizacion_datos']],
  ['La dirección es Calle 45 # 12-30, apto 502, Medellín', []],
  ['El nuevo número es 300 555 1234', ['actualizacion_datos']],
  ['El correo nuevo es ana.perez@correo.com', ['actualizacion_datos']],
  ['Ya les envié la copia de la cédula', []],
  // estado_solicitud: a radicado number is a filed request being followed up.
  ['¿En qué estado está mi solicitud 2025-118734?', ['estado_solicitud']],
  ['Radiqué una petición hace 15 días y no me han respondido', ['estado_solicitud']],
  ['Quisiera saber cómo va mi trámite', ['estado_solicitud']],
  ['buenas, me dijeron que en 5 días y ya van 10 🙄', []],
  ['El radicado es 2025-55102', ['estado_solicitud']],
  ['¿Me pueden dar una fecha?', []],
  ['Necesito una respuesta urgente por favor', []],
  ['¿Con quién más puedo hablar?', []],
  // cancelacion
  ['Quiero cancelar el servicio', ['cancelacion']],
  ['Necesito dar de baja mi suscripción', ['cancelacion']],
  ['Cómo cancelo el débito automático?', ['cancelacion']],
  ['Deseo cancelar mi contrato, por favor', ['cancelacion']],
  ['No me interesa ningún descuento, gracias', []],
  ['El motivo es que me voy a vivir a otra ciudad', []],
  ['¿Qué pasa con lo de este mes?', []],
  ['Confirmo, quiero cancelar', ['cancelacion']],
  // queja: outrage, a formal complaint, a supervisor asked for; waiting alone is not one.
  ['Estoy muy molesto, es la tercera vez que pongo un reclamo 😡', ['queja']],
  ['Pésimo servicio, nadie me da solución', ['queja']],
  ['Quiero poner una queja formal', ['queja']],
  ['el asesor de ayer me trató mal y me colgó!!!', ['queja']],
  ['Llevo una semana esperando una solución', []],
  ['Esto es inaceptable', ['queja']],
  ['Voy a poner la queja en la Superintendencia', ['queja']],
  ['Necesito hablar con un supervisor', ['queja']],
  // cita
  ['Quisiera agendar una cita para el jueves', ['cita']],
  ['Necesito reprogramar mi cita 📅', ['cita']],
  ['¿Tienen citas disponibles esta semana?', ['cita']],
  ['hola, quiero una cita presencial en la sede norte', ['cita']],
  ['Prefiero en la mañana', []],
  ['El jueves a las 10:00 a. m. me sirve', []],
  ['¿Qué documentos debo llevar?', []],
  ['¿Es en la sede de la Calle 80?', []],
  // Lines of any chat: identity answers, closings and repeated greetings name nothing.
  ['Claro, es 1.020.304.050', []],
  ['52874119', []],
  ['C.C. 43.512.908', []],
  ['sí, 1036654321', []],
  ['Es la 71.384.220', []],
  ['Muchas gracias 🙏', []],
  ['No, eso es todo, gracias', []],
  ['Ok gracias', []],
  ['gracias, muy amable 👍', []],
  ['Bueno, espero que ahora sí me solucionen', []],
  ['Hola', []],
  ['hola?', []],
  ['??', []],
  ['Hola buenas tardes', []],
  ['Alguien me atiende?', []],
  // The bot menu's options: a digit says nothing without the menu (a bot line) before it.
  ...['1', '2', '3', '4', '5', '6', '7'].map((digit) => [digit, []] as const),
]

const byText: ReadonlyMap<string, readonly Tramite[]> = new Map(labelled)

/** Every customer text the labels know, with what it names (for the catalog's cross-check). */
export const labelledCustomerLines: ReadonlyMap<string, readonly Tramite[]> = byText

/**
 * The trámites a customer text names, by the hand labels: `[]` for an image or a line naming
 * nothing. Throws for a text the catalog cannot write (a catalog line added without its label).
 */
export function tramitesNamedBy(text: string, image = false): readonly Tramite[] {
  if (image) return []
  const named = byText.get(text)
  if (named === undefined) {
    throw new Error(
      `tramite-intent: no label for the customer line ${JSON.stringify(text.slice(0, 80))}`,
    )
  }
  return named
}

/** One trámite a chat's customer names. */
export interface IntendedTramite {
  tramite: Tramite
  /** Its id in the shipped rules (services/tramite-classifier/rules/tramites.es.json). */
  rule_id: string
  /** The conversation indexes (0-based, whole chat) of the customer messages that name it. */
  messages: number[]
}

/** Why a chat's customer names no trámite at all. */
export type UnnamedReason =
  /** The request is one of the catalog's vague ones and no later line names the trámite. */
  | 'vague-request'
  /** The request was written over by a repeated greeting and no later line names the trámite. */
  | 'request-repeated-over'

/** What a chat's customer names, in a chat's expectation. */
export interface TramiteIntent {
  /** Primary first (the chat's own trámite when named), then any other in the order first named. */
  intended_tramites: IntendedTramite[]
  /** With `intended_tramites` empty, why; else null. */
  unnamed: UnnamedReason | null
}

/** A line of a chat as written (in conversation order, the duplicate included). */
export interface WrittenLine {
  role: string
  text: string
  image: boolean
}

/**
 * What the customer lines of a whole chat about `topic` name, from the hand labels: the
 * simulator's own choice of lines, never their rendering nor the product's rules.
 */
export function tramiteIntentOf(topic: Tramite, lines: readonly WrittenLine[]): TramiteIntent {
  const found = new Map<Tramite, number[]>()
  lines.forEach((line, index) => {
    if (line.role !== 'customer') return
    for (const tramite of tramitesNamedBy(line.text, line.image)) {
      found.set(tramite, [...(found.get(tramite) ?? []), index])
    }
  })
  const first = (tramite: Tramite): number => found.get(tramite)?.[0] ?? 0
  const order = [...found.keys()].sort((a, b) =>
    a === topic ? -1 : b === topic ? 1 : first(a) - first(b),
  )
  const intended = order.map((tramite) => ({
    tramite,
    rule_id: shippedRuleIds[tramite],
    messages: found.get(tramite) ?? [],
  }))
  if (intended.length > 0) return { intended_tramites: intended, unnamed: null }
  const openings: readonly string[] = scripts[topic].opening
  const requested = lines.some((line) => line.role === 'customer' && openings.includes(line.text))
  return {
    intended_tramites: [],
    unnamed: requested ? 'vague-request' : 'request-repeated-over',
  }
}
