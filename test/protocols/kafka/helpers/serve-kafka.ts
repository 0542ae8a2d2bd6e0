/**
 * Runs the in-process Kafka listener (real LogStore + core + Kafka adapter) as its own process:
 *
 *   node --import tsx test/protocols/kafka/helpers/serve-kafka.ts <dataDir> '<options json>'
 *
 * It prints `kafka ready <port>` once listening. Interop and crash tests use it while the broker
 * process does not wire adapters to the core yet; it stops on SIGTERM and can be SIGKILLed.
 */
import { startInProcessKafka } from './in-process-broker.js';

const [dir, json] = process.argv.slice(2);
const b = await startInProcessKafka(json ? JSON.parse(json) : {}, dir);
process.stdout.write(`kafka ready ${b.port}\n`);
process.on('SIGTERM', () => {
  void b.stop().then(() => process.exit(0));
});
