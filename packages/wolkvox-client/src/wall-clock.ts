// The client speaks the operation's wall-clock time through the project's one implementation.
export { formatWallClock, isTimeZone, wallClockToEpochMs } from '@wolkvox-chat-stream/zoned-time'
