export {
  createTokenLock,
  markRedisInitialised,
  leaseLostReasons,
  type TokenLock,
  type TokenLockOptions,
  type TokenLockHooks,
  type TokenSource,
  type Lease,
  type LeaseHandle,
  type LeaseLostReason,
  type FencedSetResult,
  type WithLockResult,
} from './token-lock.js'
