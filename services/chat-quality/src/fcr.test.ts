import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  encodeFcrEntry,
  fcrFigures,
  fcrOutcomes,
  identityKeyOf,
  identityOf,
  parseFcrEntry,
  type FcrConversation,
} from './fcr.js'

const H = 3_600_000
const D = 24 * H
const WINDOW = 7 * D

const conv = (
  connId: string,
  identity: string | undefined,
  tramite: string | null,
  startH: number,
  lengthH = 1,
): FcrConversation => ({
  connId,
  identity,
  tramite,
  startedAtMs: startH * H,
  endedAtMs: (startH + lengthH) * H,
})

const outcomeOf = (outcomes: ReturnType<typeof fcrOutcomes>) =>
  Object.fromEntries([...outcomes].map(([id, o]) => [id, o.outcome]))

describe('first-contact resolution', () => {
  it('marks a repeat about the same trámite within the window, and nothing else', () => {
    const now = 30 * D
    const outcomes = fcrOutcomes(
      [
        conv('a1', 'ana', 'certificado', 0),
        conv('a2', 'ana', 'certificado', 24), // a day after a1: a1 repeated
        conv('a3', 'ana', 'pqrs', 30), // another trámite: no repeat of a2
        conv('b1', 'bea', 'certificado', 0),
        conv('b2', 'bea', 'certificado', 8 * 24), // eight days later: outside b1's window
        conv('c1', undefined, 'certificado', 0),
        conv('d1', 'dan', 'certificado', 29 * 24), // its window has not passed
      ],
      WINDOW,
      now,
    )
    expect(outcomeOf(outcomes)).toEqual({
      a1: 'repeated',
      a2: 'resolved',
      a3: 'resolved',
      b1: 'resolved',
      b2: 'resolved',
      c1: 'no_identity',
      d1: 'pending',
    })
    expect(outcomes.get('a1')!.repeatedBy).toBe('a2')
    expect(fcrFigures(outcomes.values())).toEqual({
      conversations: 7,
      resolved: 4,
      repeated: 1,
      pending: 1,
      no_identity: 1,
      awaiting_tramite: 0,
      rate: 0.8,
    })
  })

  it('does not count an overlapping conversation as a repeat, and moves with a late one', () => {
    const early = [conv('x1', 'xi', 'pqrs', 0, 5), conv('x2', 'xi', 'pqrs', 2)]
    expect(outcomeOf(fcrOutcomes(early, WINDOW, 30 * D))).toEqual({
      x1: 'resolved',
      x2: 'resolved',
    })
    // A backfill brings a contact two days later: x1 and x2 were not resolved after all.
    const late = [...early, conv('x3', 'xi', 'pqrs', 48)]
    expect(outcomeOf(fcrOutcomes(late, WINDOW, 30 * D))).toEqual({
      x1: 'repeated',
      x2: 'repeated',
      x3: 'resolved',
    })
  })

  it('keeps a conversation pending while its or a later contact’s trámite is not known', () => {
    const now = 30 * D
    const known = [conv('k1', 'kim', 'pqrs', 0), conv('k2', 'kim', 'certificado', 24)]
    // k3 (a day after k1) has no classification yet: k1 cannot be decided, k3 waits; k2 was
    // repeated by nothing that is known, and k3 is within its window too.
    const outcomes = fcrOutcomes(
      [...known, { ...conv('k3', 'kim', null, 30), tramite: undefined }],
      WINDOW,
      now,
    )
    expect([...outcomes]).toEqual([
      ['k3', { outcome: 'pending', awaitingTramite: true }],
      ['k1', { outcome: 'pending', awaitingTramite: true }],
      ['k2', { outcome: 'pending', awaitingTramite: true }],
    ])
    expect(fcrFigures(outcomes.values())).toMatchObject({ pending: 3, awaiting_tramite: 3 })
    // Once classified as pqrs: k1 was repeated by it, k2 resolved.
    const classified = fcrOutcomes([...known, conv('k3', 'kim', 'pqrs', 30)], WINDOW, now)
    expect(outcomeOf(classified)).toEqual({ k1: 'repeated', k2: 'resolved', k3: 'resolved' })
  })

  it('stores an entry and reads it back, and never keeps the identity itself', () => {
    const key = identityKeyOf(' C-1 ', null)!
    expect(key).toMatch(/^[0-9a-f]{32}$/u)
    expect(key).toBe(identityKeyOf('C-1', '300'))
    expect(identityKeyOf('', '  ')).toBeUndefined()
    const entry = {
      identity: key,
      startedAtMs: 5,
      endedAtMs: 9,
      agentKey: 'ana',
      channel: 'whatsapp',
    }
    expect(parseFcrEntry(encodeFcrEntry(entry))).toEqual(entry)
    expect(encodeFcrEntry(entry)).not.toContain('C-1')
    expect(parseFcrEntry(encodeFcrEntry({ ...entry, identity: undefined }))).toEqual({
      ...entry,
      identity: undefined,
    })
    expect(parseFcrEntry('[1,2]')).toBeUndefined()
    expect(parseFcrEntry('not json')).toBeUndefined()
  })

  it('reads customer_id, else customer_phone, blank as absent', () => {
    expect(identityOf('C-1', '300')).toBe('C-1')
    expect(identityOf('  ', '300')).toBe('300')
    expect(identityOf(null, null)).toBeUndefined()
  })

  const conversations = fc.uniqueArray(
    fc.record({
      connId: fc.string({ minLength: 1, maxLength: 4 }),
      identity: fc.option(fc.constantFrom('ana', 'bea', 'cid'), { nil: undefined }),
      tramite: fc.constantFrom('certificado', 'pqrs', null, undefined),
      startedAtMs: fc.integer({ min: 0, max: 20 * D }),
      lengthMs: fc.integer({ min: 0, max: D }),
    }),
    { selector: (c) => c.connId, maxLength: 25 },
  )
  const asConversations = (cs: { lengthMs: number; startedAtMs: number }[]) =>
    cs.map((c) => ({ ...c, endedAtMs: c.startedAtMs + c.lengthMs }) as unknown as FcrConversation)

  it('gives the same outcomes whatever order the conversations come in', () => {
    fc.assert(
      fc.property(conversations, fc.integer({ min: 0, max: 40 * D }), (cs, now) => {
        const list = asConversations(cs)
        expect(outcomeOf(fcrOutcomes([...list].reverse(), WINDOW, now))).toEqual(
          outcomeOf(fcrOutcomes(list, WINDOW, now)),
        )
      }),
      { numRuns: 500 },
    )
  })

  it('agrees with a brute-force reading of the definition', () => {
    fc.assert(
      fc.property(conversations, fc.integer({ min: 0, max: 40 * D }), (cs, now) => {
        const list = asConversations(cs)
        const outcomes = fcrOutcomes(list, WINDOW, now)
        for (const c of list) {
          const later = (o: FcrConversation) =>
            o.identity === c.identity &&
            o.startedAtMs > c.endedAtMs &&
            o.startedAtMs - c.endedAtMs <= WINDOW
          const expected =
            c.identity === undefined
              ? 'no_identity'
              : c.tramite === undefined
                ? 'pending'
                : list.some((o) => later(o) && o.tramite === c.tramite)
                  ? 'repeated'
                  : list.some((o) => later(o) && o.tramite === undefined)
                    ? 'pending'
                    : now > c.endedAtMs + WINDOW
                      ? 'resolved'
                      : 'pending'
          expect(outcomes.get(c.connId)!.outcome).toBe(expected)
        }
      }),
      { numRuns: 500 },
    )
  })
})
