import { describe, expect, it } from 'vitest'
import { createDataStreamParser, DataStreamError, type DataStreamEnd } from './data-stream.js'

const BOM = '\ufeff'

/** Feeds `body` in chunks of `size` bytes (every byte on its own by default); rows and end. */
function feed(
  body: string | Uint8Array,
  size = 1,
  options?: { maxEnvelopeBytes?: number },
): { rows: unknown[]; end: DataStreamEnd } {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  const parser = createDataStreamParser(options)
  const rows: unknown[] = []
  for (let i = 0; i < bytes.length; i += size)
    rows.push(...parser.push(bytes.subarray(i, i + size)))
  return { rows, end: parser.end() }
}

/** Both ways: one byte at a time and all at once, which must agree. */
function parse(body: string | Uint8Array): { rows: unknown[]; end: DataStreamEnd } {
  const whole = feed(body, Number.MAX_SAFE_INTEGER)
  expect(feed(body, 1)).toStrictEqual(whole)
  return whole
}

/** The error `body` fails with, fed in chunks of `size` bytes, with the rows handed out before. */
function failure(
  body: string | Uint8Array,
  size = Number.MAX_SAFE_INTEGER,
  options?: { maxEnvelopeBytes?: number },
): { error: DataStreamError; rows: unknown[] } {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  const parser = createDataStreamParser(options)
  const rows: unknown[] = []
  try {
    for (let i = 0; i < bytes.length; i += size) {
      rows.push(...parser.push(bytes.subarray(i, i + size)))
    }
    parser.end()
  } catch (error) {
    if (error instanceof DataStreamError) return { error, rows }
    throw error
  }
  throw new Error('the body was accepted')
}

/** Where `body` fails, fed all at once and one byte at a time (which must agree). */
function failsAt(body: string | Uint8Array): number {
  const { error } = failure(body)
  expect(failure(body, 1).error.position).toBe(error.position)
  return error.position
}

const row = (n: number) => ({
  conn_id: `c${n}`,
  agent_name: 'Laura GÓMEZ',
  conversation: [
    { from: 'CUSTOMER', date: '2025-02-11 10:22:33', message: 'Hola, ¿cómo está? 😊' },
    { from: 'AGENT', message: 'Muy bien, gracias. "Señor" \\ fin', feeling: null },
  ],
})

describe('a well-formed body', () => {
  it('hands out every row as JSON.parse reads it, and the envelope with an empty data', () => {
    const body = JSON.stringify({ code: 200, msg: 'ok', data: [row(1), row(2), row(3)] })
    const { rows, end } = parse(body)
    expect(rows).toStrictEqual([row(1), row(2), row(3)])
    expect(end).toStrictEqual({
      envelope: { code: 200, msg: 'ok', data: [] },
      dataCount: 3,
      bytes: Buffer.byteLength(body),
    })
  })

  it('hands out rows as soon as their bytes arrive', () => {
    const body = Buffer.from(JSON.stringify({ data: [row(1), row(2)] }))
    const firstEnd = body.indexOf('},{"conn_id"') + 1
    const parser = createDataStreamParser()
    expect(parser.push(body.subarray(0, firstEnd - 1))).toStrictEqual([])
    // The row is complete only when the comma after it shows that its last `}` closed it.
    expect(parser.push(body.subarray(firstEnd - 1, firstEnd + 1))).toStrictEqual([row(1)])
    expect(parser.push(body.subarray(firstEnd + 1))).toStrictEqual([row(2)])
    expect(parser.end().dataCount).toBe(2)
  })

  it('accepts the keys in any order, keeping their order in the envelope', () => {
    const body = '{"data":[1,2],"msg":"ok","code":"200"}'
    const { rows, end } = parse(body)
    expect(rows).toStrictEqual([1, 2])
    expect(Object.keys(end.envelope as object)).toStrictEqual(['data', 'msg', 'code'])
    expect(end.envelope).toStrictEqual({ data: [], msg: 'ok', code: '200' })
  })

  it('skips a byte order mark at the start, even split across chunks, and counts its bytes', () => {
    const body = `${BOM}{"code":200,"data":[{"a":1}]}`
    const { rows, end } = parse(body)
    expect(rows).toStrictEqual([{ a: 1 }])
    expect(end).toStrictEqual({
      envelope: { code: 200, data: [] },
      dataCount: 1,
      bytes: Buffer.byteLength(body),
    })
    expect(feed(`${BOM}"just text"`).end.envelope).toBe('just text')
  })

  it('accepts whitespace wherever JSON does', () => {
    const body =
      ' \r\n\t{ "code" : 200 ,\n "data" : [ \n {"a" : [ 1 , 2 ] } ,\t"x" , 3 \n] , "msg":"" } \n'
    const { rows, end } = parse(body)
    expect(rows).toStrictEqual([{ a: [1, 2] }, 'x', 3])
    expect(end.envelope).toStrictEqual({ code: 200, data: [], msg: '' })
  })

  it('reads escapes and raw multi-byte characters split anywhere, one byte at a time', () => {
    const rows = [
      'é\u00e9 ñ 😊 𝄞',
      'quote " backslash \\ both \\" end\\',
      { 'k"\\': ['\u0000\u001f', '\u2028\u2029', '\ud83d\ude0a', '\ud800'] },
      '\\\\\\"',
    ]
    const body = `{"data":${JSON.stringify(rows)}}`
    // Also written with \u escapes for non-ASCII, as PHP's json_encode does.
    const ascii = body.replace(
      /[\u0080-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    expect(ascii).not.toBe(body)
    expect(parse(body).rows).toStrictEqual(rows)
    expect(parse(ascii).rows).toStrictEqual(rows)
    expect(parse(`{"data":["\\u00e9\\"", "\\\\", "\\/"]}`).rows).toStrictEqual(['é"', '\\', '/'])
  })

  it('decodes invalid UTF-8 as U+FFFD, as Buffer.toString does, even split across chunks', () => {
    const body = Buffer.concat([
      Buffer.from('{"msg":"a'),
      Buffer.from([0xc3]),
      Buffer.from('","data":["'),
      Buffer.from([0xff, 0xe2, 0x82]),
      Buffer.from('x",1]}'),
    ])
    const { rows, end } = parse(body)
    expect(rows).toStrictEqual(['\ufffd\ufffdx', 1])
    expect(end.envelope).toStrictEqual({ msg: 'a\ufffd', data: [] })
    expect(rows).toStrictEqual((JSON.parse(body.toString()) as { data: unknown[] }).data)
  })

  it('takes rows of any JSON type, nested arrays and objects included', () => {
    const rows = [null, true, false, 0, -1.5e-7, '', [], {}, [[[]]], { a: { b: [{}] } }]
    expect(parse(JSON.stringify({ data: rows })).rows).toStrictEqual(rows)
  })

  it('reads rows nested deeper than any stack, like JSON.parse', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`
    const { rows, end } = feed(`{"data":[${deep},{"a":${deep}},1]}`, 4096)
    expect(rows).toHaveLength(3)
    const depth = (value: unknown): number => {
      let levels = 0
      for (let v = value; Array.isArray(v); v = v[0] as unknown) levels++
      return levels
    }
    expect(depth(rows[0])).toBe(10_000)
    expect(depth((rows[1] as { a: unknown }).a)).toBe(10_000)
    expect(end.dataCount).toBe(3)
  })

  it('treats a "data" key inside a row, or inside another envelope value, as plain content', () => {
    const body = JSON.stringify({
      meta: { data: [9, 9], list: [{ data: 1 }] },
      data: [{ data: [1, 2], x: { data: null } }, { data: '[' }],
    })
    const { rows, end } = parse(body)
    expect(rows).toStrictEqual([{ data: [1, 2], x: { data: null } }, { data: '[' }])
    expect(end.envelope).toStrictEqual({ meta: { data: [9, 9], list: [{ data: 1 }] }, data: [] })
    expect(end.dataCount).toBe(2)
  })

  it('streams a top-level data key written with escapes, as JSON.parse reads it', () => {
    const { rows, end } = parse('{"d\\u0061ta":[1,2]}')
    expect(rows).toStrictEqual([1, 2])
    expect(end.envelope).toStrictEqual({ data: [] })
  })

  it('reports an empty data array as zero rows', () => {
    for (const body of ['{"code":404,"data":[]}', '{"code":404,"data":[ \n ]}']) {
      const { rows, end } = parse(body)
      expect(rows).toStrictEqual([])
      expect(end.envelope).toStrictEqual({ code: 404, data: [] })
      expect(end.dataCount).toBe(0)
    }
  })

  it('keeps a data that is not an array in the envelope, as its parsed value', () => {
    const cases: [string, unknown][] = [
      ['{"code":404,"data":null}', { code: 404, data: null }],
      ['{"code":404,"msg":"No records"}', { code: 404, msg: 'No records' }],
      ['{"data":{"items":[1,2],"data":[3]}}', { data: { items: [1, 2], data: [3] } }],
      ['{"data":"[1,2]","code":200}', { data: '[1,2]', code: 200 }],
      ['{"data":12.5}', { data: 12.5 }],
      ['{}', {}],
      [' { } ', {}],
    ]
    for (const [body, envelope] of cases) {
      const { rows, end } = parse(body)
      expect(rows).toStrictEqual([])
      expect(end).toStrictEqual({ envelope, dataCount: undefined, bytes: body.length })
    }
  })

  it('returns a top-level value that is not an object whole, as the envelope', () => {
    const cases: [string, unknown][] = [
      ['[{"data":[1]},2]', [{ data: [1] }, 2]],
      ['"PLEASE ENTER THE WOLKVOX-TOKEN"', 'PLEASE ENTER THE WOLKVOX-TOKEN'],
      ['null', null],
      [' 404 \n', 404],
      ['true', true],
    ]
    for (const [body, envelope] of cases) {
      const { rows, end } = parse(body)
      expect(rows).toStrictEqual([])
      expect(end).toStrictEqual({ envelope, dataCount: undefined, bytes: body.length })
    }
  })

  it('makes a top-level __proto__ key an own property, as JSON.parse does', () => {
    const body = '{"__proto__":{"polluted":true},"data":[{"__proto__":{"x":1}}]}'
    const { rows, end } = parse(body)
    expect(end.envelope).toStrictEqual(JSON.parse('{"__proto__":{"polluted":true},"data":[]}'))
    expect(Object.getPrototypeOf(end.envelope)).toBe(Object.prototype)
    expect((end.envelope as { polluted?: unknown }).polluted).toBeUndefined()
    expect(Object.hasOwn(rows[0] as object, '__proto__')).toBe(true)
  })

  it('accepts plain Uint8Arrays, and copies what it keeps, so the caller may reuse a buffer', () => {
    const body = new TextEncoder().encode(JSON.stringify({ msg: 'ñ', data: ['ábc', 'déf'] }))
    const parser = createDataStreamParser()
    const scratch = new Uint8Array(5)
    const rows: unknown[] = []
    for (let i = 0; i < body.length; i += scratch.length) {
      const part = body.subarray(i, i + scratch.length)
      scratch.set(part)
      rows.push(...parser.push(scratch.subarray(0, part.length)))
      scratch.fill(0x7b)
    }
    expect(rows).toStrictEqual(['ábc', 'déf'])
    expect(parser.end().envelope).toStrictEqual({ msg: 'ñ', data: [] })
  })

  it('ignores empty chunks', () => {
    const parser = createDataStreamParser()
    expect(parser.push(new Uint8Array(0))).toStrictEqual([])
    expect(parser.push(Buffer.from('{"data":[1'))).toStrictEqual([])
    expect(parser.push(new Uint8Array(0))).toStrictEqual([])
    expect(parser.push(Buffer.from(']}'))).toStrictEqual([1])
    expect(parser.end()).toStrictEqual({ envelope: { data: [] }, dataCount: 1, bytes: 12 })
  })
})

describe('a top-level object with data twice', () => {
  it('lets the last one win, as JSON.parse does, while no element was handed out', () => {
    const cases = [
      '{"data":null,"code":200,"data":[1,2]}',
      '{"data":[],"data":[1,2]}',
      '{"data":"x","data":[2,3]}',
    ]
    for (const body of cases) {
      const { rows, end } = parse(body)
      expect(rows).toStrictEqual((JSON.parse(body) as { data: unknown[] }).data)
      expect(end.dataCount).toBe(rows.length)
      expect(end.envelope).toStrictEqual({ ...(JSON.parse(body) as object), data: [] })
    }
    const { end } = parse('{"data":[],"msg":"ok","data":null}')
    expect(end).toStrictEqual({
      envelope: { data: null, msg: 'ok' },
      dataCount: undefined,
      bytes: 34,
    })
  })

  it('refuses a second data key after elements of the first were handed out', () => {
    const body = '{"data":[1,2],"msg":"ok","data":[3]}'
    const { error, rows } = failure(body, 1)
    expect(rows).toStrictEqual([1, 2])
    expect(error.position).toBe(body.lastIndexOf('"data"'))
    expect(error.message).toMatch(/second top-level data key/)
    expect(failsAt('{"data":[1],"data":null}')).toBe(12)
  })
})

describe('a malformed body', () => {
  const body = `${BOM}{"code":200,"msg":"ok","data":[{"m":"a\\"b\\\\","n":[1,{"o":"é😊"}]},{"x":2}]}  `

  it('fails at end() wherever it is cut short, at the number of bytes received', () => {
    const bytes = Buffer.from(body)
    const complete = bytes.length - 2 // the two spaces after the object are optional
    const rows = (JSON.parse(body.slice(1)) as { data: unknown[] }).data
    for (let cut = 0; cut < complete; cut++) {
      const parser = createDataStreamParser()
      const handedOut = parser.push(bytes.subarray(0, cut))
      // Whatever was handed out is a correct prefix of the rows.
      expect(handedOut).toStrictEqual(rows.slice(0, handedOut.length))
      expect(() => parser.end()).toThrow(DataStreamError)
      expect(failure(bytes.subarray(0, cut), 1).error.position).toBe(cut)
    }
    expect(failure(bytes.subarray(0, 0)).error.message).toMatch(/empty/)
    expect(failure(bytes.subarray(0, 60)).error.message).toMatch(/ended before/)
  })

  it('fails on an empty or blank body', () => {
    for (const empty of ['', ' \n\t', BOM, `${BOM} `]) {
      const { error } = failure(empty)
      expect(error.message).toMatch(/empty/)
      expect(error.position).toBe(Buffer.byteLength(empty))
    }
  })

  it('fails on anything but whitespace after the top-level value', () => {
    expect(failsAt('{"data":[1]} x')).toBe(13)
    expect(failsAt('{"data":[1]}}')).toBe(12)
    expect(failsAt('{"data":[1]}\n{"data":[2]}')).toBe(13)
    expect(failsAt('{}[]')).toBe(2)
    expect(failsAt('[1] 2')).toBe(4)
    expect(failsAt('"a" "b"')).toBe(4)
  })

  it('fails on an invalid row at or after its first byte, having handed out the rows before', () => {
    const invalid = '{"data":[{"a":1},{"a":tru},{"a":3}]}'
    const { error, rows } = failure(invalid, 1)
    expect(rows).toStrictEqual([{ a: 1 }])
    expect(error.message).toMatch(/^invalid JSON in data\[1\] /)
    expect(error.position).toBeGreaterThanOrEqual(invalid.indexOf('{"a":tru'))
    expect(error.position).toBeLessThanOrEqual(invalid.indexOf('tru}') + 3)
    // JSON.parse said where: the control character, counted in bytes after the "é".
    expect(failsAt('{"data":["é","é\t"]}')).toBe(17)
    // After invalid UTF-8 the byte JSON.parse points at is unknown: the row's first byte.
    expect(
      failsAt(
        Buffer.concat([Buffer.from('{"data":["é","'), Buffer.from([0xff]), Buffer.from('\t"]}')]),
      ),
    ).toBe(14)
  })

  it('fails on every other kind of invalid JSON', () => {
    const cases: [string, number][] = [
      ['{"data":[1,]}', 11],
      ['{"data":[,1]}', 9],
      ['{"data":[1,,2]}', 11],
      ['{"data":[1 2]}', 11],
      ['{"data":[{"a":1]}]}', 16],
      ['{"data":[{"a":1}}]}', 16],
      ['{"data":[1}', 10],
      ['{"data":[1]]}', 11],
      ['{"data":["a\\x"]}', 12],
      ['{"data":["\\u12g4"]}', 14],
      ['{"data":[01]}', 10],
      ['{"data":[NaN]}', 9],
      ['{"data":[1],}', 12],
      ['{"data"[1]}', 7],
      ['{"data":}', 8],
      ['{data:[1]}', 1],
      ['{"a":1 "b":2}', 7],
      ['{"a":1]', 6],
      ['{"a":[}', 7],
      ['{,}', 1],
      ['{"a\u0001":1}', 3],
      ['[1,]', 0],
      ['nul', 3],
      ['\ufeff\ufeff{}', 3],
    ]
    for (const [invalid, position] of cases) {
      expect(() => JSON.parse(invalid.replace(/^\ufeff/, '')) as unknown).toThrow()
      expect([invalid, failsAt(invalid)]).toStrictEqual([invalid, position])
    }
    expect(failsAt(new Uint8Array([0xef, 0xbb, 0x7b, 0x7d]))).toBe(2)
  })

  it('never puts body text in the message, only a description and the byte position', () => {
    const secret = 'Juan Pérez cédula 1234567890'
    const bodies = [
      `{"data":[{"name":"${secret}",}]}`,
      `{"data":[{"name":"${secret}"}],"data":[1]}`,
      `{"msg":"${secret}" "data":[]}`,
      `{"msg":"${secret}\u0001"}`,
      `"${secret}`,
      `["${secret}",]`,
      `{"data":[{"name":"${secret}"}]} ${secret}`,
      `{"data":[{"name":"${secret}"`,
      `{"${secret}":1,}`,
    ]
    for (const invalid of bodies) {
      const { error } = failure(invalid)
      expect(error.message).toMatch(/^[^"]+ \(at byte \d+\)$/)
      expect(error.message).toContain(`(at byte ${error.position})`)
      for (const word of ['Juan', 'Pérez', 'cédula', '1234567890']) {
        expect(error.message).not.toContain(word)
        expect(error.stack).not.toContain(word)
      }
      expect(error.cause).toBeUndefined()
      expect(error.name).toBe('DataStreamError')
    }
  })

  it('bounds the envelope by maxEnvelopeBytes, rows not counted', () => {
    const rows = Array.from({ length: 50 }, (_, n) => row(n))
    const big = JSON.stringify({ code: 200, data: rows })
    expect(feed(big, 1000, { maxEnvelopeBytes: 30 }).rows).toStrictEqual(rows)

    const longMsg = JSON.stringify({ msg: 'x'.repeat(100), data: [] })
    expect(feed(longMsg, 7, { maxEnvelopeBytes: 200 }).end.envelope).toStrictEqual({
      msg: 'x'.repeat(100),
      data: [],
    })
    for (const size of [1, 7, 1000]) {
      const { error } = failure(longMsg, size, { maxEnvelopeBytes: 50 })
      expect(error.message).toMatch(/maxEnvelopeBytes \(50\)/)
      // It stops reading soon after the limit, not at the end of the body.
      expect(error.position).toBeGreaterThan(50)
      expect(error.position).toBeLessThanOrEqual(Math.max(51 + size, 110))
    }
    const notAnObject = JSON.stringify(rows)
    expect(failure(notAnObject, 64, { maxEnvelopeBytes: 1000 }).error.position).toBe(1024)
    expect(
      feed(notAnObject, 64, { maxEnvelopeBytes: Buffer.byteLength(notAnObject) }).end.envelope,
    ).toEqual(rows)
    const dataNotArray = JSON.stringify({ data: { rows } })
    expect(failure(dataNotArray, 64, { maxEnvelopeBytes: 1000 }).error.message).toMatch(
      /maxEnvelopeBytes/,
    )
    expect(() => createDataStreamParser({ maxEnvelopeBytes: -1 })).toThrow(RangeError)
    expect(() => createDataStreamParser({ maxEnvelopeBytes: 1.5 })).toThrow(RangeError)
  })

  it('is spent after an error: later calls throw the same error', () => {
    const parser = createDataStreamParser()
    expect(() => parser.push(Buffer.from('{"data":[1,,'))).toThrow(DataStreamError)
    const thrown = (call: () => unknown): unknown => {
      try {
        call()
      } catch (error) {
        return error
      }
      return undefined
    }
    const first = thrown(() => parser.push(Buffer.from('2]}')))
    expect(first).toBeInstanceOf(DataStreamError)
    expect(thrown(() => parser.end())).toBe(first)
  })

  it('refuses to be used after end()', () => {
    const parser = createDataStreamParser()
    parser.push(Buffer.from('{}'))
    parser.end()
    expect(() => parser.push(Buffer.from(' '))).toThrow(/already ended/)
    expect(() => parser.end()).toThrow(/already ended/)
  })
})
