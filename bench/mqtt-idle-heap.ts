/**
 * `node --expose-gc dist/bench/mqtt-idle-heap.js [connections]`: what an idle MQTT connection
 * keeps in the broker's heap, by constructor (heap snapshots before and after a second batch
 * of idle connections from bench/mqtt-load.ts, after full GCs). A diagnosis tool for issue 6
 * beside the bench's RSS figure: it runs the adapter in this process on a memory store.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { pino } from 'pino';
import { createCore } from '../src/core/index.js';
import { MqttAdapter } from '../protocols/mqtt/adapter.js';
import { MemoryStore } from '../test/core/memory-store.js';

const here = dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] ?? 4000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

interface Snapshot { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] }

function bytesByName(): Map<string, number> {
  const chunks: Buffer[] = [];
  const stream = v8.getHeapSnapshot();
  return new Promise<Map<string, number>>((resolve) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const snap = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Snapshot;
      const f = snap.snapshot.meta.node_fields;
      const width = f.length;
      const iType = f.indexOf('type');
      const iName = f.indexOf('name');
      const iSize = f.indexOf('self_size');
      const types = snap.snapshot.meta.node_types[0];
      const out = new Map<string, number>();
      for (let i = 0; i < snap.nodes.length; i += width) {
        const type = types[snap.nodes[i + iType]!]!;
        const name = type === 'object' || type === 'closure' || type === 'native' || type === 'object shape' || type === 'array' ? `${type}:${snap.strings[snap.nodes[i + iName]!]}` : `(${type})`;
        out.set(name, (out.get(name) ?? 0) + snap.nodes[i + iSize]!);
      }
      resolve(out);
    });
  }) as unknown as Map<string, number>;
}

const core = createCore(new MemoryStore(), { sweepIntervalMs: 0, alarmCheckIntervalMs: 0 });
await core.open();
const adapter = new MqttAdapter(core, { log: pino({ level: 'silent' }) }, { sysIntervalMs: 0 });
await adapter.ready;
const server = net.createServer((s) => adapter.accept(s, { listener: 'mqtt', remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0, localPort: s.localPort ?? 0, tls: false }));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as net.AddressInfo).port;
const child = spawn(process.execPath, [join(here, 'mqtt-load.js'), JSON.stringify({ mode: 'idle', host: '127.0.0.1', port, connections: 2 * n })], { stdio: ['pipe', 'pipe', 'inherit'] });
let out = '';
let wake: (() => void) | null = null;
child.stdout.on('data', (d) => { out += d; wake?.(); });
async function connected(count: number) {
  while (!out.includes(`"connected":${count}}`)) await new Promise<void>((r) => { wake = r; });
  for (let i = 0; i < 3; i++) { gc!(); await new Promise((r) => setTimeout(r, 100)); }
  const mem = process.memoryUsage();
  return { mem, names: await bytesByName() };
}
const a = await connected(n);
child.stdin.write('next\n');
const b = await connected(2 * n);
const per = (x: number, y: number) => ((y - x) / n).toFixed(0);
console.log(`per connection: heapUsed ${per(a.mem.heapUsed, b.mem.heapUsed)} B, external ${per(a.mem.external, b.mem.external)} B, arrayBuffers ${per(a.mem.arrayBuffers, b.mem.arrayBuffers)} B, rss ${per(a.mem.rss, b.mem.rss)} B`);
const rows = [...b.names].map(([k, v]) => [k, (v - (a.names.get(k) ?? 0)) / n] as const).filter(([, v]) => Math.abs(v) >= 8).sort((x, y) => y[1] - x[1]);
let total = 0;
for (const [k, v] of rows) { total += v; console.log(`${v.toFixed(0).padStart(6)} B  ${k}`); }
console.log(`${total.toFixed(0).padStart(6)} B  total (snapshot self sizes)`);
child.stdin.end();
await new Promise((r) => child.on('close', r));
await adapter.close();
server.close();
await core.close();
process.exit(0);
