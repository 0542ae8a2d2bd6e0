import { AMQPClient } from '@cloudamqp/amqp-client';
import { RawClient } from './raw-client.js';
import type { Scenario } from './scenario-kit.js';

/** Frame-level scenarios: the broker's answer to what stock clients never send. */
export const RAW_SCENARIOS: Scenario[] = [
  {
    name: 'protocol-header-mismatch',
    async run(ctx) {
      const c = await RawClient.connect(ctx.host, ctx.port);
      c.write(Buffer.from('AMQP\x00\x01\x00\x00', 'latin1'));
      await c.until(() => c.closed);
      ctx.log('reply', Buffer.concat(c.raw).toString('hex'));
      const h = await RawClient.connect(ctx.host, ctx.port);
      h.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      await h.until(() => h.closed);
      ctx.log('http-reply', Buffer.concat(h.raw).toString('hex'));
    },
  },
  {
    name: 'frame-errors',
    async run(ctx) {
      const big = await RawClient.connect(ctx.host, ctx.port);
      await big.handshake();
      // a method frame whose size field exceeds frame-max (131072)
      big.write(Buffer.from([1, 0, 0, 0, 0x10, 0, 0]));
      ctx.log('501 oversized frame', codeOnly(await big.closeReason()));
      const end = await RawClient.connect(ctx.host, ctx.port);
      await end.handshake();
      end.write(Buffer.from([8, 0, 0, 0, 0, 0, 0, 0x00]));
      ctx.log('501 bad frame end', codeOnly(await end.closeReason()));
      const ch = await RawClient.connect(ctx.host, ctx.port);
      await ch.handshake();
      ch.send(5, 'queue.declare', { queue: 'never' });
      ctx.log('504 method on unopened channel', codeOnly(await ch.closeReason()));
      const hdr = await RawClient.connect(ctx.host, ctx.port);
      await hdr.handshake();
      hdr.send(1, 'channel.open', {});
      await hdr.waitMethod('channel.open-ok');
      hdr.write(Buffer.from('030001000000026869ce', 'hex')); // a body frame with no publish before it
      ctx.log('505 body without publish', codeOnly(await hdr.closeReason()));
      const hdr2 = await RawClient.connect(ctx.host, ctx.port);
      await hdr2.handshake();
      hdr2.send(1, 'channel.open', {});
      await hdr2.waitMethod('channel.open-ok');
      hdr2.send(1, 'basic.publish', { routingKey: 'x' });
      hdr2.send(1, 'basic.qos', { prefetchCount: 1 }); // a method where the content header belongs
      ctx.log('505 method instead of content header', codeOnly(await hdr2.closeReason()));
      const syn = await RawClient.connect(ctx.host, ctx.port);
      await syn.handshake();
      syn.send(1, 'channel.open', {});
      await syn.waitMethod('channel.open-ok');
      // queue.declare whose arguments table holds a value of unknown type 'Z'
      const payload = Buffer.concat([Buffer.from('0032000a0000', 'hex'), Buffer.from([1, 0x71]), Buffer.from([0]), Buffer.from('00000003', 'hex'), Buffer.from([1, 0x6b, 0x5a])]);
      const frame = Buffer.concat([Buffer.from([1, 0, 1]), Buffer.from([0, 0, 0, payload.length]), payload, Buffer.from([0xce])]);
      syn.write(frame);
      ctx.log('502 unknown field type', codeOnly(await syn.closeReason()));
    },
  },
  {
    name: 'not-implemented',
    async run(ctx) {
      const client = new AMQPClient(`${ctx.url}`);
      const conn = await client.connect();
      const ch = await conn.channel();
      try {
        await ch.basicQos(10, 4096);
        ctx.log('540 prefetch-size: no error');
      } catch (e) {
        ctx.log('540 prefetch-size', String((e as Error).message).replace(/\s+/g, ' '));
      }
      await conn.close().catch(() => {});
    },
  },
  {
    name: 'heartbeat-timeout',
    async run(ctx) {
      const c = await RawClient.connect(ctx.host, ctx.port);
      await c.handshake(1);
      const started = Date.now();
      // We stay silent (no heartbeats): the broker must drop us after ~2 intervals.
      await c.until(() => c.closed, 10_000);
      const heartbeats = c.frames.filter((f) => f.type === 8).length;
      ctx.log('closed-silent-client', { withinSeconds: Math.ceil((Date.now() - started) / 1000) <= 5, sentHeartbeats: heartbeats > 0 });
    },
  },
];

function codeOnly(r: unknown): unknown {
  if (r && typeof r === 'object') {
    const o = r as { code: number; text: string };
    return { code: o.code, name: o.text.split(' - ')[0] };
  }
  return r;
}
