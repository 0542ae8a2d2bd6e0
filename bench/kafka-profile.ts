import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../test/helpers/broker.js';
import { makeTestCerts } from '../test/helpers/certs.js';
import { RECORD_BYTES, recordFile, timed } from './kafka-tools.js';
import { printCpuProfileSummary, printCpuProfileTree } from './cpu-profile-summary.js';

/**
 * `node dist/bench/kafka-profile.js [--messages N] [--runs N] [--acks 1|all] [--codec none|lz4] [--tls] [--tree PCT] [--out DIR] [--perf]`:
 * produces with kcat into a broker and prints where the broker's CPU goes, in ms per MB produced.
 * Default: the broker runs under the V8 CPU profiler (main thread, JS functions by self time; the
 * profile file stays in DIR for DevTools). `--perf`: `perf record` samples every thread of the
 * broker process (libuv's fs threads, the kernel's TCP receive and page-cache copies, GC
 * helpers) with JIT symbols from --perf-basic-prof. A diagnosis tool for issue 8, not a
 * benchmark: the profiler itself costs some throughput. `--tls`: kcat produces over the SSL
 * listener (issue 12's weakest row). `--tree PCT`: also the V8 call tree (inclusive time), nodes
 * of at least PCT % of the samples.
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
const usePerf = args.includes('--perf');
const tls = args.includes('--tls');
const treePercent = args.includes('--tree') ? Number(arg('--tree', '1')) : null;
const top = Number(arg('--top', '40'));
const out = arg('--out', mkdtempSync(join(tmpdir(), 'pb-kafka-prof-')));
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'pb-kafka-prof-rec-'));
const records = recordFile(work, n);
// Node 20 refuses --cpu-prof in NODE_OPTIONS: a preload starts the inspector's profiler instead.
const hook = [new URL('../../bench/cpu-profile-hook.cjs', import.meta.url), new URL('./cpu-profile-hook.cjs', import.meta.url)].map((u) => fileURLToPath(u)).find((f) => existsSync(f))!;
const certs = tls ? makeTestCerts() : null;
const broker = await startBroker({
  ...(certs ? { config: { listeners: { kafkas: { enabled: true } }, tls: { cert: certs.serverCert, key: certs.serverKey } } } : {}),
  env: usePerf ? { NODE_OPTIONS: '--perf-basic-prof-only-functions' } : { NODE_OPTIONS: `--require ${hook}`, PB_PROF_DIR: out },
});
const perfData = join(out, 'perf.data');
const totalMb = (n * runs * RECORD_BYTES) / 1e6;
try {
  // SSL as bench/tls.ts: the test certificate is not verified.
  const target = tls ? ['-b', `127.0.0.1:${broker.ports.kafkas}`, '-X', 'security.protocol=ssl', '-X', 'enable.ssl.certificate.verification=false'] : ['-b', `127.0.0.1:${broker.ports.kafka}`];
  // A warm-up run outside the recording (JIT, first segment files).
  await timed('kcat', [...target, '-P', '-t', 'prof-warmup', '-l', '-X', `acks=${acks}`, '-z', codec, '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', records]);
  const perf = usePerf ? spawn('perf', ['record', '-q', '-F', '499', '-g', '-p', String(broker.pid), '-o', perfData], { stdio: 'inherit' }) : null;
  if (perf) await new Promise((r) => setTimeout(r, 500));
  const cpu0 = cpuSeconds(broker.pid);
  const main0 = cpuSeconds(broker.pid, broker.pid);
  for (let r = 0; r < runs; r++) {
    const t = await timed('kcat', [...target, '-P', '-t', `prof-${r}`, '-l', '-X', `acks=${acks}`, '-z', codec, '-X', 'linger.ms=5', '-X', 'queue.buffering.max.kbytes=1048576', records]);
    console.log(`run ${r + 1}: ${Math.round(n / t.seconds)} msgs/s, ${((n * RECORD_BYTES) / 1e6 / t.seconds).toFixed(0)} MB/s, kcat cpu ${t.cpu.toFixed(0)} %`);
  }
  const cpu = cpuSeconds(broker.pid) - cpu0;
  const main = cpuSeconds(broker.pid, broker.pid) - main0;
  // The main thread apart: the I/O threads' page-cache copies vary with the VM's memory, not with the code (docs/kafka.md).
  console.log(`broker process CPU (/proc): ${((cpu * 1000) / totalMb).toFixed(2)} ms per MB produced, all threads; main thread ${((main * 1000) / totalMb).toFixed(2)} ms per MB`);
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.on('close', r));
  }
} finally {
  await broker.stop();
  rmSync(work, { recursive: true, force: true });
}

if (usePerf) printPerfSummary(perfData, totalMb, top);
// The V8 profile covers the broker's whole life: start-up and the warm-up run too.
else {
  printCpuProfileSummary(out, top, (totalMb * (runs + 1)) / runs);
  if (treePercent !== null) printCpuProfileTree(out, treePercent, (totalMb * (runs + 1)) / runs);
}

/** utime + stime of every thread of `pid` (or of its thread `tid`), in seconds. */
function cpuSeconds(pid: number, tid?: number): number {
  const stat = spawnSync('cat', [tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`], { encoding: 'utf8' }).stdout;
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Self samples by thread kind and symbol, as ms of CPU per MB produced. */
function printPerfSummary(file: string, mb: number, count: number): void {
  const r = spawnSync('perf', ['report', '-i', file, '--no-children', '--stdio', '-g', 'none', '--sort', 'comm,dso,sym', '--percent-limit', '0.3', '-F', 'period,comm,dso,sym'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const rows: { ms: number; text: string }[] = [];
  let total = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    // cpu-clock periods are nanoseconds.
    const ms = Number(m[1]) / 1e6;
    total += ms;
    rows.push({ ms, text: m[2]!.replace(/\s+/g, ' ') });
  }
  const all = /Event count \(approx\.\): (\d+)/.exec(r.stdout);
  const allMs = all ? Number(all[1]) / 1e6 : total;
  console.log(`perf: ${(allMs / 1000).toFixed(2)} s of broker CPU sampled = ${(allMs / mb).toFixed(2)} ms per MB (rows below 0.3 % left out)`);
  rows.sort((a, b) => b.ms - a.ms);
  for (const row of rows.slice(0, count)) console.log(`${(row.ms / mb).toFixed(3).padStart(7)} ms/MB  ${row.text}`);
}
