export * from './timings.js'
export * from './protocol.js'
