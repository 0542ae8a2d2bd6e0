import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../test/helpers/broker.js';
import { RECORD_BYTES, recordFile, timed } from './kafka-tools.js';
import { printCpuProfileSummary } from './cpu-profile-summary.js';

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

printCpuProfileSummary(out, Number(arg('--top', '40')));
