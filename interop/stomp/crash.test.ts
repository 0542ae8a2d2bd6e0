import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { collect, connectStompit, disconnect, frameWithReceipt, sendWithReceipt } from './lib/stompit-client.js';
import type { StompTarget } from './lib/target.js';

/**
 * RECEIPT means durable: every persistent SEND that got its RECEIPT is there after a SIGKILL
 * (the broker's default durability is `sync`: fsync before the receipt).
 */
let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

const target = (): StompTarget => ({ name: 'polybroker', host: '127.0.0.1', port: broker.ports.stomp, vhost: '/', login: 'guest', passcode: 'guest' });

describe('SIGKILL after RECEIPT', () => {
  it('keeps every persistent message whose RECEIPT arrived', async () => {
    const c = await connectStompit(target());
    const sent: string[] = [];
    // Receipts for all of them, pipelined: they arrive as their group commits are fsynced.
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        sent.push(`m${i}`);
        return sendWithReceipt(c.client, { destination: '/queue/crash.receipts', persistent: 'true' }, `m${i}`);
      }),
    );
    await broker.kill();
    await broker.restart();
    const d = await connectStompit(target());
    const sub = collect(d.client, { destination: '/queue/crash.receipts', ack: 'client-individual' }, (m) => d.client.ack(m));
    const got = await sub.next(300);
    expect(got.map((m) => m.body.toString())).toEqual(sent);
    await disconnect(d);
  });

  it('does not redeliver messages whose ACK got its RECEIPT', async () => {
    const c = await connectStompit(target());
    for (let i = 0; i < 20; i++) await sendWithReceipt(c.client, { destination: '/queue/crash.acks', persistent: 'true' }, `a${i}`);
    const sub = collect(c.client, { destination: '/queue/crash.acks', ack: 'client-individual', 'prefetch-count': '20' });
    const got = await sub.next(20);
    // ACK the first ten with receipts (1.2: the `ack` header of each MESSAGE), then kill.
    await Promise.all(got.slice(0, 10).map((m) => frameWithReceipt(c.client, 'ACK', { id: m.headers.ack! })));
    await broker.kill();
    await broker.restart();
    const d = await connectStompit(target());
    const again = collect(d.client, { destination: '/queue/crash.acks', ack: 'client-individual' }, (m) => d.client.ack(m));
    const rest = await again.next(10);
    expect(rest.map((m) => m.body.toString())).toEqual(got.slice(10).map((m) => m.body.toString()));
    // Nothing beyond the ten unacked ones: a probe sent after them is the next message seen.
    await sendWithReceipt(d.client, { destination: '/queue/crash.acks', persistent: 'true' }, 'probe');
    expect((await again.next(11))[10]!.body.toString()).toBe('probe');
    await disconnect(d);
  });
});
