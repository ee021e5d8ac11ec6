/*
 * The lock's Redis scripts. Each runs atomically on the server; every key it touches is passed in
 * KEYS and shares the operation's `{server}` hash tag, so the scripts also run on Redis Cluster.
 */

/**
 * acquire
 * KEYS[1]  lock key: holds the lease value of the current holder, with a PX expiry
 * KEYS[2]  fence counter: strictly increasing across every lease ever granted for this lock
 * KEYS[3]  epoch key: present while Redis keeps this lock's history (no expiry)
 * ARGV[1]  lease value, unique per acquisition
 * ARGV[2]  lease TTL in ms
 * ARGV[3]  new epoch id, written when the epoch key is missing
 * ARGV[4]  '1' when the Redis-wide epoch key existed just before (so a missing lock epoch means
 *          a lock never used before, not a loss), '0' otherwise
 * Returns  {1, fence}             the lease is granted with this fencing token
 *          {0, 'busy', pttl}      another holder has it for pttl more ms
 *          {0, 'quarantine', ttl} the epochs were missing: Redis lost its data (or is new), so a
 *                                 holder from before may still be running; nobody gets the lock
 *                                 for one TTL. The fence counter restarts above every earlier one.
 */
export const ACQUIRE = `
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('SET', KEYS[3], ARGV[3])
  local now = redis.call('TIME')
  -- Microseconds since 1970: above any fence handed out before the loss (one per lease).
  local seed = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if seed > current then redis.call('SET', KEYS[2], string.format('%.0f', seed)) end
  if ARGV[4] ~= '1' then
    redis.call('SET', KEYS[1], 'quarantine', 'PX', ARGV[2])
    return {0, 'quarantine', tonumber(ARGV[2])}
  end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('INCR', KEYS[2])}
end
return {0, 'busy', redis.call('PTTL', KEYS[1])}
`

/**
 * extend
 * KEYS[1]  lock key
 * ARGV[1]  lease value of the caller
 * ARGV[2]  new TTL in ms, counted from now
 * Returns  1 when the caller still held the lease and it was extended, 0 when it is not theirs
 */
export const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`

/**
 * release
 * KEYS[1]  lock key
 * ARGV[1]  lease value of the caller
 * Returns  1 when the caller's lease was deleted, 0 when it was no longer theirs (nothing changed)
 */
export const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`

/**
 * fenced-set: a state write that only the current holder can make, never going back in fence order
 * KEYS[1]  lock key
 * KEYS[2]  target hash: fields `value` and `fence`
 * ARGV[1]  lease value of the caller
 * ARGV[2]  caller's fencing token
 * ARGV[3]  new value
 * ARGV[4]  expected current value, or '' to skip the comparison
 * Returns  {1}                   written
 *          {0, 'lease_lost'}     the caller no longer holds the lease
 *          {0, 'stale_fence', f} a write with the newer fence f was already made
 *          {0, 'conflict', v}    the current value is v, not the expected one
 */
export const FENCED_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0, 'lease_lost'} end
local stored = redis.call('HGET', KEYS[2], 'fence')
if stored and tonumber(stored) > tonumber(ARGV[2]) then return {0, 'stale_fence', stored} end
if ARGV[4] ~= '' then
  local current = redis.call('HGET', KEYS[2], 'value')
  if current ~= ARGV[4] then return {0, 'conflict', current or ''} end
end
redis.call('HSET', KEYS[2], 'value', ARGV[3], 'fence', ARGV[2])
return {1}
`
