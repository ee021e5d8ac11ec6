import {
  readConfig,
  readHttpHost,
  readHttpSecurity,
  readTokenFile,
  type Env,
  type EnvReader,
  type HttpSecurity,
  Secret,
} from '@wolkvox-chat-stream/config'
import { logLevels, type LogThreshold } from '@wolkvox-chat-stream/observability'

/** The services the dashboard reaches, each under `/api/<name>/`. */
export const upstreamNames = ['poller', 'sentiment', 'classifier', 'quality'] as const
export type UpstreamName = (typeof upstreamNames)[number]

/** The dashboard's settings (README: Dashboard). */
export interface DashboardConfig {
  /** `HTTP_PORT` (8080): the page, its proxy, `/healthz`, `/readyz`, `/metrics`; 0 picks one. */
  httpPort: number
  /** `HTTP_HOST`: the address the HTTP server binds (default `127.0.0.1`). */
  httpHost: string
  /**
   * `HTTP_AUTH_TOKEN_FILE` protects the page and the proxy (the browser asks for the token as a
   * password), `HTTP_METRICS_PUBLIC`, `HTTP_RATE_LIMIT` (README: Security).
   */
  httpSecurity: HttpSecurity
  /**
   * `DASHBOARD_UPSTREAM_TOKEN_FILE`: the bearer token the proxy sends to the services (their
   * `HTTP_AUTH_TOKEN_FILE` holds it). The browser never sees it.
   */
  upstreamToken?: Secret
  /**
   * `POLLER_URL`, `SENTIMENT_URL`, `CLASSIFIER_URL`, `QUALITY_URL`: base URLs of the services,
   * without a trailing slash (a path prefix is kept).
   */
  upstreams: Record<UpstreamName, string>
  /** `DASHBOARD_PROXY_TIMEOUT` (5s): the longest a proxied request may take. */
  proxyTimeoutMs: number
  /** `DASHBOARD_REFRESH` (5s): how often the page fetches new figures. */
  refreshMs: number
  /** `LOG_LEVEL`. */
  logLevel: LogThreshold
}

const defaults: Record<UpstreamName, { variable: string; url: string }> = {
  poller: { variable: 'POLLER_URL', url: 'http://127.0.0.1:8081' },
  sentiment: { variable: 'SENTIMENT_URL', url: 'http://127.0.0.1:8082' },
  classifier: { variable: 'CLASSIFIER_URL', url: 'http://127.0.0.1:8083' },
  quality: { variable: 'QUALITY_URL', url: 'http://127.0.0.1:8084' },
}

/** An http(s) base URL with no credentials, query or fragment; returned without a trailing slash. */
function readBaseUrl(r: EnvReader, variable: string, fallback: string): string {
  const text = r.string(variable, fallback)
  let url: URL
  try {
    url = new URL(text)
  } catch {
    r.report(variable, `"${text}" is not a URL such as ${fallback}`)
    return fallback
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    r.report(variable, 'must be an http:// or https:// URL')
  else if (url.username !== '' || url.password !== '')
    r.report(variable, 'must not carry credentials')
  else if (url.search !== '' || url.hash !== '')
    r.report(variable, 'must not have a query or a fragment')
  return `${url.origin}${url.pathname.replace(/\/+$/u, '')}`
}

/** `DASHBOARD_UPSTREAM_TOKEN_FILE`: the first token of the file (one a line, as the services read). */
function upstreamToken(r: EnvReader): { upstreamToken?: Secret } {
  const path = r.string('DASHBOARD_UPSTREAM_TOKEN_FILE')
  if (path === undefined) return {}
  // The services' own token-file format: the first token is the one sent.
  const read = readTokenFile(path)
  if (!Array.isArray(read)) {
    r.report('DASHBOARD_UPSTREAM_TOKEN_FILE', read.problem)
    return {}
  }
  return { upstreamToken: new Secret(read[0]!) }
}

/**
 * Reads the dashboard's configuration once, every problem reported together.
 * @throws AppError `CONFIG_INVALID` listing each bad variable.
 */
export function readDashboardConfig(env: Env = process.env): Readonly<DashboardConfig> {
  return readConfig(env, (r) => {
    const proxyTimeoutMs = r.durationMs('DASHBOARD_PROXY_TIMEOUT', '5s')
    if (proxyTimeoutMs < 100 || proxyTimeoutMs > 120_000)
      r.report('DASHBOARD_PROXY_TIMEOUT', 'must be between 100ms and 2m')
    const refreshMs = r.durationMs('DASHBOARD_REFRESH', '5s')
    if (refreshMs < 500) r.report('DASHBOARD_REFRESH', 'must be 500ms or more')
    const upstreams = Object.fromEntries(
      upstreamNames.map((name) => [
        name,
        readBaseUrl(r, defaults[name].variable, defaults[name].url),
      ]),
    ) as Record<UpstreamName, string>
    return {
      httpPort: r.integer('HTTP_PORT', 8080, { min: 0, max: 65_535 }),
      httpHost: readHttpHost(r),
      httpSecurity: readHttpSecurity(r),
      ...upstreamToken(r),
      upstreams,
      proxyTimeoutMs,
      refreshMs,
      logLevel: r.oneOf('LOG_LEVEL', [...logLevels, 'silent'] as const, 'info'),
    }
  })
}
