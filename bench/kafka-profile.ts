import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../test/helpers/broker.js';
import { RECORD_BYTES, recordFile, timed } from './kafka-tools.js';

/**
 * `node dist/bench/kafka-profile.js [--messages N] [--runs N] [--acks 1|all] [--codec none|lz4] [--out DIR]`:
 * produces with kcat into a broker started under `node --cpu-prof` and prints the top functions
 * by self time (the profile file stays in DIR for DevTools). A diagnosis tool for issue 8, not a
 * benchmark: the profiler itself costs some throughput.
 */
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const n = Number(arg('--messages', '200000'));
const runs = Number(arg('--runs', '3'));
const acks = arg('--acks', '1');
const codec = arg('--codec', 'none');
const out = arg('--out', mkdtempSync(join(tmpdir(), 'pb-kafka-prof-')));
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'pb-kafka-prof-rec-'));
const records = recordFile(work, n);
// Node 20 refuses --cpu-prof in NODE_OPTIONS: a preload starts the inspector's profiler instead.
const hook = [new URL('../../bench/cpu-profile-hook.cjs', import.meta.url), new URL('./cpu-profile-hook.cjs', import.meta.url)].map((u) => fileURLToPath(u)).find((f) => existsSync(f))!;
const broker = await startBroker({ env: { NODE_OPTIONS: `--require ${hook}`, PB_PROF_DIR: out } });
try {
  const bootstrap = `127.0.0.1:${broker.ports.kafka}`;
  for (let r = 0; r < runs; r++) {
    const t = await timed('kcat', ['-b', bootstrap, '-P', '-t', `prof-${r}`, '-l', '-X', `acks=${acks}`, '-z', codec, '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', records]);
    console.log(`run ${r + 1}: ${Math.round(n / t.seconds)} msgs/s, ${((n * RECORD_BYTES) / 1e6 / t.seconds).toFixed(0)} MB/s, kcat cpu ${t.cpu.toFixed(0)} %`);
  }
} finally {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
}

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
const file = readdirSync(out).filter((f) => f.endsWith('.cpuprofile')).sort().pop()!;
const prof = JSON.parse(readFileSync(join(out, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const self = new Map<number, number>();
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i] ?? 0));
const byFn = new Map<string, number>();
let total = 0;
for (const node of prof.nodes) {
  const us = self.get(node.id) ?? 0;
  total += us;
  const f = node.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '')}:${f.lineNumber + 1}`;
  byFn.set(key, (byFn.get(key) ?? 0) + us);
}
console.log(`profile ${join(out, file)}: ${(total / 1e6).toFixed(2)} s sampled`);
for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, Number(arg('--top', '40')))) {
  console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
}
