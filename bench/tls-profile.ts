import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBroker } from '../test/helpers/broker.js';
import { makeTestCerts } from '../test/helpers/certs.js';
import { generate, type Workload } from './amqp-load.js';
import { printCpuProfileSummary } from './cpu-profile-summary.js';

/**
 * `node dist/bench/tls-profile.js [--tls] [--workload confirms|transient] [--ahead N] [--flow-backlog N] [--seconds N] [--out DIR] [--top N]`:
 * runs the raw AMQP generator against a broker started under the CPU profiler, over the plain
 * or the TLS listener, and prints the top functions by self time. Run it once plain and once
 * with --tls to see what TLS adds (issue 12). A diagnosis tool, not a benchmark.
 * PB_EXTRA_NODE_OPTIONS adds node options to the broker (e.g. `--require <gc observer>`).
 */
const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1]! : dflt;
};
const tls = args.includes('--tls');
const workload = arg('--workload', 'confirms') as Workload;
const seconds = Number(arg('--seconds', '8'));
const out = arg('--out', mkdtempSync(join(tmpdir(), 'pb-tls-prof-')));
mkdirSync(out, { recursive: true });
const hook = [new URL('../../bench/cpu-profile-hook.cjs', import.meta.url), new URL('./cpu-profile-hook.cjs', import.meta.url)].map((u) => fileURLToPath(u)).find((f) => existsSync(f))!;
const certs = makeTestCerts();
const broker = await startBroker({
  config: {
    listeners: { amqps: { enabled: true } },
    tls: { cert: certs.serverCert, key: certs.serverKey },
    ...(args.includes('--flow-backlog') ? { limits: { flowControlBacklog: Number(arg('--flow-backlog', '2000')) } } : {}),
  },
  env: { NODE_OPTIONS: `--require ${hook} ${process.env.PB_EXTRA_NODE_OPTIONS ?? ''}`, PB_PROF_DIR: out },
});
try {
  const ahead = args.includes('--ahead') ? Number(arg('--ahead', '20000')) : undefined;
  const r = await generate({ port: tls ? broker.ports.amqps : broker.ports.amqp, workload, seconds, warmupSeconds: 1, client: 'raw', tls, ...(ahead === undefined ? {} : { ahead }) });
  console.log(`${tls ? 'TLS' : 'plain'} ${workload}: ${Math.round(r.delivered / r.seconds)} msgs/s delivered, ${Math.round(r.published / r.seconds)} published`);
} finally {
  await broker.stop();
}

printCpuProfileSummary(out, Number(arg('--top', '30')));
