export {
  readDashboardConfig,
  upstreamNames,
  type DashboardConfig,
  type UpstreamName,
} from './config.js'
export { createDashboard, type DashboardOptions } from './dashboard.js'
export {
  createProxy,
  resolveProxyTarget,
  MAX_PROXIED_BYTES,
  type ProxyOptions,
  type ProxyTarget,
} from './proxy.js'
