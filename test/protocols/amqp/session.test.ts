import amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { table } from '../../../protocols/amqp/codec/field-table.js';
import { Writer } from '../../../protocols/amqp/codec/writer.js';
import { writeTable } from '../../../protocols/amqp/codec/field-table.js';
import { PROTOCOL_HEADER } from '../../../protocols/amqp/codec/frame-parser.js';
import { RawClient } from '../../../interop/amqp/raw-client.js';
import { startAmqpServer, type AmqpServer } from './harness.js';

const url = (s: AmqpServer, user = 'guest:guest', vhost = '') => `amqp://${user}@127.0.0.1:${s.port}${vhost}`;

function amqplainResponse(user: string, pass: string): Buffer {
  const w = new Writer(64);
  w.ensure(64);
  writeTable(w, table({ LOGIN: user, PASSWORD: pass }));
  return w.take().subarray(4); // AMQPLAIN: the table without its length prefix
}

describe('AMQP session', () => {
  let server: AmqpServer;
  beforeAll(async () => {
    server = await startAmqpServer({}, { auth: { failedLoginDelayMs: 0 } });
    await server.core.users.putUser('limited', { password: 'pw', permissions: { '/': { configure: '^lim-.*', write: '^lim-.*|amq\\.default', read: '^lim-.*' } } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('offers AMQPLAIN and PLAIN and logs in with AMQPLAIN', async () => {
    const c = await RawClient.connect('127.0.0.1', server.port);
    c.write(PROTOCOL_HEADER);
    const start = await c.waitMethod('connection.start');
    expect(String(start.args!.mechanisms)).toBe('AMQPLAIN PLAIN');
    const caps = (start.args!.serverProperties as Map<string, { value: Map<string, { value: boolean }> }>).get('capabilities')!.value;
    for (const k of ['publisher_confirms', 'exchange_exchange_bindings', 'basic.nack', 'consumer_cancel_notify', 'connection.blocked', 'consumer_priorities', 'authentication_failure_close', 'per_consumer_qos', 'direct_reply_to']) {
      expect(caps.get(k)?.value, k).toBe(true);
    }
    c.send(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'AMQPLAIN', response: amqplainResponse('guest', 'guest'), locale: 'en_US' });
    const tune = await c.waitMethod('connection.tune');
    expect(tune.args).toMatchObject({ channelMax: 2047, frameMax: 131072, heartbeat: 60 });
    c.end();
  });

  it('refuses a frame-max below 4096 in tune-ok with NOT_ALLOWED (530)', async () => {
    const c = await RawClient.connect('127.0.0.1', server.port);
    c.write(PROTOCOL_HEADER);
    await c.waitMethod('connection.start');
    c.send(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' });
    await c.waitMethod('connection.tune');
    c.send(0, 'connection.tune-ok', { channelMax: 10, frameMax: 1024, heartbeat: 0 });
    expect(await c.closeReason()).toMatchObject({ code: 530, text: 'NOT_ALLOWED - frame_max=1024 < 4096 min size' });
    c.end();
  });

  it('refuses a channel above the negotiated channel-max (CHANNEL_ERROR 504)', async () => {
    const c = await RawClient.connect('127.0.0.1', server.port);
    c.write(PROTOCOL_HEADER);
    await c.waitMethod('connection.start');
    c.send(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' });
    await c.waitMethod('connection.tune');
    c.send(0, 'connection.tune-ok', { channelMax: 2, frameMax: 131072, heartbeat: 0 });
    c.send(0, 'connection.open', { virtualHost: '/' });
    await c.waitMethod('connection.open-ok');
    c.send(3, 'channel.open', {});
    expect(await c.closeReason()).toMatchObject({ code: 504 });
    c.end();
  });

  it('answers update-secret with update-secret-ok and channel.flow with flow-ok', async () => {
    const c = await RawClient.connect('127.0.0.1', server.port);
    await c.handshake();
    c.send(0, 'connection.update-secret', { newSecret: Buffer.from('token'), reason: 'refresh' });
    await c.waitMethod('connection.update-secret-ok');
    c.send(1, 'channel.open', {});
    await c.waitMethod('channel.open-ok');
    c.send(1, 'channel.flow', { active: false });
    const ok = await c.waitMethod('channel.flow-ok');
    expect(ok.args!.active).toBe(false);
    c.end();
  });

  it('stops deliveries while channel.flow is off and resumes them when it is on again', async () => {
    const c = await RawClient.connect('127.0.0.1', server.port);
    await c.handshake();
    c.send(1, 'channel.open', {});
    await c.waitMethod('channel.open-ok');
    c.send(1, 'queue.declare', { queue: 'flow-q' });
    await c.waitMethod('queue.declare-ok');
    c.send(1, 'channel.flow', { active: false });
    await c.waitMethod('channel.flow-ok');
    c.send(1, 'basic.consume', { queue: 'flow-q', noAck: true });
    await c.waitMethod('basic.consume-ok');
    const pubConn = await amqp.connect(url(server));
    const pch = await pubConn.createConfirmChannel();
    pch.sendToQueue('flow-q', Buffer.from('held'));
    await pch.waitForConfirms();
    expect((await pch.checkQueue('flow-q')).messageCount).toBe(1);
    expect(c.frames.some((f) => f.method === 'basic.deliver')).toBe(false);
    c.send(1, 'channel.flow', { active: true });
    await c.waitMethod('basic.deliver');
    await pubConn.close();
    c.end();
  });

  it('sends connection.blocked/unblocked on resource alarms and holds publishes while blocked', async () => {
    const conn = await amqp.connect(url(server));
    const events: string[] = [];
    conn.on('blocked', (reason: string) => events.push(`blocked:${reason}`));
    const unblocked = new Promise<void>((r) => conn.on('unblocked', () => { events.push('unblocked'); r(); }));
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue('alarm-q', { durable: false });
    const blocked = new Promise<void>((r) => conn.once('blocked', () => r()));
    server.core.setAlarm('memory', true);
    // As RabbitMQ: the publish during the alarm blocks the connection and is answered by connection.blocked.
    ch.sendToQueue('alarm-q', Buffer.from('while blocked'));
    await blocked;
    expect(events).toEqual(['blocked:low on memory']);
    const confirmed = ch.waitForConfirms();
    server.core.setAlarm('memory', false);
    await unblocked;
    await confirmed;
    expect((await ch.checkQueue('alarm-q')).messageCount).toBe(1);
    await conn.close();
  });

  it('splits bodies larger than frame-max both ways (frame-max 4096)', async () => {
    const conn = await amqp.connect(`${url(server)}?frameMax=4096`);
    const ch = await conn.createChannel();
    await ch.assertQueue('big-q', { durable: false });
    const body = randomBytes(300_000);
    ch.sendToQueue('big-q', body);
    let m: amqp.GetMessage | false = false;
    while (!m) m = await ch.get('big-q', { noAck: true });
    expect(Buffer.compare(m.content, body)).toBe(0);
    await conn.close();
  });

  it('keeps other connections working when one sends garbage', async () => {
    const good = await amqp.connect(url(server));
    const ch = await good.createChannel();
    await ch.assertQueue('survivor', { durable: false });
    for (let i = 0; i < 20; i++) {
      const bad = await RawClient.connect('127.0.0.1', server.port);
      if (i % 2) await bad.handshake();
      bad.write(randomBytes(200 + i * 13));
      await bad.until(() => bad.closed || bad.frames.some((f) => f.method === 'connection.close'));
      bad.end();
    }
    ch.sendToQueue('survivor', Buffer.from('still here'));
    let m: amqp.GetMessage | false = false;
    while (!m) m = await ch.get('survivor', { noAck: true });
    expect(m.content.toString()).toBe('still here');
    await good.close();
  });

  it('enforces configured permissions (403 on resources, 530 on vhosts) and refuses wrong passwords', async () => {
    const conn = await amqp.connect(url(server, 'limited:pw'));
    conn.on('error', () => {});
    const ok = await conn.createChannel();
    await ok.assertQueue('lim-ok', { durable: false });
    const denied = await conn.createChannel();
    denied.on('error', () => {});
    await expect(denied.assertQueue('other-q', { durable: false })).rejects.toThrow(/403.*access to queue 'other-q' in vhost '\/' refused for user 'limited'/);
    const pub = await conn.createChannel();
    const closed = new Promise<string>((r) => pub.on('error', (e: Error) => r(e.message)));
    pub.publish('amq.topic', 'x', Buffer.from('no'));
    expect(await closed).toMatch(/403.*access to exchange 'amq.topic'/);
    await conn.close();
    await expect(amqp.connect(url(server, 'limited:pw', '/other'))).rejects.toThrow();
    await expect(amqp.connect(url(server, 'limited:wrong'))).rejects.toThrow(/ACCESS_REFUSED|403/);
  });

  it('releases everything a connection held when clients come and go (no leaks)', async () => {
    const before = server.core.vhost('/').connectionCount;
    for (let i = 0; i < 50; i++) {
      const c = await amqp.connect(url(server));
      const ch = await c.createChannel();
      await ch.assertQueue('', { exclusive: true });
      await ch.consume('amq.rabbitmq.reply-to', () => {}, { noAck: true });
      if (i % 2) await c.close();
      else (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    }
    const deadline = Date.now() + 5000;
    while (server.core.vhost('/').connectionCount !== before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(server.core.vhost('/').connectionCount).toBe(before);
    expect(server.core.vhost('/').queues().filter((q) => q.exclusive)).toEqual([]);
  });

  it('sends heartbeats when negotiated', async () => {
    const c = await RawClient.connect('127.0.0.1', server.port);
    await c.handshake(1);
    await c.until(() => c.frames.some((f) => f.type === 8), 5000);
    c.end();
  });
});
