import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPolybroker, type RunningTarget } from './lib/polybroker.js';
import { collect, connectStompit, disconnect, frameWithReceipt, sendWithReceipt } from './lib/stompit-client.js';
import { runStomppy } from './scenarios/stomppy.js';

/** Durability across a broker restart, driven by stompit. */
let broker: RunningTarget;
beforeAll(async () => {
  broker = await startPolybroker();
});
afterAll(async () => {
  await broker?.stop();
});

describe('across a broker restart', () => {
  it('keeps a durable topic subscription and the persistent messages sent to it while away', async () => {
    const t = broker.target;
    const sub = { destination: '/topic/restart.orders', id: 'orders-audit', durable: 'true', 'auto-delete': 'false', ack: 'client-individual' };
    const a = await connectStompit(t);
    await frameWithReceipt(a.client, 'SUBSCRIBE', sub);
    await disconnect(a);
    const b = await connectStompit(t);
    await sendWithReceipt(b.client, { destination: '/topic/restart.orders', persistent: 'true' }, 'order-1');
    await sendWithReceipt(b.client, { destination: '/queue/restart.plain', persistent: 'true' }, 'queued-1');
    await disconnect(b);

    await t.restart!();

    const c = await connectStompit(t);
    const durable = collect(c.client, { ...sub }, (m) => c.client.ack(m));
    const queued = collect(c.client, { destination: '/queue/restart.plain', id: 'q' });
    expect((await durable.next(1)).map((m) => m.body.toString())).toEqual(['order-1']);
    expect((await queued.next(1)).map((m) => m.body.toString())).toEqual(['queued-1']);
    await disconnect(c);
  });

  it('serves stomp.py again after the restart', async () => {
    expect(await runStomppy('transactions', '1.2', broker.target)).toEqual(['committed-1', 'committed-2', 'after']);
  });
});
