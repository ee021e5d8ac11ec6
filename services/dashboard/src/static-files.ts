import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'

/** The page's files, by URL path: a fixed list, so no request can name another file. */
const files: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/chart.js': { file: 'chart.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
}

const publicDir = fileURLToPath(new URL('../public/', import.meta.url))

/** The page reaches its own origin only: scripts, styles and the proxy. */
const securityHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
}

/**
 * Serves the page (plain HTML, CSS and ES modules from `public/`, no build step) and
 * `/config.json`, the settings the page reads at load. Read from disk on each request: they are
 * small, and an edit shows on reload.
 */
export function createStaticFiles(pageConfig: {
  refreshMs: number
}): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/'
    if (path === '/config.json') {
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      })
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(pageConfig))
      return true
    }
    const entry = files[path]
    if (entry === undefined) return false
    const body = await readFile(`${publicDir}${entry.file}`)
    res.writeHead(200, {
      'content-type': entry.type,
      'cache-control': 'no-cache',
      ...securityHeaders,
    })
    res.end(req.method === 'HEAD' ? undefined : body)
    return true
  }
}
