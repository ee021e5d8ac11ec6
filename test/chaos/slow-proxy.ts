/*
 * A TCP proxy in front of the simulator for the chaos run's network delay: while a delay is set,
 * every chunk read from either side waits that long before it is written on (order kept per
 * direction), as a congested link would. Cheap and exact: no kernel queueing discipline needed.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface SlowProxy {
  /** `http://127.0.0.1:<port>`: the base URL to give the pollers. */
  readonly url: string
  /** Sets the delay added to each chunk; 0 passes chunks on at once. */
  setDelay(ms: number): void
  close(): Promise<void>
}

/** Starts the proxy on a free port of 127.0.0.1, forwarding to `target` (`host:port`). */
export async function startSlowProxy(target: { host: string; port: number }): Promise<SlowProxy> {
  let delayMs = 0
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  /** Pipes `from` to `to`, each chunk after the delay in force when it was read. */
  const relay = (from: Socket, to: Socket): void => {
    let chain = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      const wait = delayMs
      // Reads stop while the chain is long: the sender sees back-pressure, as on a slow link.
      from.pause()
      chain = chain
        .then(() => (wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : undefined))
        .then(() => {
          if (!to.destroyed) to.write(chunk)
          from.resume()
        })
    })
    from.once('end', () => void chain.then(() => to.end()))
    from.once('error', () => to.destroy())
  }
  const server: Server = createServer((client) => {
    track(client)
    const upstream = connect(target.port, target.host)
    track(upstream)
    relay(client, upstream)
    relay(upstream, client)
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    setDelay: (ms) => {
      delayMs = ms
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
