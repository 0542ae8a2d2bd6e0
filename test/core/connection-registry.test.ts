import { describe, expect, it } from 'vitest';
import { collector, msg, openCore, settle } from './fixture.js';

describe('connection registry and message counts (management)', () => {
  it('lists open connections of every protocol with their client properties and counts', async () => {
    const f = await openCore();
    const amqp = f.core.connect({ vhost: '/', protocol: 'amqp', user: 'guest', clientId: 'app', remote: '127.0.0.1:5000', clientProperties: { product: 'amqplib' } });
    const mqtt = f.core.connect({ vhost: '/', protocol: 'mqtt', user: 'u', clientId: 'dev1' });
    await amqp.vhost.declareQueue('q', {});
    const ch = amqp.openChannel();
    ch.publish('', 'q', msg('a'));
    ch.publish('', 'q', msg('b'));
    const got = collector();
    const mch = mqtt.openChannel();
    mch.consume('q', { noAck: true, onDelivery: got.onDelivery });
    await settle();
    const list = f.core.connections();
    expect(list.map((c) => c.protocol).sort()).toEqual(['amqp', 'mqtt']);
    const a = list.find((c) => c.protocol === 'amqp')!;
    expect(a).toMatchObject({ user: 'guest', clientId: 'app', remote: '127.0.0.1:5000', clientProperties: { product: 'amqplib' }, channels: 1, published: 2, vhost: '/' });
    expect(list.find((c) => c.protocol === 'mqtt')).toMatchObject({ delivered: 2 });
    expect(f.core.messageTotals()).toMatchObject({ published: { amqp: 2 }, delivered: { mqtt: 2 } });
    expect(f.core.vhost('/').queue('q')!.stats).toEqual({ published: 2, delivered: 2, acked: 2, deadLettered: 0 });
  });

  it('closes a connection on request through the adapter hook', async () => {
    const f = await openCore();
    const reasons: string[] = [];
    const c = f.core.connect({ vhost: '/', protocol: 'stomp', onCloseRequest: (r) => reasons.push(r) });
    expect(await f.core.closeConnection(c.id, 'operator')).toBe(true);
    expect(reasons).toEqual(['operator']);
    expect(c.closed).toBe(true);
    expect(f.core.connections()).toEqual([]);
    expect(await f.core.closeConnection(c.id, 'again')).toBe(false);
  });
});
