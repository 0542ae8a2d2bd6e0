/**
 * Differential check: the same STOMP client scripts (stompit, stomp.py 1.0/1.1/1.2, and stompjs
 * where the peer offers WebSocket) against polybroker, RabbitMQ's STOMP plugin and ActiveMQ 5.17,
 * printing each scenario's observations side by side and whether they agree.
 *
 *   npm run interop:diff -- stomp      (peers from ../shared/peers/start-*.sh)
 *
 * Env: PEER_RABBIT_STOMP (62613), PEER_ACTIVEMQ_STOMP (2613), DIFF_ONLY (substring filter).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startBroker } from '../../test/helpers/broker.js';
import type { StompTarget } from './lib/target.js';
import { STOMPIT_ERROR_SCENARIOS, STOMPIT_SCENARIOS, type Scenario } from './scenarios/stompit.js';
import { STOMPJS_SCENARIOS } from './scenarios/stompjs.js';
import { STOMPPY_SCENARIOS } from './scenarios/stomppy.js';

const PEERS = '/work/shared/peers';

function startPeer(script: string): boolean {
  const path = `${PEERS}/${script}`;
  if (!existsSync(path)) return false;
  try {
    execFileSync(path, { stdio: ['ignore', 'ignore', 'inherit'], timeout: 300_000 });
    return true;
  } catch {
    console.error(`${script} failed: that peer is left out`);
    return false;
  }
}

function compact(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}

async function observe(scenario: Scenario, target: StompTarget): Promise<unknown> {
  try {
    return await scenario(target);
  } catch (e) {
    return { failed: (e as Error).message.split('\n')[0] };
  }
}

export async function main(): Promise<void> {
  const only = process.env.DIFF_ONLY;
  const broker = await startBroker();
  const targets: StompTarget[] = [
    {
      name: 'polybroker',
      host: '127.0.0.1',
      port: broker.ports.stomp,
      wsUrl: `ws://127.0.0.1:${broker.ports.http}/ws`,
      vhost: '/',
      login: 'guest',
      passcode: 'guest',
    },
  ];
  if (startPeer('start-rabbitmq.sh')) {
    targets.push({ name: 'rabbitmq', host: '127.0.0.1', port: Number(process.env.PEER_RABBIT_STOMP ?? 62613), vhost: '/', login: 'guest', passcode: 'guest' });
  }
  if (startPeer('start-activemq.sh')) {
    targets.push({ name: 'activemq', host: '127.0.0.1', port: Number(process.env.PEER_ACTIVEMQ_STOMP ?? 2613), vhost: '/', login: 'guest', passcode: 'guest' });
  }
  const sets: Array<[string, Record<string, Scenario>]> = [
    ['stompit', STOMPIT_SCENARIOS],
    ['stompit errors', STOMPIT_ERROR_SCENARIOS],
    ['stomp.py', STOMPPY_SCENARIOS],
    ['stompjs (WebSocket)', STOMPJS_SCENARIOS],
  ];
  let same = 0;
  let differ = 0;
  try {
    for (const [setName, scenarios] of sets) {
      console.log(`\n## ${setName}`);
      for (const [name, scenario] of Object.entries(scenarios)) {
        if (only !== undefined && !name.includes(only)) continue;
        const results: Array<[string, string]> = [];
        for (const t of targets) {
          if (setName.includes('WebSocket') && t.wsUrl === undefined) {
            results.push([t.name, '(no WebSocket endpoint on this peer)']);
            continue;
          }
          results.push([t.name, compact(await observe(scenario, t))]);
        }
        const comparable = results.filter(([, r]) => !r.startsWith('(no WebSocket'));
        const agree = comparable.every(([, r]) => r === comparable[0]![1]);
        if (agree) same++;
        else differ++;
        console.log(`\n### ${name} — ${agree ? 'same' : 'DIFFERS'}`);
        for (const [n, r] of results) console.log(`  ${n.padEnd(10)} ${r}`);
      }
    }
  } finally {
    await broker.stop();
  }
  console.log(`\n${same} scenarios agree, ${differ} differ across ${targets.map((t) => t.name).join(', ')}`);
}

if (process.argv[1]?.endsWith('diff.ts') || process.argv[1]?.endsWith('diff.js')) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
