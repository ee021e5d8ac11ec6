/*
 * How each agent of the catalog works: how long they take to answer a customer turn, and how often
 * they leave out a step of the service protocol. Fixed per agent (a table, not drawn), so tests can
 * expect, say, Carlos to miss a 60-second first-response target on almost every chat.
 */
import type { agents } from './catalog.js'

/** A range of whole seconds, both ends included. */
export type SecondsRange = readonly [min: number, max: number]

/** One agent's habits. Rates are probabilities per chat. */
export interface AgentProfile {
  agent: (typeof agents)[number]
  /** `fast`, `steady` or `slow`: a name for `replySec`. */
  speed: 'fast' | 'steady' | 'slow'
  /** The delay from a customer turn's last message to the agent's answer. */
  replySec: SecondsRange
  /** Leaves out the greeting line. */
  skipGreeting: number
  /** Leaves out asking for (or confirming) the customer's identity. */
  skipIdentity: number
  /** Leaves out offering further help before closing. */
  skipOffer: number
  /** Leaves out the farewell. */
  skipFarewell: number
  /** Answers one of the customer's questions with a forbidden expression. */
  forbidden: number
}

const FAST: SecondsRange = [5, 45]
const STEADY: SecondsRange = [20, 100]
const SLOW: SecondsRange = [70, 300]

const profile = (
  agent: (typeof agents)[number],
  speed: AgentProfile['speed'],
  [skipGreeting, skipIdentity, skipOffer, skipFarewell, forbidden]: readonly number[],
): AgentProfile => ({
  agent,
  speed,
  replySec: speed === 'fast' ? FAST : speed === 'steady' ? STEADY : SLOW,
  skipGreeting: skipGreeting ?? 0,
  skipIdentity: skipIdentity ?? 0,
  skipOffer: skipOffer ?? 0,
  skipFarewell: skipFarewell ?? 0,
  forbidden: forbidden ?? 0,
})

/** One profile per agent of `catalog.agents`, in the same order (README: Agent profiles). */
export const agentProfiles: readonly AgentProfile[] = [
  //                                    greeting identity offer farewell forbidden
  profile('Laura Gómez', 'fast', [0.02, 0.05, 0.05, 0.02, 0]),
  profile('Andrés  Felipe Rojas', 'slow', [0.1, 0.3, 0.2, 0.1, 0]),
  profile('MARÍA JOSÉ PEÑA', 'fast', [0.05, 0.1, 0.1, 0.05, 0]),
  profile('carlos ruiz', 'slow', [0.3, 0.5, 0.4, 0.35, 0.08]),
  profile('Juliana Martínez', 'fast', [0.02, 0.05, 0.1, 0.05, 0]),
  profile('Óscar Iván Muñoz', 'steady', [0.1, 0.2, 0.15, 0.1, 0]),
  profile('Valentina  Castaño', 'fast', [0.05, 0.15, 0.05, 0.05, 0]),
  profile('Sebastián López', 'slow', [0.15, 0.25, 0.3, 0.2, 0.04]),
  profile('Natalia Ospina', 'steady', [0.05, 0.1, 0.1, 0.1, 0]),
  profile('Jhon Jairo Cardona', 'steady', [0.2, 0.35, 0.25, 0.15, 0]),
  profile('Daniela Zuluaga', 'fast', [0, 0.05, 0.05, 0.02, 0]),
  profile('Camilo  Andrés Ríos', 'slow', [0.1, 0.2, 0.15, 0.25, 0]),
]

/** The other delays of a conversation (seconds), the same for every chat. */
export const delays = {
  /** The bot answers within this. */
  bot: [1, 3],
  /** The customer picks an option of the bot's menu. */
  customerToBot: [3, 25],
  /** The customer writes their request after the bot's transfer message. */
  customerAfterTransfer: [2, 8],
  /** The customer answers an agent. */
  customer: [5, 90],
  /** The customer adds a message to their own turn. */
  customerAgain: [5, 40],
  /** An agent's next message after their own (greeting, then identity; offer, then farewell). */
  agentAgain: [3, 15],
  /**
   * After the bot's transfer, the chat waits in the queue this long before the agent takes it,
   * and the agent then takes their own reply delay: handoff = queue + reply.
   */
  queue: [5, 40],
} as const satisfies Record<string, SecondsRange>
