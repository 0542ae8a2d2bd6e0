import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../test/helpers/broker.js';
import { printCpuProfileSummary } from './cpu-profile-summary.js';
import type { PubSubResult, PubSubSpec } from './mqtt-load.js';

/**
 * `node dist/bench/mqtt-profile.js [--qos 0|1] [--pubs N] [--subs N] [--messages N] [--persistent] [--runs N] [--out DIR]`:
 * drives a broker started under the CPU profiler with the lean generator (bench/mqtt-load.ts)
 * and prints the top functions by self time. A diagnosis tool for issue 6, not a benchmark:
 * the profiler itself costs some throughput.
 */
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const qos = Number(arg('--qos', '0')) as 0 | 1;
const runs = Number(arg('--runs', '3'));
const out = arg('--out', mkdtempSync(join(tmpdir(), 'pb-mqtt-prof-')));
mkdirSync(out, { recursive: true });
const here = fileURLToPath(new URL('.', import.meta.url));
// Node 20 refuses --cpu-prof in NODE_OPTIONS: a preload starts the inspector's profiler instead.
const hook = [new URL('../../bench/cpu-profile-hook.cjs', import.meta.url), new URL('./cpu-profile-hook.cjs', import.meta.url)].map((u) => fileURLToPath(u)).find((f) => existsSync(f))!;
const broker = await startBroker({
  config: { storage: { durability: 'sync' }, mqtt: { sysIntervalMs: 0 } },
  env: { NODE_OPTIONS: `--require ${hook}`, PB_PROF_DIR: out },
});

function generate(spec: PubSubSpec): Promise<PubSubResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'mqtt-load.js'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(text.trim().split('\n').pop()!) as PubSubResult) : reject(new Error(`generator exited ${code}`))));
  });
}

try {
  for (let r = 0; r < runs; r++) {
    const res = await generate({
      mode: 'pubsub', host: '127.0.0.1', port: broker.ports.mqtt, qos, publishers: Number(arg('--pubs', '1')), subscribers: Number(arg('--subs', '1')),
      messages: Number(arg('--messages', '200000')), payloadBytes: 100, persistent: args.includes('--persistent'), window: 1000, topic: `prof/${r}`,
    });
    console.log(`run ${r + 1}: ${Math.round(res.deliveriesPerSecond)} deliveries/s, generator cpu ${res.genCpuPercent.toFixed(0)} %`);
  }
} finally {
  await broker.stop();
}

printCpuProfileSummary(out, Number(arg('--top', '40')));
