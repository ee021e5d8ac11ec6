import { describe, expect, it } from 'vitest'
import { tlsFailureKind } from './wolkvox-checks.js'

describe('tlsFailureKind', () => {
  it.each([
    // A certificate the machine does not trust, or not for this name: the peer speaks TLS.
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'certificate'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'certificate'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'certificate'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'certificate'],
    ['CERT_HAS_EXPIRED', 'certificate'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'certificate'],
    // No TLS at all on the port (an http server answers the ClientHello with text).
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'handshake'],
    ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'handshake'],
    ['EPROTO', 'handshake'],
    // Not about TLS: the network.
    ['ECONNREFUSED', 'network'],
    ['ECONNRESET', 'network'],
    ['ETIMEDOUT', 'network'],
    ['no TLS answer within 2000 ms', 'network'],
  ])('%s is a %s failure', (code, kind) => {
    expect(tlsFailureKind(code)).toBe(kind)
  })
})
