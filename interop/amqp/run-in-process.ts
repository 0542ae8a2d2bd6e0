import { startAmqpServer } from '../../test/protocols/amqp/harness.js';
import { RAW_SCENARIOS } from './raw-scenarios.js';
import { STOCK_CLIENT_SCENARIOS } from './stock-clients.js';
import { runScenario } from './scenario-kit.js';
import { SCENARIOS } from './scenarios.js';
import { compareObservations } from './compare.js';
import { readFileSync } from 'node:fs';

/** Development aid: scenarios against the adapter in this process, compared with golden/rabbitmq.json. */
const only = process.argv[2];
const golden = JSON.parse(readFileSync(new URL('./golden/rabbitmq.json', import.meta.url), 'utf8')) as Record<string, never>;
const server = await startAmqpServer();
for (const s of [...SCENARIOS, ...RAW_SCENARIOS, ...STOCK_CLIENT_SCENARIOS]) {
  if (only && s.name !== only) continue;
  const obs = await runScenario(s, '127.0.0.1', server.port);
  const d = compareObservations(s.name, golden[s.name] ?? [], obs);
  console.log(d.length ? 'DIFF' : 'same', s.name);
  for (const x of d) console.log('   ', x.event, '\n      rabbit:', JSON.stringify(x.reference), '\n      ours:  ', JSON.stringify(x.polybroker), x.intended ? '(intended)' : '');
}
await server.close();
