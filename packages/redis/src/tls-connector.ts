/*
 * ioredis's connector for TLS connections, with the socket's errors always listened to. ioredis
 * listens to a socket's first error only (`once`); a TLS socket refused in its handshake (a CA
 * that did not sign the server) can emit a second one, an alert the server sends after the first,
 * which then has no listener and ends the process as an uncaught exception (seen as
 * `tlsv1 alert decode error` on a cluster, about once in ten refused connections). The connection
 * itself fails as before, through the first error: `waitUntilReady` reports `REDIS_TLS_FAILED`.
 */
import type { Socket } from 'node:net'
import type { RedisOptions } from 'ioredis'
// The connector ioredis uses for a single node; not re-exported from its entry point (ioredis is
// pinned to the exact version this was written against, 5.11.1: an upgrade must re-check it).
import StandaloneConnectorModule from 'ioredis/built/connectors/StandaloneConnector.js'

type StandaloneConnector = {
  connect(emitter: (...args: unknown[]) => void): Promise<Socket>
}
type ConnectorClass = new (options: RedisOptions) => StandaloneConnector

// Node's ESM loader gives the CommonJS exports object (the class under `default`); a bundler's
// interop may give the class itself.
const loaded = StandaloneConnectorModule as unknown as ConnectorClass | { default: ConnectorClass }
const Standalone = typeof loaded === 'function' ? loaded : loaded.default

/** Swallows a socket's late errors: the first one already failed the connection. */
const ignoreLateError = (): void => undefined

/** The `Connector` option of a TLS connection (see the module comment). */
export class ListenedTlsConnector extends Standalone {
  override connect(emitter: (...args: unknown[]) => void): Promise<Socket> {
    // The socket is made and resolved in one tick; this runs right after, before any I/O event.
    return super.connect(emitter).then((socket) => {
      socket.on('error', ignoreLateError)
      return socket
    })
  }
}
