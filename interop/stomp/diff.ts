/**
 * Differential check: the same STOMP client scripts (stompit, stomp.py 1.0/1.1/1.2, and stompjs
 * where the peer offers WebSocket) against polybroker, RabbitMQ's STOMP plugin and ActiveMQ 5.17,
 * printing each scenario's observations side by side and whether they agree.
 *
 *   npm run interop:diff -- stomp      (peers from ../shared/peers/start-*.sh)
 *
 * `npm run interop:diff -- stomp <substring>` runs only the scenarios whose name contains it;
 * `--rabbit-port 62623 --rabbit-ws ws://127.0.0.1:15694/ws` uses a RabbitMQ with Web-STOMP
 * (bench/stomp-rabbitmq-ws.sh starts one) so the stompjs scenarios are compared too.
 * Differences are reported, not failed: the closing note of issue 7 discusses each.
 */
import { startPeer } from '../../bench/peers.js';
import { startPolybroker } from './lib/polybroker.js';
import type { StompTarget } from './lib/target.js';
import { STOMPIT_ERROR_SCENARIOS, STOMPIT_SCENARIOS, type Scenario } from './scenarios/stompit.js';
import { STOMPJS_SCENARIOS } from './scenarios/stompjs.js';
import { STOMPPY_SCENARIOS } from './scenarios/stomppy.js';

async function peerTarget(name: 'rabbitmq' | 'activemq', port?: number, wsUrl?: string): Promise<StompTarget | undefined> {
  try {
    const stomp = port ?? (await startPeer(name)).ports.stomp!;
    return { name, host: '127.0.0.1', port: stomp, vhost: '/', login: 'guest', passcode: 'guest', ...(wsUrl === undefined ? {} : { wsUrl }) };
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
  const option = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const valued = new Set(['--rabbit-port', '--rabbit-ws']);
  const only = args.find((a, i) => !a.startsWith('--') && !valued.has(args[i - 1] ?? ''));
  const broker = await startPolybroker();
  const targets: StompTarget[] = [broker.target];
  const rabbitPort = option('--rabbit-port');
  const rabbit = await peerTarget('rabbitmq', rabbitPort === undefined ? undefined : Number(rabbitPort), option('--rabbit-ws'));
  if (rabbit !== undefined) targets.push(rabbit);
  const activemq = await peerTarget('activemq');
  if (activemq !== undefined) targets.push(activemq);
  const sets: Array<[string, Record<string, Scenario>]> = [
    ['stompit', STOMPIT_SCENARIOS],
    ['stompit errors', STOMPIT_ERROR_SCENARIOS],
    ['stomp.py', STOMPPY_SCENARIOS],
    ['stompjs (WebSocket)', STOMPJS_SCENARIOS],
  ];
  let same = 0;
  let differ = 0;
  /** Per peer: scenarios where polybroker's observation equals the peer's, and the others. */
  const vsPeer = new Map<string, { same: number; differs: string[] }>();
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
        const ours = results[0]![1];
        for (const [peer, r] of comparable.slice(1)) {
          const v = vsPeer.get(peer) ?? { same: 0, differs: [] };
          if (r === ours) v.same++;
          else v.differs.push(name);
          vsPeer.set(peer, v);
        }
        console.log(`\n### ${name} — ${agree ? 'same' : 'DIFFERS'}`);
        for (const [n, r] of results) console.log(`  ${n.padEnd(10)} ${r}${n !== 'polybroker' && r !== ours && !r.startsWith('(no') ? '   ≠ polybroker' : ''}`);
      }
    }
  } finally {
    await broker.stop();
    // stompjs/ws and stompit may keep sockets of peers half-open; the report is complete.
    setImmediate(() => process.exit(process.exitCode ?? 0)).unref();
  }
  console.log(`\n${same} scenarios agree, ${differ} differ across ${targets.map((t) => t.name).join(', ')}`);
  for (const [peer, v] of vsPeer) {
    console.log(`polybroker = ${peer} in ${v.same} of ${v.same + v.differs.length} scenarios${v.differs.length > 0 ? `; differs in: ${v.differs.join('; ')}` : ''}`);
  }
  return 0;
}
