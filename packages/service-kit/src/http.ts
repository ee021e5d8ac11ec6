/** Answers a service route with JSON (`routes` option of createConsumerService). */
export { sendJson } from '@wolkvox-chat-stream/observability'
