import { describe, expect, it } from 'vitest'
import { maxTextLength, scoreText, sentimentOf } from './score.js'

const weights = (text: string): [string, number][] =>
  scoreText(text).matches.map((m) => [m.term, m.weight])

describe('scoreText', () => {
  it('scores an empty text (and one without any sentiment word) neutral with score 0', () => {
    expect(scoreText('')).toEqual({ sentiment: 'neutral', score: 0, matches: [] })
    expect(scoreText('   ...  ')).toEqual({ sentiment: 'neutral', score: 0, matches: [] })
    expect(scoreText('mi número de cédula es 1020304050')).toEqual({
      sentiment: 'neutral',
      score: 0,
      matches: [],
    })
  })

  it('squashes the sum of the weights into [−1, 1] and reads the sentiment off fixed thresholds', () => {
    // gracias = 1: 1 / √(1 + 8)
    expect(scoreText('gracias').score).toBeCloseTo(1 / 3, 10)
    expect(scoreText('gracias').sentiment).toBe('positive')
    // excelente = 3: 3 / √17
    expect(scoreText('excelente').score).toBeCloseTo(3 / Math.sqrt(17), 10)
    expect(scoreText('excelente').sentiment).toBe('very_positive')
    expect(scoreText('malo').sentiment).toBe('negative')
    expect(scoreText('pésimo').sentiment).toBe('very_negative')
    const many = scoreText('😡 '.repeat(200))
    expect(many.score).toBeGreaterThan(-1)
    expect(many.score).toBeLessThan(-0.999)
  })

  it('maps scores to the five values at 0.2 and 0.72', () => {
    expect([-0.72, -0.719, -0.2, -0.199, 0, 0.199, 0.2, 0.719, 0.72].map(sentimentOf)).toEqual([
      'very_negative',
      'negative',
      'negative',
      'neutral',
      'neutral',
      'neutral',
      'positive',
      'positive',
      'very_positive',
    ])
  })

  it('folds accents and case in the text: PÉSIMO, Pésimo and pesimo are the same term', () => {
    const folded = weights('pesimo')
    expect(folded).toEqual([['pésim*', -3]])
    expect(weights('Pésimo')).toEqual(folded)
    expect(weights('PÉSIMA ATENCIÓN')).toEqual([['pésim*', -3.9]]) // ALL CAPS: ×1.3
    expect(weights('Chévere')).toEqual(weights('CHEVERE').map(([t, w]) => [t, w / 1.3]))
    // A decomposed accent (e + U+0301) is folded too.
    expect(weights('pe\u0301simo')).toEqual(folded)
  })

  it('matches prefix entries on word families', () => {
    expect(weights('pésimos')).toEqual([['pésim*', -3]])
    expect(weights('malísimo')).toEqual([['malísim*', -3]])
    expect(weights('excelentísimo servicio')).toEqual([['excelent*', 3]])
  })

  it('gives the original UTF-16 offsets of each match, accents and emoji included', () => {
    const text = '¡¡PÉSIMO!! 😡 y la señorita tan amable :)'
    const { matches } = scoreText(text)
    expect(matches.map((m) => text.slice(m.start, m.end))).toEqual(['PÉSIMO', '😡', 'amable', ':)'])
    expect(matches.map((m) => [m.start, m.end])).toEqual([
      [2, 8],
      [11, 13],
      [32, 38],
      [39, 41],
    ])
  })

  it('counts every emoji and emoticon, skin tones and gender signs aside', () => {
    expect(weights('😡😡😡')).toEqual([
      ['😡', -2.5],
      ['😡', -2.5],
      ['😡', -2.5],
    ])
    expect(weights('👍🏽 🤦‍♀️')).toEqual([
      ['👍', 1.5],
      ['🤦', -1.5],
    ])
    expect(weights('gracias ❤️')).toEqual([
      ['gracias', 1],
      ['❤', 2.5],
    ])
    expect(weights('no sirve :( :(((')).toEqual([
      ['sirve', -2],
      [':(', -1.5],
      [':(', -1.5],
    ])
    expect(weights('xD')).toEqual([['xd', 1]])
  })

  it('does not take a time or a URL for an emoticon', () => {
    expect(scoreText('llamo a las 10:30').matches).toEqual([])
    expect(scoreText('entre a https://pagos.example.co/pse').matches).toEqual([])
  })

  describe('negation', () => {
    it('makes "no estoy contento" negative', () => {
      const r = scoreText('no estoy contento')
      expect(r.sentiment).toBe('negative')
      expect(r.matches).toEqual([
        {
          term: 'contento',
          start: 9,
          end: 17,
          weight: -1.6,
          base: 2,
          modifiers: ['negated by "no"'],
        },
      ])
    })

    it('ends at a comma: what follows it is not negated', () => {
      expect(weights('no, estoy contento')).toEqual([['contento', 2]])
      expect(scoreText('no, estoy contento').sentiment).toBe('positive')
      expect(weights('no funciona, muy amables igual')).toEqual([
        ['funciona', -2],
        ['amables', 2.1],
      ])
    })

    it('ends at "pero", which also shifts the weight to what follows', () => {
      expect(weights('no me gusta pero es útil')).toEqual([
        ['me gusta', -0.6], // -1.2 × 0.5 before "pero"
        ['útil', 2.25], // 1.5 × 1.5 after "pero"
      ])
    })

    it('reaches every sentiment word to the end of its clause, not only the next word', () => {
      expect(weights('nunca me dieron una solución ni me ayudaron. excelente')).toEqual([
        ['solución', -2],
        ['ayudaron', -2],
        ['excelent*', 3],
      ])
    })

    it('damps a negated negative word instead of flipping it fully', () => {
      expect(weights('no es malo')).toEqual([['malo', 1]])
      expect(scoreText('no es malo').sentiment).toBe('positive')
    })

    it('leaves "no" alone, as an answer, neutral', () => {
      expect(scoreText('no')).toEqual({ sentiment: 'neutral', score: 0, matches: [] })
      expect(scoreText('No.').score).toBe(0)
      expect(scoreText('no señor').score).toBe(0)
    })

    it('gives words that only matter negated a weight only then ("no contestan")', () => {
      expect(scoreText('contestan rápido').matches.map((m) => m.term)).toEqual(['rápido'])
      expect(weights('nadie me contesta')).toEqual([['contesta', -1.5]])
      expect(weights('no funciona')).toEqual([['funciona', -2]])
      expect(weights('ya funciona')).toEqual([['funciona', 1]])
    })
  })

  describe('intensifiers and diminishers', () => {
    it('scores "muy bueno" above "bueno" and "bueno" above "un poco bueno"', () => {
      const good = scoreText('el servicio es bueno').score
      const veryGood = scoreText('el servicio es muy bueno').score
      const littleGood = scoreText('el servicio es un poco bueno').score
      expect(veryGood).toBeGreaterThan(good)
      expect(good).toBeGreaterThan(littleGood)
      expect(weights('el servicio es muy bueno')).toEqual([['bueno', 2.1]])
      expect(weights('muy pero muy malo')).toEqual([['malo', -4]])
    })

    it('reads repeated letters, ALL CAPS and "!!" as emphasis', () => {
      expect(weights('pesimooo')).toEqual([['pésim*', -3.9]])
      expect(weights('graciasss')).toEqual([['gracias', 1.3]])
      expect(weights('MALO')).toEqual([['malo', -2.6]])
      expect(weights('malo!!!')).toEqual([['malo', -2.6]])
      expect(weights('malo!')).toEqual([['malo', -2]])
    })

    it('lets a trailing intensifier modify what came before it, and "¡súper!" stand alone', () => {
      expect(weights('me gusta mucho')).toEqual([['me gusta', 1.95]])
      expect(weights('¡súper!')).toEqual([['súper', 1.5]])
    })

    it('does not intensify a negated word', () => {
      expect(weights('no es muy bueno')).toEqual([['bueno', -1.2]])
    })
  })

  describe('contact-center exceptions', () => {
    it.each([
      'necesito el paz y salvo',
      'Buenas tardes',
      'buenos días',
      'quedo atento',
      'espero su respuesta',
      'espero',
      'quiero cancelar la factura',
      'por favor',
      'qué pena con usted',
      'Bueno.',
    ])('"%s" is neutral with score 0', (text) => {
      const r = scoreText(text)
      expect(r.score).toBe(0)
      expect(r.sentiment).toBe('neutral')
    })

    it('shows the exception it applied as a match of weight 0', () => {
      expect(scoreText('certificado de PAZ Y SALVO').matches).toEqual([
        {
          term: 'paz y salvo',
          start: 15,
          end: 26,
          weight: 0,
          base: 0,
          modifiers: ['neutral in a contact center'],
        },
      ])
    })

    it('scores "está bien" milder than "bien", and "gracias" alone mildly positive', () => {
      expect(weights('está bien')).toEqual([['está bien', 0.5]])
      expect(scoreText('está bien').sentiment).toBe('neutral')
      expect(weights('bien')).toEqual([['bien', 1]])
      expect(scoreText('gracias').sentiment).toBe('positive')
    })

    it('reads "sin problema" as positive and "gracias por nada" as negative', () => {
      expect(weights('sin problema')).toEqual([['sin problema', 1]])
      expect(scoreText('tengo un problema').sentiment).toBe('negative')
      expect(weights('gracias por nada')).toEqual([['gracias por nada', -2]])
      expect(scoreText('gracias por nada').sentiment).toBe('negative')
    })

    it('damps positive words in a question', () => {
      expect(weights('¿es bueno el plan?')).toEqual([['bueno', 0.375]])
      expect(scoreText('¿es bueno el plan?').sentiment).toBe('neutral')
    })
  })

  it('is the same whatever was scored before (buffers reused across calls)', () => {
    // 1,800 units: within maxTextLength, many more words than a chat line.
    const long = 'muy mal servicio, '.repeat(100)
    const before = scoreText('no estoy contento')
    scoreText(long)
    expect(scoreText('no estoy contento')).toEqual(before)
    expect(scoreText(long).matches).toHaveLength(100)
  })
})

describe('a very long text', () => {
  it('is read only up to maxTextLength units, so an inlined image cannot stall a consumer', () => {
    const image = `data:image/png;base64,${'QUJD'.repeat(250_000)}`
    const scored = scoreText(`pésimo servicio ${image}`)
    expect(scored.sentiment).toMatch(/negative/u)
    expect(scored.matches.map((m) => m.term)).toEqual(['pésim*'])
    // A sentiment word past the limit is not read.
    const late = scoreText(`${'a '.repeat(maxTextLength / 2)}pésimo`)
    expect(late).toEqual({ sentiment: 'neutral', score: 0, matches: [] })
  })
})
