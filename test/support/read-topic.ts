// Tests read topics with the adapter's own reader, the one the poller's recovery uses.
export { readTopicToEnd } from '@wolkvox-chat-stream/kafka'
