/**
 * Child process for durability.test.ts: sets up durable state on a real LogStore in `sync`
 * mode, prints what it has had confirmed, then keeps publishing (printing each confirm) until
 * the parent SIGKILLs it.
 *
 *   stdout lines:  READY <json>   after the fixed setup
 *                  C <id>         each further publish whose confirm resolved
 */
import { createCore, createMessage } from '../../src/core/index.js';
import { LogStore } from '../../storage/log-store.js';
import { encodeRecordBatch } from '../../storage/record-batch.js';

const dir = process.argv[2]!;
const store = new LogStore({ dir, segmentBytes: 1 << 20, durability: 'sync', intervalMs: 100 });
const core = createCore(store, { durability: 'sync', sweepIntervalMs: 0 });
await core.open();
const vh = core.vhost('/');
await vh.declareExchange('orders', { type: 'topic', durable: true });
await vh.declareQueue('work', { durable: true, arguments: { 'x-max-length': 100_000 } });
await vh.bindQueue('work', 'orders', 'order.#');
await vh.declareStream('events', { partitions: 2 });
const conn = core.connect({ vhost: '/', protocol: 'amqp', user: 'guest' });
const ch = conn.openChannel();

const publish = (id: string) => ch.publish('orders', 'order.new', createMessage(Buffer.from(id), { properties: { persistent: true } })).durable;
await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5'].map(publish));
// a1 acked, a2 and a3 delivered and left unacked, a4 and a5 never delivered.
ch.ack(ch.get('work')!.deliveryTag);
ch.get('work');
ch.get('work');
const p = vh.produce('events', 1, encodeRecordBatch({ records: [{ value: Buffer.from('e0') }, { value: Buffer.from('e1') }] }));
await p.durable;
await vh.commitOffset('group-1', 'events', 1, 1, 'meta-1');
// Acks and delivered marks are normally written without fsync at the end of the tick.
await core.flush();
process.stdout.write(`READY ${JSON.stringify({ pid: process.pid })}\n`);

let n = 0;
for (;;) {
  const id = `b${++n}`;
  await publish(id);
  process.stdout.write(`C ${id}\n`);
}
