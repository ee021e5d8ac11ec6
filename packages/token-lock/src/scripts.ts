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
 * ARGV[4]  the Redis-wide epoch (GLOBAL_EPOCH's reply): 'new' for a Redis marked new, where a
 *          missing lock epoch is a lock never used; else the server time in ms it was written,
 *          where a lock epoch missing within one TTL of it may be a loss (every lock that had a
 *          lease then is held back until that TTL is over, not only the first one asked for)
 * Returns  {1, fence}              the lease is granted with this fencing token
 *          {0, 'busy', pttl}       another holder has it for pttl more ms
 *          {0, 'quarantine', pttl} the epochs were missing: Redis lost its data (or is new), so a
 *                                  holder from before may still be running; nobody gets the lock
 *                                  for one TTL (pttl ms left of it, also for a caller that finds
 *                                  the quarantine set by another). The fence counter restarts
 *                                  above every earlier one.
 */
export const ACQUIRE = `
if redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('SET', KEYS[3], ARGV[3])
  local now = redis.call('TIME')
  -- Microseconds since 1970: above any fence handed out before the loss (one per lease).
  local seed = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if seed > current then redis.call('SET', KEYS[2], string.format('%.0f', seed)) end
  -- A time in ms (at most 15 digits); 'new', or an older version's random hex id, is no time.
  local since = nil
  if string.match(ARGV[4], '^%d+$') and string.len(ARGV[4]) <= 15 then since = tonumber(ARGV[4]) end
  if since then
    local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    local left = math.floor(since + tonumber(ARGV[2]) - nowMs)
    if left > 0 then
      redis.call('SET', KEYS[1], 'quarantine', 'PX', left)
      return {0, 'quarantine', left}
    end
  end
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('INCR', KEYS[2])}
end
if redis.call('GET', KEYS[1]) == 'quarantine' then
  return {0, 'quarantine', redis.call('PTTL', KEYS[1])}
end
return {0, 'busy', redis.call('PTTL', KEYS[1])}
`

/**
 * global-epoch: the Redis-wide lock epoch, written when missing
 * KEYS[1]  the Redis-wide epoch key (no expiry; in a slot of its own on a cluster)
 * Returns  its value: 'new' when `markRedisInitialised` wrote it on a Redis just created; else the
 *          server time in ms when it was written, now if it was missing (Redis is new or lost its
 *          data: the locks' epochs are then missing too, and ACQUIRE quarantines them until one
 *          TTL after this time). A value of an older version (random hex) counts as long ago.
 */
export const GLOBAL_EPOCH = `
local value = redis.call('GET', KEYS[1])
if value then return value end
local now = redis.call('TIME')
value = string.format('%.0f', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
redis.call('SET', KEYS[1], value)
return value
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
