/**
 * An incremental parser of a report response body, `{"code":200,"msg":"…","data":[…]}`: it hands
 * out the elements of the top-level `data` array while the body is still arriving, so memory holds
 * the current element and the small envelope, never the whole body.
 *
 * It works on bytes. JSON's structural characters are ASCII and every byte of a multi-byte UTF-8
 * character is 0x80 or above, so a chunk may end anywhere: inside a character, a string or an
 * escape. The scanner only finds where each top-level key, envelope value and `data` element begins
 * and ends (tracking strings, escapes and bracket depth) and checks the punctuation between them
 * itself; each slice is then decoded (UTF-8, an invalid sequence becoming U+FFFD as in
 * `Buffer.toString`) and read by `JSON.parse`, which validates it. Every byte of the body belongs to
 * exactly one checked piece, so a body is accepted exactly when `JSON.parse` accepts its text
 * (after an optional byte order mark), but for `maxEnvelopeBytes` and a duplicate `data` (below).
 *
 * - Only the `data` key of the top-level object streams, however it is spelled (`"d\u0061ta"` is
 *   `data` to `JSON.parse` too); a `data` inside a row or another envelope value is content.
 * - An element is handed out by the `push` that brings the `,` or `]` after it.
 * - `data` twice: the last one wins, as in `JSON.parse`, while no element of an earlier `data` array
 *   was handed out (it was not an array, or an empty one). A second `data` key after elements were
 *   handed out is a {@link DataStreamError} at that key, since they cannot be taken back.
 * - Error positions: the offending byte when it is punctuation between keys, values and elements;
 *   inside one of those, where `JSON.parse` stopped when its message says (converted to bytes),
 *   else the first byte of that element, key or value; for a body cut short, its length.
 */

/** Options for {@link createDataStreamParser}. */
export interface DataStreamOptions {
  /**
   * The most bytes the envelope may take: every byte of the body but those between the brackets of
   * a streamed `data` array (the whole body when the top-level value is not an object). Over it,
   * {@link DataStreamParser.push} throws a {@link DataStreamError}. Default 1 MiB.
   */
  maxEnvelopeBytes?: number
}

/** What {@link DataStreamParser.end} returns once the whole body was read. */
export interface DataStreamEnd {
  /**
   * The top-level value as `JSON.parse` gives it, except that a `data` array is empty (its elements
   * were handed out by {@link DataStreamParser.push}). When the top-level value is not an object
   * (an array, a string, `null`…), that value, parsed whole.
   */
  envelope: unknown
  /** How many elements of the top-level `data` array were handed out; undefined when there was none. */
  dataCount: number | undefined
  /** Bytes of the body, byte order mark included. */
  bytes: number
}

/**
 * Reads one body, chunk by chunk. After a {@link DataStreamError} the parser is spent: every later
 * call throws the same error. Calling `push` or `end` after `end` is a programming error (`Error`).
 */
export interface DataStreamParser {
  /**
   * Feeds the next bytes of the body (the parser copies what it keeps, so the caller may reuse the
   * buffer). Returns the elements of the top-level `data` array that these bytes completed, each
   * parsed with `JSON.parse` of its own bytes, in order. Throws {@link DataStreamError} on
   * malformed JSON; the elements the failing chunk completed are then not handed out.
   */
  push(bytes: Uint8Array): unknown[]
  /** The body ended. Throws {@link DataStreamError} when it is empty, incomplete or malformed. */
  end(): DataStreamEnd
}

/**
 * A body that is not the JSON it should be. The message holds only a short description and byte
 * positions, never text of the body (it is personal data).
 */
export class DataStreamError extends Error {
  /** The byte offset in the body (byte order mark included) where parsing stopped. */
  readonly position: number

  constructor(description: string, position: number) {
    super(`${description} (at byte ${position})`)
    this.name = 'DataStreamError'
    this.position = position
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const BOM = [0xef, 0xbb, 0xbf] as const

const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

// Where the scanner is. "Token" states hold an open slice (a key, a value or an element).
/** Before the top-level value: byte order mark, whitespace. */
const START = 0
/** Inside the byte order mark. */
const IN_BOM = 1
/** After `{` or a member's `,`: a key, or `}` right after `{`. */
const KEY_BEFORE = 2
/** Inside a key (token). */
const KEY = 3
/** After a key: `:`. */
const COLON_BEFORE = 4
/** After `:`: the value. */
const VALUE_BEFORE = 5
/** Inside an envelope value (token). */
const VALUE = 6
/** Inside the streamed `data` array, before an element or `]`. */
const ELEMENT_BEFORE = 7
/** Inside an element of `data` (token). */
const ELEMENT = 8
/** After the `data` array: `,` or `}`. */
const MEMBER_AFTER = 9
/** After the top-level `}`: whitespace only. */
const DONE = 10
/** The top-level value is not an object: every byte is kept, and parsed by `end` (token). */
const WHOLE = 11

const DEFAULT_MAX_ENVELOPE_BYTES = 1024 * 1024

/** Creates a parser for one body. See {@link DataStreamParser}. */
export function createDataStreamParser(options: DataStreamOptions = {}): DataStreamParser {
  const maxEnvelopeBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES
  if (!Number.isSafeInteger(maxEnvelopeBytes) || maxEnvelopeBytes < 0) {
    throw new RangeError(`maxEnvelopeBytes must be a non-negative integer, got ${maxEnvelopeBytes}`)
  }
  return new Parser(maxEnvelopeBytes)
}

class Parser implements DataStreamParser {
  private readonly maxEnvelopeBytes: number
  private state = START
  /** Bytes fed by the chunks before the current one. */
  private offset = 0
  /** 1 when the previous chunk ended right after a backslash inside a string: skip one byte. */
  private skip = 0
  private failure: DataStreamError | undefined
  private ended = false
  private bomMatched = 0

  // The open token: its start in the current chunk, its absolute position, the copies of its bytes
  // from earlier chunks.
  private tokenStart = 0
  private tokenPosition = 0
  private parts: Uint8Array[] = []
  // Inside a value or element: open brackets, and whether in a string.
  private depth = 0
  private inString = false

  // The top-level object.
  private readonly envelope: Record<string, unknown> = {}
  private firstMember = true
  private key = ''
  private dataCount: number | undefined
  private afterComma = false
  /** Where the current `data` array's content starts, and the bytes of the closed ones. */
  private dataStart = 0
  private dataBytes = 0

  constructor(maxEnvelopeBytes: number) {
    this.maxEnvelopeBytes = maxEnvelopeBytes
  }

  push(chunk: Uint8Array): unknown[] {
    this.usable()
    const out: unknown[] = []
    const n = chunk.length
    if (n === 0) return out
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    try {
      this.tokenStart = 0
      let i = this.skip
      this.skip = 0
      while (i < n) i = this.step(buf, i, n, out)
      if (i > n) this.skip = i - n
      const state = this.state
      if (state === KEY || state === VALUE || state === ELEMENT || state === WHOLE) {
        // A copy: the caller may reuse its buffer, and a view would keep the whole chunk alive.
        if (this.tokenStart < n) this.parts.push(Buffer.from(buf.subarray(this.tokenStart, n)))
      }
      this.offset += n
      if (state !== ELEMENT_BEFORE && state !== ELEMENT) this.checkEnvelope(this.offset)
    } catch (error) {
      if (error instanceof DataStreamError) this.failure = error
      throw error
    }
    return out
  }

  end(): DataStreamEnd {
    this.usable()
    this.ended = true
    const bytes = this.offset
    try {
      switch (this.state) {
        case DONE:
          return { envelope: this.envelope, dataCount: this.dataCount, bytes }
        case WHOLE: {
          this.tokenStart = 0
          const text = this.takeToken(Buffer.alloc(0), 0)
          return { envelope: this.parse(text, 'invalid JSON', bytes), dataCount: undefined, bytes }
        }
        case START:
          throw new DataStreamError('the body is empty', bytes)
        default:
          throw new DataStreamError('the body ended before its JSON value was complete', bytes)
      }
    } catch (error) {
      if (error instanceof DataStreamError) this.failure = error
      throw error
    }
  }

  private usable(): void {
    if (this.failure !== undefined) throw this.failure
    if (this.ended) throw new Error('the data stream parser has already ended')
  }

  /** Consumes bytes from `i` in the current state; returns where to go on (may pass `n` by 1). */
  private step(buf: Buffer, i: number, n: number, out: unknown[]): number {
    switch (this.state) {
      case ELEMENT: {
        const j = this.scanValue(buf, i, n)
        if (j >= n) return j
        const c = buf[j]
        if (c === CLOSE_BRACE) throw this.error('unexpected } in the data array', j)
        const index = this.dataCount ?? 0
        out.push(
          this.parse(this.takeToken(buf, j), `invalid JSON in data[${index}]`, this.offset + j),
        )
        this.dataCount = index + 1
        if (c === COMMA) {
          this.state = ELEMENT_BEFORE
          this.afterComma = true
        } else {
          this.closeData(j)
        }
        return j + 1
      }
      case ELEMENT_BEFORE: {
        const c = buf[i]!
        if (isSpace(c)) return i + 1
        if (c === CLOSE_BRACKET) {
          if (this.afterComma) throw this.error('a comma before ] in the data array', i)
          this.closeData(i)
          return i + 1
        }
        if (c === COMMA || c === CLOSE_BRACE || c === COLON) {
          throw this.error('expected an element of the data array', i)
        }
        this.openToken(ELEMENT, i)
        return i
      }
      case VALUE: {
        const j = this.scanValue(buf, i, n)
        if (j >= n) return j
        const c = buf[j]
        if (c === CLOSE_BRACKET) throw this.error('unexpected ] in the top-level object', j)
        this.checkEnvelope(this.offset + j + 1)
        const value = this.parse(
          this.takeToken(buf, j),
          'invalid JSON in a top-level value',
          this.offset + j,
        )
        this.define(value)
        if (this.key === 'data') this.dataCount = undefined
        this.state = c === COMMA ? KEY_BEFORE : DONE
        return j + 1
      }
      case KEY: {
        let j = i
        while (j < n) {
          const c = buf[j]
          if (c === QUOTE) break
          j += c === BACKSLASH ? 2 : 1
        }
        if (j >= n) return j
        this.checkEnvelope(this.offset + j + 1)
        const key = this.parse(
          this.takeToken(buf, j + 1),
          'invalid JSON in a top-level key',
          this.offset + j + 1,
        )
        this.key = key as string
        if (key === 'data' && this.dataCount !== undefined && this.dataCount > 0) {
          // JSON.parse would keep the last `data` only, but these elements were handed out.
          throw new DataStreamError(
            'a second top-level data key after the first data array had elements',
            this.tokenPosition,
          )
        }
        this.state = COLON_BEFORE
        return j + 1
      }
      case KEY_BEFORE: {
        const c = buf[i]!
        if (isSpace(c)) return i + 1
        if (c === QUOTE) {
          this.openToken(KEY, i)
          return i + 1
        }
        if (c === CLOSE_BRACE && this.firstMember) {
          this.state = DONE
          return i + 1
        }
        throw this.error(this.firstMember ? 'expected a key or }' : 'expected a key', i)
      }
      case COLON_BEFORE: {
        const c = buf[i]!
        if (isSpace(c)) return i + 1
        if (c !== COLON) throw this.error('expected : after a key', i)
        this.state = VALUE_BEFORE
        return i + 1
      }
      case VALUE_BEFORE: {
        const c = buf[i]!
        if (isSpace(c)) return i + 1
        this.firstMember = false
        if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c === COLON) {
          throw this.error('expected a value', i)
        }
        if (c === OPEN_BRACKET && this.key === 'data') {
          this.checkEnvelope(this.offset + i + 1)
          this.define([])
          this.dataCount = 0
          this.afterComma = false
          this.dataStart = this.offset + i + 1
          this.state = ELEMENT_BEFORE
          return i + 1
        }
        this.openToken(VALUE, i)
        return i
      }
      case MEMBER_AFTER: {
        const c = buf[i]!
        if (isSpace(c)) return i + 1
        if (c === COMMA) this.state = KEY_BEFORE
        else if (c === CLOSE_BRACE) this.state = DONE
        else throw this.error('expected , or } after the data array', i)
        return i + 1
      }
      case DONE: {
        const c = buf[i]!
        if (isSpace(c)) return i + 1
        throw this.error('unexpected bytes after the end of the JSON value', i)
      }
      case WHOLE:
        return n
      case START: {
        const c = buf[i]!
        if (this.offset + i === 0 && c === BOM[0]) {
          this.state = IN_BOM
          this.bomMatched = 1
          return i + 1
        }
        if (isSpace(c)) return i + 1
        if (c === OPEN_BRACE) {
          this.state = KEY_BEFORE
          return i + 1
        }
        this.openToken(WHOLE, i)
        return n
      }
      case IN_BOM: {
        if (buf[i] !== BOM[this.bomMatched]) throw this.error('a broken byte order mark', i)
        this.bomMatched++
        if (this.bomMatched === BOM.length) this.state = START
        return i + 1
      }
      default:
        throw new Error(`unknown state ${this.state}`)
    }
  }

  /**
   * Scans a value from `i`: strings, escapes and bracket depth. Returns the index of the `,`, `]`
   * or `}` that ends it (outside strings, at depth 0), or an index ≥ `n` when the chunk ended first
   * (`n + 1` when it ended right after a backslash).
   */
  private scanValue(bytes: Uint8Array, i: number, n: number): number {
    let depth = this.depth
    let inString = this.inString
    while (i < n) {
      if (inString) {
        let c = 0
        while (i < n) {
          c = bytes[i]!
          if (c === QUOTE || c === BACKSLASH) break
          i++
        }
        if (i >= n) break
        if (c === QUOTE) {
          inString = false
          i++
        } else {
          i += 2
        }
        continue
      }
      const c = bytes[i]!
      if (c === QUOTE) {
        inString = true
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 0) break
        depth--
      } else if (c === COMMA && depth === 0) {
        break
      }
      i++
    }
    this.depth = depth
    this.inString = inString
    return i
  }

  private openToken(state: number, i: number): void {
    this.state = state
    this.tokenStart = i
    this.tokenPosition = this.offset + i
    this.depth = 0
    this.inString = false
  }

  /** The open token's text, up to `end` (exclusive) in the current chunk. */
  private takeToken(buf: Buffer, end: number): string {
    if (this.parts.length === 0) return buf.toString('utf8', this.tokenStart, end)
    const parts = this.parts
    this.parts = []
    if (end > this.tokenStart) parts.push(buf.subarray(this.tokenStart, end))
    return Buffer.concat(parts).toString('utf8')
  }

  /**
   * Parses the text of the open token, which ends at the absolute position `end`. On failure, an
   * error at the best position known, and never JSON.parse's message (it quotes the body).
   */
  private parse(text: string, description: string, end: number): unknown {
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      throw new DataStreamError(description, this.errorPosition(text, error, end))
    }
  }

  /**
   * Where JSON.parse stopped in the token, when its message says (V8 gives a UTF-16 index for some
   * errors only), else the token's first byte. The index becomes bytes by encoding the text before
   * it, which is exact unless that text holds U+FFFD (maybe invalid UTF-8 in the body).
   */
  private errorPosition(text: string, error: unknown, end: number): number {
    const message = error instanceof Error ? error.message : ''
    if (message.includes('end of JSON')) return end
    const at = / at position (\d+)/.exec(message)
    if (at === null) return this.tokenPosition
    const before = text.slice(0, Number(at[1]))
    if (before.includes('\ufffd')) return this.tokenPosition
    return Math.min(this.tokenPosition + Buffer.byteLength(before), end)
  }

  /** Sets the current key of the envelope as `JSON.parse` does (an own property, even `__proto__`). */
  private define(value: unknown): void {
    Object.defineProperty(this.envelope, this.key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    })
  }

  private closeData(j: number): void {
    this.dataBytes += this.offset + j - this.dataStart
    this.state = MEMBER_AFTER
  }

  /** Throws when the envelope, up to the absolute position `to`, passes the limit. */
  private checkEnvelope(to: number): void {
    if (to - this.dataBytes > this.maxEnvelopeBytes) {
      throw new DataStreamError(
        `the envelope (the body outside the data array) is over maxEnvelopeBytes (${this.maxEnvelopeBytes})`,
        to,
      )
    }
  }

  private error(description: string, i: number): DataStreamError {
    return new DataStreamError(description, this.offset + i)
  }
}
