/*
 * The words the simulator's conversations are made of: Spanish contact-center chats about the
 * trámites a customer asks for. Names carry accents, odd casing and double spaces on purpose.
 */

/** The kinds of request a conversation is about. */
export const tramites = [
  'certificado',
  'pago',
  'actualizacion_datos',
  'estado_solicitud',
  'cancelacion',
  'queja',
  'cita',
] as const

/** One kind of request. */
export type Tramite = (typeof tramites)[number]

/**
 * Each trámite's id in the product's shipped trámite rules
 * (services/tramite-classifier/rules/tramites.es.json), for tests that compare the classifier
 * with what a chat was written about.
 */
export const shippedRuleIds: Readonly<Record<Tramite, string>> = {
  certificado: 'certificado',
  pago: 'pago-factura',
  actualizacion_datos: 'actualizacion-datos',
  estado_solicitud: 'estado-solicitud',
  cancelacion: 'cancelacion',
  queja: 'queja-reclamo',
  cita: 'cita',
}

/** The five feelings Wolkvox's sentiment add-on reports. */
export const feelings = [
  'very negative',
  'negative',
  'neutral',
  'positive',
  'very positive',
] as const

/** Channels as real data spells them: lower case mostly, some capitalised, some undocumented. */
export const channels: readonly (readonly [string, number])[] = [
  ['whatsapp', 40],
  ['web', 14],
  ['facebook', 9],
  ['instagram', 7],
  ['WhatsApp', 6],
  ['telegram', 6],
  ['whatsapp official direct', 6],
  ['facebook_page', 5],
  ['Web', 4],
  ['Instagram', 3],
]

/** The three spellings of the bot in `to_name`/`from_name`. */
export const botSpellings = ['chat bot', 'chat_bot', 'chat-bot'] as const

export const agents = [
  'Laura Gómez',
  'Andrés  Felipe Rojas',
  'MARÍA JOSÉ PEÑA',
  'carlos ruiz',
  'Juliana Martínez',
  'Óscar Iván Muñoz',
  'Valentina  Castaño',
  'Sebastián López',
  'Natalia Ospina',
  'Jhon Jairo Cardona',
  'Daniela Zuluaga',
  'Camilo  Andrés Ríos',
] as const

export const firstNames = [
  'Ana',
  'José',
  'María Fernanda',
  'Luis',
  'Sofía',
  'Jorge Iván',
  'Paola',
  'Nicolás',
  'Gloria Inés',
  'Ángela',
  'Julián',
  'Ximena',
  'Héctor',
  'Luz Dary',
  'Mauricio',
  'Catalina',
  'Ñeco',
  'Yésica',
] as const

export const lastNames = [
  'Pérez',
  'García',
  'Rodríguez',
  'López',
  'Hernández',
  'Muñoz',
  'Castaño',
  'Álvarez',
  'Quintero',
  'Peña',
  'Gutiérrez',
  'Ocampo',
  'Vélez',
  'Mejía',
] as const

/** Lines per trámite: what the customer opens with, asks next, and what the agent answers. */
export interface Script {
  opening: readonly string[]
  followUp: readonly string[]
  answers: readonly string[]
  /** The usual feeling of the customer's lines; complaints lean negative. */
  mood: readonly (readonly [(typeof feelings)[number], number])[]
}

const link = (href: string, label: string): string =>
  `<a href="${href}" target="_blank">${label}</a>`

export const scripts: Readonly<Record<Tramite, Script>> = {
  certificado: {
    opening: [
      'Buenos días, necesito un certificado de afiliación',
      'Hola, ¿cómo puedo descargar el certificado laboral?',
      'Necesito el certificado de retención en la fuente del año pasado 📄',
      'buenas tardes quisiera pedir una constancia de afiliación',
    ],
    followUp: [
      '¿Cuánto se demora la expedición?',
      'Lo necesito para mañana, es para un trámite en el banco',
      'Mi número de documento es 1.020.304.050',
      '¿Me lo pueden enviar al correo?',
      '¿Tiene algún costo?',
    ],
    answers: [
      'Con gusto. El certificado se genera en un máximo de 24 horas hábiles y llega a su correo registrado.',
      `Puede descargarlo aquí: ${link('https://portal.example.co/certificados/descarga?id=88231', 'certificado.pdf')}`,
      'Ya quedó radicada la solicitud con el número CERT-2025-118734 ✅',
      'Se lo enviamos en formato PDF firmado digitalmente.',
      'El certificado no tiene costo.',
    ],
    mood: [
      ['neutral', 6],
      ['positive', 3],
      ['negative', 1],
    ],
  },
  pago: {
    opening: [
      'No me ha llegado la factura de este mes',
      'Ya pagué pero en el sistema me aparece el recibo sin pagar 😤',
      'Hola, quiero pagar mi factura por PSE',
      '¿Me pueden enviar el duplicado de la factura?',
      'me llegó la factura con un valor que no entiendo!!',
    ],
    followUp: [
      'El pago lo hice el 5 de febrero por $185.900',
      'Les envío el comprobante',
      '¿Puedo pagar con tarjeta de crédito? 💳',
      'Referencia de pago 7764512',
      '¿Cuándo se ve reflejado el pago?',
    ],
    answers: [
      `Aquí tiene el duplicado: ${link('https://pagos.example.co/factura/FAC-2025-004512', 'Descargar factura')}`,
      'El pago se refleja entre 24 y 48 horas hábiles después de realizado.',
      'Verifiqué y su pago ya aparece aplicado. Disculpe las molestias 🙏',
      'Escalamos el caso al área de facturación con el radicado PQR-77812.',
      `Puede pagar en línea en ${link('https://pagos.example.co/pse', 'pagos.example.co/pse')}`,
    ],
    mood: [
      ['negative', 4],
      ['neutral', 4],
      ['very negative', 1],
      ['positive', 1],
    ],
  },
  actualizacion_datos: {
    opening: [
      'Quiero actualizar mi dirección de correspondencia',
      'Necesito cambiar mi número de celular',
      'Buenas, cambié de correo y quiero actualizarlo',
      'hola como actualizo mis datos personales',
    ],
    followUp: [
      'La dirección es Calle 45 # 12-30, apto 502, Medellín',
      'El nuevo número es 300 555 1234',
      'El correo nuevo es ana.perez@correo.com',
      'Ya les envié la copia de la cédula',
    ],
    answers: [
      'Listo, sus datos quedaron actualizados ✅',
      'Para su seguridad, le enviamos un código de verificación por SMS.',
      `Puede hacerlo también desde ${link('https://portal.example.co/mis-datos', 'Mis datos')}`,
      'Por favor adjunte una foto de un recibo con la dirección nueva.',
    ],
    mood: [
      ['neutral', 7],
      ['positive', 3],
    ],
  },
  estado_solicitud: {
    opening: [
      '¿En qué estado está mi solicitud 2025-118734?',
      'Radiqué una petición hace 15 días y no me han respondido',
      'Quisiera saber cómo va mi trámite',
      'buenas, me dijeron que en 5 días y ya van 10 🙄',
    ],
    followUp: [
      'El radicado es 2025-55102',
      '¿Me pueden dar una fecha?',
      'Necesito una respuesta urgente por favor',
      '¿Con quién más puedo hablar?',
    ],
    answers: [
      'Su solicitud se encuentra en revisión por el área encargada.',
      'Según el sistema, la respuesta será enviada a su correo en los próximos 3 días hábiles.',
      'Le comparto el estado: APROBADA ✅',
      'Entiendo su molestia; dejé una alerta de prioridad en su caso.',
    ],
    mood: [
      ['neutral', 4],
      ['negative', 4],
      ['very negative', 1],
      ['positive', 1],
    ],
  },
  cancelacion: {
    opening: [
      'Quiero cancelar el servicio',
      'Necesito dar de baja mi suscripción',
      'Cómo cancelo el débito automático?',
      'Deseo cancelar mi contrato, por favor',
    ],
    followUp: [
      'No me interesa ningún descuento, gracias',
      'El motivo es que me voy a vivir a otra ciudad',
      '¿Qué pasa con lo de este mes?',
      'Confirmo, quiero cancelar',
    ],
    answers: [
      'Lamentamos que se vaya. Su solicitud de cancelación quedó con el número CAN-33019.',
      'Antes de cancelar, le podemos ofrecer un descuento del 20% por tres meses 🎁',
      'La cancelación se hace efectiva al final del ciclo de facturación.',
      'Listo, el débito automático quedó desactivado.',
    ],
    mood: [
      ['neutral', 4],
      ['negative', 3],
      ['positive', 1],
    ],
  },
  queja: {
    opening: [
      'Estoy muy molesto, es la tercera vez que pongo un reclamo 😡',
      'Pésimo servicio, nadie me da solución',
      'Quiero poner una queja formal',
      'el asesor de ayer me trató mal y me colgó!!!',
    ],
    followUp: [
      'Llevo una semana esperando una solución',
      'Esto es inaceptable',
      'Voy a poner la queja en la Superintendencia',
      'Necesito hablar con un supervisor',
    ],
    answers: [
      'Ofrecemos disculpas por los inconvenientes. Radicamos su queja con el número QJ-90017.',
      'Entiendo su situación; escalamos el caso con prioridad alta.',
      'Un supervisor se comunicará con usted en las próximas 24 horas.',
      'Lamentamos mucho lo sucedido 🙏',
    ],
    mood: [
      ['very negative', 4],
      ['negative', 5],
      ['neutral', 1],
    ],
  },
  cita: {
    opening: [
      'Quisiera agendar una cita para el jueves',
      'Necesito reprogramar mi cita 📅',
      '¿Tienen citas disponibles esta semana?',
      'hola, quiero una cita presencial en la sede norte',
    ],
    followUp: [
      'Prefiero en la mañana',
      'El jueves a las 10:00 a. m. me sirve',
      '¿Qué documentos debo llevar?',
      '¿Es en la sede de la Calle 80?',
    ],
    answers: [
      'Su cita quedó agendada para el jueves a las 10:00 a. m. en la sede norte ✅',
      'Tenemos disponibilidad el martes a las 2:30 p. m. o el jueves a las 10:00 a. m.',
      'Le recomendamos llegar 15 minutos antes de la hora.',
      `Puede ver y reprogramar sus citas en ${link('https://citas.example.co/mis-citas', 'Mis citas')}`,
    ],
    mood: [
      ['neutral', 5],
      ['positive', 4],
      ['negative', 1],
    ],
  },
}

export const botGreetings = [
  '¡Hola! 👋 Soy el asistente virtual. Escribe el número de la opción: 1. Certificados 2. Pagos y facturas 3. Actualizar datos 4. Estado de solicitud 5. Cancelaciones 6. Quejas 7. Citas',
  'Bienvenido(a) a nuestra línea de atención. ¿En qué te podemos ayudar hoy?',
]
export const botTransfers = [
  'Te estoy transfiriendo con un asesor, por favor espera un momento ⏳',
  'En breve uno de nuestros asesores te atenderá.',
]
export const customerRepeats = ['Hola', 'hola?', '??', 'Hola buenas tardes', 'Alguien me atiende?']
export const agentGreetings = [
  'Buenas tardes, mi nombre es {agent}, ¿en qué le puedo ayudar?',
  'Hola {customer}, con gusto le ayudo. Mi nombre es {agent}.',
  'Buenos días 😊 le saluda {agent}',
]
/** The agent asks for or confirms the customer's identity (protocol check `identificacion`). */
export const agentIdentityAsks = [
  '¿Me confirma su número de documento, por favor?',
  'Para continuar, ¿me regala su número de cédula?',
  'Para validar su identidad, ¿me indica su número de identificación?',
]
/** What the customer answers to an identity question. */
export const customerIdentityReplies = [
  'Claro, es 1.020.304.050',
  '52874119',
  'C.C. 43.512.908',
  'sí, 1036654321',
  'Es la 71.384.220',
]
/** The agent offers further help before closing (protocol check `ofrece-ayuda`). */
export const agentOffers = [
  '¿Hay algo más en lo que le pueda ayudar?',
  '¿Tiene otra inquietud?',
  '¿Le puedo colaborar en algo más?',
]
/** The agent's farewell (protocol check `despedida`). */
export const agentFarewells = [
  'Gracias por comunicarse con nosotros, ¡feliz día! 😊',
  'Fue un gusto atenderle. Recuerde calificar nuestra atención ⭐',
  'Que tenga un buen día, hasta pronto 👋',
]
/** What an agent should never write (protocol check `no-expresiones-prohibidas`). */
export const agentForbidden = [
  'Eso no es conmigo, tiene que llamar a otra área.',
  'No sea impaciente, ya le respondo.',
  'Qué pereza, el sistema está lento otra vez.',
]
export const customerClosings = [
  'Muchas gracias 🙏',
  'No, eso es todo, gracias',
  'Ok gracias',
  'gracias, muy amable 👍',
  'Bueno, espero que ahora sí me solucionen',
]
