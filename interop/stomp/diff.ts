/**
 * Differential check: the same STOMP client scripts (stompit, stomp.py 1.0/1.1/1.2, and stompjs
 * where the peer offers WebSocket) against polybroker, RabbitMQ's STOMP plugin and ActiveMQ 5.17,
 * printing each scenario's observations side by side and whether they agree.
 *
 *   npm run interop:diff -- stomp      (peers from ../shared/peers/start-*.sh)
 *
 * `npm run interop:diff -- stomp <substring>` runs only the scenarios whose name contains it.
 * Differences are reported, not failed: the closing note of issue 7 discusses each.
 */
import { startPeer } from '../../bench/peers.js';
import { startPolybroker } from './lib/polybroker.js';
import type { StompTarget } from './lib/target.js';
import { STOMPIT_ERROR_SCENARIOS, STOMPIT_SCENARIOS, type Scenario } from './scenarios/stompit.js';
import { STOMPJS_SCENARIOS } from './scenarios/stompjs.js';
import { STOMPPY_SCENARIOS } from './scenarios/stomppy.js';

async function peerTarget(name: 'rabbitmq' | 'activemq'): Promise<StompTarget | undefined> {
  try {
    const peer = await startPeer(name);
    return { name, host: '127.0.0.1', port: peer.ports.stomp!, vhost: '/', login: 'guest', passcode: 'guest' };
  } catch (e) {
    console.error(`${name} did not start (${(e as Error).message.split('\n')[0]}): left out`);
    return undefined;
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

export async function main(args: string[] = []): Promise<number> {
  const only = args.find((a) => !a.startsWith('--'));
  const broker = await startPolybroker();
  const targets: StompTarget[] = [broker.target];
  for (const name of ['rabbitmq', 'activemq'] as const) {
    const t = await peerTarget(name);
    if (t !== undefined) targets.push(t);
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
    // stompjs/ws and stompit may keep sockets of peers half-open; the report is complete.
    setImmediate(() => process.exit(process.exitCode ?? 0)).unref();
  }
  console.log(`\n${same} scenarios agree, ${differ} differ across ${targets.map((t) => t.name).join(', ')}`);
  return 0;
}
