import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPeer } from '../../bench/peers.js';
import { RAW_SCENARIOS } from './raw-scenarios.js';
import { STOCK_CLIENT_SCENARIOS } from './stock-clients.js';
import { runScenario, type Observation } from './scenario-kit.js';
import { SCENARIOS } from './scenarios.js';

/** Records RabbitMQ's observations of every scenario (golden/rabbitmq.json) without polybroker. */
const peer = await startPeer('rabbitmq');
const out: Record<string, Observation[]> = {};
for (const s of [...SCENARIOS, ...RAW_SCENARIOS, ...STOCK_CLIENT_SCENARIOS]) {
  out[s.name] = await runScenario(s, '127.0.0.1', peer.ports.amqp!);
  console.log(s.name, out[s.name]!.length, 'observations');
}
writeFileSync(join(dirname(fileURLToPath(import.meta.url)), 'golden', 'rabbitmq.json'), `${JSON.stringify(out, null, 1)}\n`);
