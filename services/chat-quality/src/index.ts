export * from './timings.js'
export * from './protocol.js'
export * from './fcr.js'
