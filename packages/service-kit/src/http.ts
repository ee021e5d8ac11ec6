import type { ServerResponse } from 'node:http'

/** Answers a service route with JSON (`routes` option of createConsumerService). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  })
  res.end(JSON.stringify(body))
}
