/**
 * Child process for delay-crash.test.ts, SIGKILLed by the parent mid-way. On a real LogStore
 * in `sync` mode:
 *
 *   delays <dir> <n>   publishes n persistent messages delayed 300..1800 ms to queue 'due',
 *                      printing `C <id>` per confirm, then `Q <depth>` every 10 ms while they fall due;
 *   redrive <dir> <n>  fills 'dlq' with n dead letters of queue 'work' (printing READY once all
 *                      are confirmed), then redrives them 200 at a time, printing `M <moved>`;
 *   redrive-all <dir> <n>  the same fill, then one redrive of every message; at its first move
 *                      (an append with a marker target) it prints MOVING and freezes before the
 *                      commit log writes anything, to be killed there.
 */
import { createCore, createMessage } from '../../src/core/index.js';
import { LogStore } from '../../storage/log-store.js';

const [mode, dir, nArg] = process.argv.slice(2) as [string, string, string];
const n = Number(nArg);
const store = new LogStore({ dir, segmentBytes: 1 << 20, durability: 'sync', intervalMs: 100 });
const core = createCore(store, { durability: 'sync', sweepIntervalMs: 0 });
await core.open();
const vh = core.vhost('/');
const ch = core.connect({ vhost: '/', protocol: 'amqp', user: 'guest' }).openChannel();
const out = (line: string) => process.stdout.write(line + '\n');

if (mode === 'delays') {
  await vh.declareQueue('due', { durable: true });
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const id = `d${i}`;
    const r = ch.publish('', 'due', createMessage(Buffer.from(id), { properties: { persistent: true } }), { delayMs: 300 + Math.floor((1500 * i) / n) });
    all.push(r.durable.then(() => out(`C ${id}`)));
  }
  await Promise.all(all);
  setInterval(() => out(`Q ${vh.queue('due')!.messageCount}`), 10);
} else if (mode === 'redrive-all') {
  await vh.declareQueue('work', { durable: true });
  await vh.declareQueue('dlq', { durable: true });
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const m = createMessage(Buffer.from(`r${i}`), { properties: { persistent: true }, headers: [{ name: 'x-first-death-queue', value: 'work' }] });
    all.push(ch.publish('', 'dlq', m).durable);
  }
  await Promise.all(all);
  out('READY');
  const append = store.append.bind(store);
  let frozen = false;
  store.append = (req) => {
    const r = append(req);
    if (!frozen && req.targets.length > 1) {
      frozen = true;
      out('MOVING');
      // The process stops here, its moves still in memory, until the parent kills it.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
    }
    return r;
  };
  await vh.redrive('dlq');
  out('DONE');
} else {
  await vh.declareQueue('work', { durable: true });
  await vh.declareQueue('dlq', { durable: true });
  const all: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const m = createMessage(Buffer.from(`r${i}`), { properties: { persistent: true }, headers: [{ name: 'x-first-death-queue', value: 'work' }] });
    all.push(ch.publish('', 'dlq', m).durable);
  }
  await Promise.all(all);
  out('READY');
  for (;;) {
    const r = await vh.redrive('dlq', { limit: 200 });
    out(`M ${r.moved}`);
    if (r.moved === 0) break;
  }
  out('DONE');
}
