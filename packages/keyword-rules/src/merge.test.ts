import { fileURLToPath } from 'node:url'
import { beforeEach, describe, expect, it } from 'vitest'
import { classifyConversation, classifyMessage } from './classify.js'
import { type CompiledRules, compileRules } from './compile.js'
import { type LabelledMessage, loadEvalSet } from './evaluate.js'
import { mergeMessageMatches } from './merge.js'
import { loadRules } from './rules.js'
import type { ConversationMessage } from './types.js'

// Compiled and read for each test, never at load time (why: classify.test.ts).
let shipped: CompiledRules
let lines: LabelledMessage[]
beforeEach(() => {
  shipped = compileRules(
    loadRules(
      fileURLToPath(
        new URL('../../../services/tramite-classifier/rules/tramites.es.json', import.meta.url),
      ),
    ),
  )
  lines = loadEvalSet(
    fileURLToPath(
      new URL('../../../services/tramite-classifier/eval/labelled.es.jsonl', import.meta.url),
    ),
  )
})
const info = (id: string) => {
  const rule = shipped.tramites.find((t) => t.id === id)!
  return { label: rule.label, priority: rule.priority }
}

const merged = (messages: readonly ConversationMessage[]) =>
  mergeMessageMatches(
    shipped.version,
    messages.map((m) => ({ ...classifyMessage(shipped, m.text, m.sender), position: m.position })),
    info,
  )

describe('mergeMessageMatches', () => {
  it('gives what classifyConversation gives, for every window of the evaluation set', () => {
    // Conversations of 1 to 7 consecutive lines, agent lines included, positions with gaps.
    let compared = 0
    for (let size = 1; size <= 7; size++) {
      for (let start = 0; start + size <= lines.length; start += size) {
        const conversation = lines.slice(start, start + size).map((line, i) => ({
          text: line.text,
          sender: line.sender,
          position: 2 * i + 1,
        }))
        expect(merged(conversation)).toEqual(classifyConversation(shipped, conversation))
        compared++
      }
    }
    expect(compared).toBeGreaterThan(700)
  })

  it('counts a term found in two messages once, and a satisfied allOf once', () => {
    const conversation: ConversationMessage[] = [
      { text: 'necesito un certificado', sender: 'customer', position: 0 },
      { text: 'el certificado laboral, y actualizar mi correo', sender: 'customer', position: 1 },
      { text: 'quiero cambiar el celular', sender: 'customer', position: 2 },
    ]
    const result = merged(conversation)
    expect(result.labels.map((l) => `${l.id} ${l.score}`)).toEqual([
      'actualizacion-datos 0.75',
      'certificado 0.5',
    ])
    expect(result.explanations.map((e) => `${e.messageIndex}:${e.matchedText}`)).toEqual(
      classifyConversation(shipped, conversation).explanations.map(
        (e) => `${e.messageIndex}:${e.matchedText}`,
      ),
    )
  })

  it('returns no label for no messages', () => {
    expect(mergeMessageMatches('v', [], info)).toEqual({
      rulesVersion: 'v',
      labels: [],
      primary: null,
      explanations: [],
      excluded: [],
    })
  })
})
