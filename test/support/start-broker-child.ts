/*
 * Starts a broker from a separate process and then idles, so a test can kill this process with
 * SIGKILL and leave the broker orphaned, exactly as a killed test run would.
 */
import { startKafkaBroker } from '@wolkvox-chat-stream/dev-stack'

const broker = await startKafkaBroker()
process.stdout.write(
  `${JSON.stringify({ pid: broker.pid(), workDir: broker.workDir, brokers: broker.brokers })}\n`,
)
setInterval(() => undefined, 60_000)
