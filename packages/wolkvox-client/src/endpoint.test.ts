import { describe, expect, it } from 'vitest'
import { isLoopbackHost, reportsManagerUrl, validateServer } from './endpoint.js'

describe('validateServer', () => {
  it('accepts server codes of 1 to 6 digits as they are', () => {
    expect(validateServer('0010')).toBe('0010')
    expect(validateServer('3211')).toBe('3211')
    expect(validateServer('1')).toBe('1')
  })

  it.each(['1.evil.com#', '1@evil.com', '../x', '', '0010 ', '１２', '1234567', '12a', '0x10'])(
    'refuses %j (host injection or not a code)',
    (server) => {
      expect(() => validateServer(server)).toThrow(
        expect.objectContaining({ code: 'WOLKVOX_SERVER_INVALID' }),
      )
    },
  )

  it('refuses a number where a string is expected', () => {
    expect(() => validateServer(10)).toThrow(
      expect.objectContaining({ code: 'WOLKVOX_SERVER_INVALID' }),
    )
  })
})

describe('reportsManagerUrl', () => {
  it('builds exactly https://wv{server}.wolkvox.com', () => {
    expect(reportsManagerUrl('0010').toString()).toBe(
      'https://wv0010.wolkvox.com/api/v2/reports_manager.php',
    )
  })

  it('takes an https override and a loopback http override, keeping a path prefix', () => {
    expect(reportsManagerUrl('1', 'https://proxy.example.com/wolkvox/').toString()).toBe(
      'https://proxy.example.com/wolkvox/api/v2/reports_manager.php',
    )
    expect(reportsManagerUrl('1', 'http://127.0.0.1:8089').toString()).toBe(
      'http://127.0.0.1:8089/api/v2/reports_manager.php',
    )
    expect(reportsManagerUrl('1', 'http://localhost:8089').host).toBe('localhost:8089')
    expect(reportsManagerUrl('1', 'http://[::1]:8089').host).toBe('[::1]:8089')
    expect(reportsManagerUrl('1', 'http://127.9.9.9').host).toBe('127.9.9.9')
  })

  it.each([
    'http://example.com',
    'http://128.0.0.1',
    'http://localhost.evil.com',
    'http://127.0.0.1.evil.com',
    'ftp://127.0.0.1',
    'https://user:pw@example.com',
    'https://example.com/?x=1',
    'https://example.com/#frag',
    'not a url',
  ])('refuses the base URL %j', (baseUrl) => {
    expect(() => reportsManagerUrl('1', baseUrl)).toThrow(
      expect.objectContaining({ code: 'WOLKVOX_BASE_URL_INVALID' }),
    )
  })

  it('does not repeat credentials of a refused base URL', () => {
    try {
      reportsManagerUrl('1', 'http://user:hunter2@example.com')
      expect.unreachable()
    } catch (error) {
      expect(String(error)).not.toContain('hunter2')
    }
  })

  it('validates the server even with an override', () => {
    expect(() => reportsManagerUrl('1@evil.com', 'http://127.0.0.1')).toThrow(
      expect.objectContaining({ code: 'WOLKVOX_SERVER_INVALID' }),
    )
  })
})

describe('isLoopbackHost', () => {
  it('knows loopback hosts as the URL parser writes them', () => {
    expect(isLoopbackHost(new URL('http://127.1').hostname)).toBe(true)
    expect(isLoopbackHost(new URL('http://0x7f.0.0.1').hostname)).toBe(true)
    expect(isLoopbackHost('10.0.0.1')).toBe(false)
    expect(isLoopbackHost('[::2]')).toBe(false)
  })
})
