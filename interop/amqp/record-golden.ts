import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPeer } from '../../bench/peers.js';
import { RAW_SCENARIOS } from './raw-scenarios.js';
import { STOCK_CLIENT_SCENARIOS } from './stock-clients.js';
import { runScenario, type Observation } from './scenario-kit.js';
import { SCENARIOS } from './scenarios.js';

/**
 * Records RabbitMQ's observations (golden/rabbitmq.json) without polybroker:
 * `tsx interop/amqp/record-golden.ts [scenario ...]` (all scenarios when none is named).
 */
const only = process.argv.slice(2);
const file = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'rabbitmq.json');
const out: Record<string, Observation[]> = existsSync(file) && only.length ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, Observation[]>) : {};
const peer = await startPeer('rabbitmq');
for (const s of [...SCENARIOS, ...RAW_SCENARIOS, ...STOCK_CLIENT_SCENARIOS]) {
  if (only.length && !only.includes(s.name)) continue;
  out[s.name] = await runScenario(s, '127.0.0.1', peer.ports.amqp!);
  console.log(s.name, out[s.name]!.length, 'observations');
}
writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
