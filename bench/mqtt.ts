/**
 * `npm run bench -- mqtt [--runs N] [quick] [rows=1,3] [peers=polybroker,mosquitto,aedes] [no-memory] [no-stock]`: MQTT throughput and idle-connection memory of
 * polybroker beside Mosquitto 2.0 and Aedes 1.x (../shared/peers), in one invocation, with the
 * same lean generator (bench/mqtt-load.ts, its own process; its CPU is printed beside the
 * broker's) and once with the stock mqtt.js client (bench/mqtt-stock.ts).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Harness } from './harness.js';
import { PEER_PORTS, pidListeningOn, startPeer } from './peers.js';
import type { IdleSpec, PubSubResult, PubSubSpec } from './mqtt-load.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Target {
  name: string;
  port: number;
  pid: number | undefined;
  /** A fresh broker process (same port for peers; polybroker keeps its data dir). */
  restart(): Promise<void>;
}

/** Resolves once nothing accepts connections on `port` (a stopped peer is really gone). */
async function portClosed(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (!open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops a peer (if running) and starts a fresh process; resolves with its pid. */
async function freshPeer(name: 'mosquitto' | 'aedes', port: number): Promise<number | undefined> {
  await (await startPeer(name)).stop();
  await portClosed(port);
  const p = await startPeer(name);
  for (let i = 0; i < 50 && !p.pid; i++) {
    await new Promise((r) => setTimeout(r, 100));
    p.pid = pidListeningOn(port);
  }
  return p.pid;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Row {
  name: string;
  qos: 0 | 1;
  publishers: number;
  subscribers: number;
  messages: number;
  persistent?: boolean;
}

/**
 * Runs a node script of this directory with a JSON argument; resolves with its last stdout line
 * parsed. `onPhase` hears its `phase <name>` lines as they come.
 */
function runNode<T>(script: string, arg: unknown, onPhase?: (phase: string) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, script), JSON.stringify(arg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      const from = out.length;
      out += d;
      if (!onPhase) return;
      // Whole lines only: a chunk may end inside one.
      const lineStart = out.lastIndexOf('\n', from - 1) + 1;
      const lineEnd = out.lastIndexOf('\n');
      if (lineEnd < lineStart) return;
      for (const line of out.slice(lineStart, lineEnd).split('\n')) if (line.startsWith('phase ')) onPhase(line.slice(6));
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}: ${err.slice(-500)}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch {
        reject(new Error(`${script} printed no result: ${err.slice(-300)}`));
      }
    });
  });
}

/**
 * Time the broker's main thread was ready to run but waited for a CPU (/proc/<pid>/schedstat,
 * second field, ns): on the shared 2-core machine a low broker cpu with a high wait is
 * contention from other processes, not the broker waiting on I/O or timers.
 */
function runQueueWait(pid: number): { waitMs: number; at: number } | undefined {
  try {
    return { waitMs: Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6, at: performance.now() };
  } catch {
    return undefined;
  }
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Seconds the broker is left idle after each half before its resident size is read. */
const SETTLE_SECONDS = 30;

/**
 * Opens `n` idle connections from a generator process in two halves; the broker's RSS growth
 * over the second half, per connection, is the marginal memory of an idle connection.
 *
 * Each reading is taken once the broker has been idle for SETTLE_SECONDS, the same for every
 * peer. A Node broker (polybroker, Aedes) grows its young generation during the connect
 * burst and gives it back only when V8's memory reducer runs, 10-25 s after allocation stops
 * (measured: RSS flat for ~20 s, then 20-40 MB lower); a reading 3 s after the burst lands on
 * either side of that at random, and the difference of two such readings measures the garbage
 * collector's timing, not the connections. Mosquitto's RSS is flat either way. The reading
 * 3 s after the burst is kept as a second figure, for comparison with earlier runs.
 */
async function idleMemory(t: Target, n: number): Promise<{ settled: number; early: number }> {
  if (!t.pid) throw new Error(`no pid for ${t.name}`);
  const pid = t.pid;
  const spec: IdleSpec = { mode: 'idle', host: '127.0.0.1', port: t.port, connections: n };
  const child = spawn(process.execPath, [join(here, 'mqtt-load.js'), JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  let waiter: (() => void) | null = null;
  child.stderr.on('data', (d) => (err += d));
  child.stdout.on('data', (d) => { out += d; waiter?.(); });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  const connected = async (count: number) => {
    while (!out.includes(`"connected":${count}}`)) {
      const done = await Promise.race([new Promise<'data'>((r) => { waiter = () => r('data'); }), exited.then(() => 'exit' as const)]);
      if (done === 'exit') throw new Error(`idle generator exited: ${err.slice(-300)}`);
    }
    await new Promise((r) => setTimeout(r, 3000));
    const early = rssBytes(pid);
    await new Promise((r) => setTimeout(r, (SETTLE_SECONDS - 3) * 1000));
    return { early, settled: rssBytes(pid) };
  };
  const half = Math.floor(n / 2);
  const first = await connected(half);
  child.stdin.write('next\n');
  const second = await connected(n);
  child.stdin.end();
  await exited;
  return { settled: (second.settled - first.settled) / (n - half), early: (second.early - first.early) / (n - half) };
}

/** Runs one measurement; a failure becomes a note instead of ending the whole bench. */
async function guarded(h: Harness, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    h.note(`${what}: failed (${(e as Error).message.split('\n')[0]})`);
  }
}

export async function run(h: Harness): Promise<void> {
  const quick = h.args.includes('quick');
  const scale = quick ? 0.2 : 1;
  const allRows: Row[] = [
    { name: 'QoS 0, 1 pub -> 1 sub', qos: 0, publishers: 1, subscribers: 1, messages: 200_000 },
    { name: 'QoS 1, 1 pub -> 1 sub', qos: 1, publishers: 1, subscribers: 1, messages: 60_000 },
    { name: 'QoS 0, 100 pubs -> 1 sub', qos: 0, publishers: 100, subscribers: 1, messages: 2_000 },
    { name: 'QoS 1, 100 pubs -> 1 sub', qos: 1, publishers: 100, subscribers: 1, messages: 2_000 },
    { name: 'QoS 0, 1 pub -> 100 subs (deliveries/s)', qos: 0, publishers: 1, subscribers: 100, messages: 2_000 },
    { name: 'QoS 1, 1 pub -> 100 subs (deliveries/s)', qos: 1, publishers: 1, subscribers: 100, messages: 1_500 },
    { name: 'QoS 1 to a persistent session (sync durability)', qos: 1, publishers: 1, subscribers: 1, messages: 30_000, persistent: true },
  ];
  const rowsArg = h.args.find((a) => a.startsWith('rows='));
  const picked = rowsArg ? new Set(rowsArg.slice(5).split(',').map(Number)) : null;
  const rows = picked ? allRows.filter((_, i) => picked.has(i + 1)) : allRows;

  const broker = await h.startBroker({ config: { storage: { durability: 'sync' }, mqtt: { sysIntervalMs: 0 } } });
  const targets: Target[] = [];
  const poly: Target = {
    name: 'polybroker', port: broker.ports.mqtt, pid: broker.pid,
    async restart() {
      await broker.restart();
      poly.port = broker.ports.mqtt;
      poly.pid = broker.pid;
    },
  };
  targets.push(poly);
  const peersArg = h.args.find((a) => a.startsWith('peers='));
  const peers = peersArg ? peersArg.slice(6).split(',') : ['polybroker', 'mosquitto', 'aedes'];
  for (const peer of (['mosquitto', 'aedes'] as const).filter((p) => peers.includes(p))) {
    try {
      // A fresh process: one that served earlier runs reuses freed memory and hides the idle-connection cost.
      const port = PEER_PORTS[peer].mqtt!;
      await freshPeer(peer, port);
      const p = await h.startPeer(peer);
      const t: Target = {
        name: peer, port, pid: p.pid ?? pidListeningOn(port),
        async restart() {
          t.pid = await freshPeer(peer, port);
        },
      };
      targets.push(t);
    } catch (e) {
      h.note(`${peer} left out: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  // Memory first, on fresh brokers: after the throughput rows, allocators reuse freed memory and hide growth.
  const connections = quick ? 2_000 : 10_000;
  const measured = targets.filter((t) => peers.includes(t.name));
  for (const t of h.args.includes('no-memory') ? [] : measured) {
    // Each run on a fresh process: a process that held connections before reuses that memory.
    await guarded(h, `${t.name} · idle memory`, () => h.measure(`memory per idle connection (${connections} connections)`, async () => {
      await t.restart();
      const m = await idleMemory(t, connections);
      return { 'bytes/conn': m.settled, [`bytes/conn 3 s after`]: m.early };
    }, { subject: t.name, units: 'B', runs: 3 }));
  }

  for (const row of rows) {
    for (const t of measured) {
      await guarded(h, `${t.name} · ${row.name}`, () => h.measure(row.name, async () => {
        if (!alive(t.pid)) {
          // Aedes 1.x dies with a stack overflow under 100 QoS 0 publishers: start it again for the next rows.
          h.note(`${t.name} was not running before a run of "${row.name}": restarted`);
          await t.restart();
        }
        const spec: PubSubSpec = {
          mode: 'pubsub', host: '127.0.0.1', port: t.port, qos: row.qos, publishers: row.publishers,
          subscribers: row.subscribers, messages: Math.max(1, Math.round(row.messages * scale)), payloadBytes: 100,
          persistent: row.persistent ?? false, window: 1000, topic: `bench/${row.qos}/${Date.now().toString(36)}`, phases: true,
        };
        const cpu = t.pid ? h.meterCpu(t.pid) : null;
        // Over the measured part only: connecting 100 subscribers of a 1 s row is not the row.
        let brokerCpu = NaN;
        let cpuWait = NaN;
        let waitStart: { waitMs: number; at: number } | undefined;
        const r = await runNode<PubSubResult>('mqtt-load.js', spec, (phase) => {
          if (phase === 'measuring') {
            cpu?.reset();
            waitStart = t.pid ? runQueueWait(t.pid) : undefined;
          } else if (phase === 'measured' && cpu) {
            brokerCpu = cpu.read();
            const end = waitStart && runQueueWait(t.pid!);
            if (waitStart && end) cpuWait = ((end.waitMs - waitStart.waitMs) / (end.at - waitStart.at)) * 100;
          }
        });
        if (Number.isNaN(brokerCpu) && cpu) brokerCpu = cpu.read();
        if (r.delivered < r.expected) h.note(`${t.name} · ${row.name}: ${r.expected - r.delivered} of ${r.expected} not delivered within 30 s`);
        return { 'msgs/s': r.deliveriesPerSecond, 'gen cpu': r.genCpuPercent, 'broker cpu': brokerCpu, 'broker cpu wait': Number.isNaN(cpuWait) ? undefined : cpuWait };
      }, { subject: t.name, units: { 'msgs/s': 'msgs/s', 'gen cpu': '%', 'broker cpu': '%', 'broker cpu wait': '%' }, warmupRuns: 1 }));
    }
  }

  for (const t of h.args.includes('no-stock') ? [] : measured) {
    await guarded(h, `${t.name} · stock client`, () => h.measure('stock mqtt.js client, QoS 1, 1 -> 1', async () => {
      if (!alive(t.pid)) await t.restart();
      const cpu = t.pid ? h.meterCpu(t.pid) : null;
      const r = await runNode<{ deliveriesPerSecond: number; genCpuPercent: number }>('mqtt-stock.js', {
        host: '127.0.0.1', port: t.port, qos: 1, messages: Math.round(20_000 * scale), payloadBytes: 100,
      });
      return { 'msgs/s': r.deliveriesPerSecond, 'gen cpu': r.genCpuPercent, 'broker cpu': cpu ? cpu.read() : NaN };
    }, { subject: t.name, units: { 'msgs/s': 'msgs/s', 'gen cpu': '%', 'broker cpu': '%' } }));
  }

  h.note(`memory per idle connection: RSS growth over the second half of the connections, read after the broker was idle ${SETTLE_SECONDS} s (bytes/conn) and, as before, 3 s after the last connect (bytes/conn 3 s after: depends on when the garbage collector last ran).`);
  h.note('100,000 idle connections not measured: the file descriptor limit here is 20,000 per process (ulimit -Hn).');
  h.note('gen cpu = the load generator process (100 % = one core); broker cpu = the broker process, both over the measured part of a row; broker cpu wait = share of that time the broker\'s main thread was runnable but waited for a core (other processes on the machine).');
}
