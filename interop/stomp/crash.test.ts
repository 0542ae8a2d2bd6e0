import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { collect, connectStompit, disconnect, sendWithReceipt } from './lib/stompit-client.js';
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
});
