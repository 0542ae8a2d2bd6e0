import { describe, expect, it } from 'vitest';
import { collector, msg, openCore, session, settle } from './fixture.js';

describe('core smoke', () => {
  it('publishes to a queue through the default exchange and delivers to a consumer', async () => {
    const f = await openCore();
    const { conn, ch } = session(f.core);
    await conn.vhost.declareQueue('q', { durable: true }, conn.id);
    const r = ch.publish('', 'q', msg('hello', { persistent: true }));
    expect(r.status).toBe('routed');
    await r.durable;
    const c = collector();
    ch.consume('q', { onDelivery: c.onDelivery });
    await settle();
    expect(c.bodies()).toEqual(['hello']);
    ch.ack(c.deliveries[0]!.deliveryTag);
    expect(conn.vhost.queue('q')!.messageCount).toBe(0);
    await f.close();
  });
});
