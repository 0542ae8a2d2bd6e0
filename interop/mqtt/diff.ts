/**
 * Differential check: the same MQTT client scripts (mqtt.js 3.1.1/5.0, mosquitto_pub/sub
 * 3.1/3.1.1/5, Eclipse Paho 3.1/3.1.1/5) against polybroker and Mosquitto 2.0
 * (../shared/peers/start-mosquitto.sh, port 2884), printing each scenario's observation on
 * both and whether they agree. Scenarios that restart the broker run on polybroker only.
 *
 *   npm run interop:diff -- mqtt            Env: PEER_MOSQUITTO_PORT (2884), DIFF_ONLY (substring)
 */
import { execFileSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { startPolybroker, uniquePrefix, type MqttTarget } from './lib/target.js';
import { MOSQUITTO_SCENARIOS } from './scenarios/mosquitto.js';
import { MQTTJS_SCENARIOS, type Scenario } from './scenarios/mqttjs.js';
import { PAHO_SCENARIOS } from './scenarios/paho.js';

const PEERS = '/work/shared/peers';

function compact(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 240 ? `${s.slice(0, 237)}...` : s;
}

async function observe(s: Scenario, t: MqttTarget): Promise<unknown> {
  t.prefix = uniquePrefix();
  try {
    // Plain JSON: clients hand back null-prototype objects (mqtt.js user properties).
    return JSON.parse(JSON.stringify(await Promise.race([
      s.run(t),
      new Promise((resolve) => setTimeout(() => resolve({ failed: 'no result within 30 s' }), 30_000).unref()),
    ])) ?? null);
  } catch (e) {
    return { failed: (e as Error).message.split('\n')[0] };
  }
}

export async function main(args: string[] = []): Promise<number> {
  const only = process.env.DIFF_ONLY ?? args[0];
  const port = Number(process.env.PEER_MOSQUITTO_PORT ?? 2884);
  execFileSync('bash', [`${PEERS}/start-mosquitto.sh`], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 600_000 });
  const poly = await startPolybroker();
  const mosquitto: MqttTarget = { name: 'mosquitto', host: '127.0.0.1', port, prefix: '', stop: async () => undefined };
  const all = [...MQTTJS_SCENARIOS, ...MOSQUITTO_SCENARIOS, ...PAHO_SCENARIOS].filter((s) => !only || s.name.includes(only));
  let agree = 0;
  let differ = 0;
  let polyExpected = 0;
  const differences: string[] = [];
  console.log(`polybroker: ${poly.name}; peer: Mosquitto on 127.0.0.1:${port}\n`);
  try {
    for (const s of all) {
      const a = await observe(s, poly);
      const okPoly = isDeepStrictEqual(a, s.expected);
      if (okPoly) polyExpected++;
      if (s.restart || s.polybrokerOnly) {
        console.log(`${okPoly ? 'ok  ' : 'FAIL'} ${s.name} (polybroker only: ${s.restart ? 'restarts the broker' : 'the peer has no such listener'})\n      polybroker: ${compact(a)}`);
        continue;
      }
      const b = await observe(s, mosquitto);
      const same = isDeepStrictEqual(a, b);
      if (same) agree++;
      else {
        differ++;
        differences.push(s.name);
      }
      console.log(`${same ? 'same' : 'DIFF'} ${s.name}${okPoly ? '' : '  [polybroker differs from expected]'}`);
      if (!same) console.log(`      polybroker: ${compact(a)}\n      mosquitto:  ${compact(b)}`);
    }
  } finally {
    await poly.stop();
  }
  console.log(`\n${agree} scenarios agree, ${differ} differ; polybroker matched the expected observation in ${polyExpected}/${all.length}`);
  for (const d of differences) console.log(`  differs: ${d}`);
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
