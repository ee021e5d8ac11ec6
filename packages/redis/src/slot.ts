import type { Redis } from './client.js'
import { hashTagOf, isCluster } from './scan.js'

const TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[i] = crc
  }
  return table
})()

/** The Redis Cluster slot of `key`: CRC16 (XMODEM) of its hash tag (or of the key) mod 16384. */
export function keySlot(key: string): number {
  let crc = 0
  for (const byte of Buffer.from(hashTagOf(key), 'utf8')) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!
  }
  return crc % 16_384
}

/**
 * How many replicas the master of `key`'s slot has, as the cluster client last learnt the slot map
 * (`CLUSTER SLOTS`, refreshed after a failover); undefined on a single node, where the client
 * cannot know.
 */
export function replicasOf(redis: Redis, key: string): number | undefined {
  if (!isCluster(redis)) return undefined
  const owners = redis.slots[keySlot(key)]
  return owners === undefined ? 0 : Math.max(0, owners.length - 1)
}
