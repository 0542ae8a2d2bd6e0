import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_HEADER } from '../../../protocols/amqp/codec/frame-parser.js';
import { RawClient } from '../../../interop/amqp/raw-client.js';
import { startAmqpServer, type AmqpServer } from './harness.js';

// RabbitMQ 3.10 refuses the channel past channel_max by counting open channels (530 NOT_ALLOWED,
// observed with pika); a channel number above channel_max stays a 504 here (spec §4.9).

async function connectWithChannelMax(server: AmqpServer, channelMax: number): Promise<RawClient> {
  const c = await RawClient.connect('127.0.0.1', server.port);
  c.write(PROTOCOL_HEADER);
  await c.waitMethod('connection.start');
  c.send(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' });
  await c.waitMethod('connection.tune');
  c.send(0, 'connection.tune-ok', { channelMax, frameMax: 131072, heartbeat: 0 });
  c.send(0, 'connection.open', { virtualHost: '/' });
  await c.waitMethod('connection.open-ok');
  return c;
}

describe('AMQP channel_max', () => {
  let server: AmqpServer;
  beforeAll(async () => {
    server = await startAmqpServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('opening one channel more than channel_max is 530 NOT_ALLOWED in RabbitMQ words', async () => {
    const c = await connectWithChannelMax(server, 2);
    for (const n of [1, 2]) {
      c.send(n, 'channel.open', {});
      await c.waitMethod('channel.open-ok');
    }
    c.send(3, 'channel.open', {});
    expect(await c.closeReason()).toMatchObject({ code: 530, text: 'NOT_ALLOWED - number of channels opened (2) has reached the negotiated channel_max (2)' });
    c.end();
  });

  it('a closed channel frees its place', async () => {
    const c = await connectWithChannelMax(server, 1);
    c.send(1, 'channel.open', {});
    await c.waitMethod('channel.open-ok');
    c.send(1, 'channel.close', { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 });
    await c.waitMethod('channel.close-ok');
    c.send(1, 'channel.open', {});
    await c.waitMethod('channel.open-ok');
    c.end();
  });
});
