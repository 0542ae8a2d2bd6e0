import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPeer } from '../../bench/peers.js';
import { startBroker } from '../../test/helpers/broker.js';
import { compareObservations, type Difference } from './compare.js';
import { RAW_SCENARIOS } from './raw-scenarios.js';
import { STOCK_CLIENT_SCENARIOS } from './stock-clients.js';
import { runScenario, type Observation } from './scenario-kit.js';
import { SCENARIOS } from './scenarios.js';

/**
 * `npm run interop:diff -- amqp`: runs every scripted scenario with the same client code against
 * RabbitMQ (../shared/peers/start-rabbitmq.sh, AMQP on 6672) and against polybroker, and prints
 * what a client would see differently. `--record` also writes RabbitMQ's observations to
 * golden/rabbitmq.json, which the interop tests compare polybroker with.
 */
export async function main(args: string[]): Promise<number> {
  const record = args.includes('--record');
  const only = args.find((a) => !a.startsWith('--'));
  const scenarios = [...SCENARIOS, ...RAW_SCENARIOS, ...STOCK_CLIENT_SCENARIOS].filter((s) => !only || s.name === only);
  const peer = await startPeer('rabbitmq');
  const broker = await startBroker();
  const reference: Record<string, Observation[]> = {};
  const diffs: Difference[] = [];
  try {
    for (const s of scenarios) {
      const r = await runScenario(s, '127.0.0.1', peer.ports.amqp!);
      const o = await runScenario(s, '127.0.0.1', broker.ports.amqp);
      reference[s.name] = r;
      const d = compareObservations(s.name, r, o);
      diffs.push(...d);
      const bad = d.filter((x) => !x.intended && !x.knownBug).length;
      console.log(`${bad ? 'DIFF' : 'same'}  ${s.name}${d.length ? ` (${d.length} difference${d.length > 1 ? 's' : ''}: ${d.filter((x) => x.intended).length} intended, ${d.filter((x) => x.knownBug).length} known bug)` : ''}`);
    }
  } finally {
    await broker.stop();
  }
  for (const d of diffs) {
    console.log(`\n${d.intended ? 'intended' : d.knownBug ? 'KNOWN BUG' : 'DIFFERENCE'}: ${d.scenario} / ${d.event}`);
    console.log(`  rabbitmq:   ${JSON.stringify(d.reference)}`);
    console.log(`  polybroker: ${JSON.stringify(d.polybroker)}`);
    if (d.intended) console.log(`  why: ${d.intended}`);
    if (d.knownBug) console.log(`  bug: ${d.knownBug}`);
  }
  if (record) {
    const file = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'rabbitmq.json');
    writeFileSync(file, `${JSON.stringify(reference, null, 1)}\n`);
    console.log(`\nrecorded RabbitMQ's observations in ${file}`);
  }
  const unexpected = diffs.filter((d) => !d.intended && !d.knownBug).length;
  const known = diffs.filter((d) => d.knownBug).length;
  console.log(`\n${scenarios.length} scenarios: ${unexpected} unexpected difference(s), ${known} known bug(s) outside the adapter, ${diffs.length - unexpected - known} intended`);
  return unexpected ? 1 : 0;
}
