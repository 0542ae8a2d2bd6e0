/**
 * Retry with backoff and dead-letter queues through stock clients: a negative ack from each
 * protocol (AMQP basic.nack requeue=false, STOMP NACK, MQTT 5 PUBACK reason 0x80) becomes a
 * delayed redelivery at the next x-retry-delays level; past x-max-retries the message is
 * dead-lettered with x-death and x-retry-count, readable from AMQP, STOMP and MQTT 5.
 * Timing is checked one way only: a retry never comes before its delay.
 */
import amqp from 'amqplib';
import mqtt from 'mqtt';
import stompit from 'stompit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';

let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker({
    config: {
      vhosts: {
        '/': {
          // MQTT session queues get their retry settings from a policy.
          policies: [{ name: 'mqtt-retry', pattern: '^mqtt\\.session\\.retry-', applyTo: 'queues', definition: { 'retry-delays': '300ms', 'max-retries': 1, 'dead-letter-exchange': 'dlx-mqtt' } }],
          exchanges: [{ name: 'dlx-mqtt', type: 'fanout' }],
          queues: [{ name: 'dlq-mqtt', durable: true }],
          bindings: [{ source: 'dlx-mqtt', destination: 'dlq-mqtt', routingKey: '' }],
        },
      },
    },
  });
});
afterAll(async () => {
  await broker?.stop();
});

const amqpUrl = () => `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`;

async function declareRetryQueue(ch: amqp.Channel, q: string, delays: string, maxRetries: number): Promise<void> {
  await ch.assertExchange(`${q}.dlx`, 'fanout', { durable: true });
  await ch.assertQueue(`${q}.dlq`, { durable: true });
  await ch.bindQueue(`${q}.dlq`, `${q}.dlx`, '');
  await ch.assertQueue(q, { durable: true, arguments: { 'x-retry-delays': delays, 'x-max-retries': maxRetries, 'x-dead-letter-exchange': `${q}.dlx` } });
}

function stompConnect(): Promise<stompit.Client> {
  return new Promise((resolve, reject) =>
    stompit.connect({ host: '127.0.0.1', port: broker.ports.stomp, connectHeaders: { host: '/', login: 'guest', passcode: 'guest', 'accept-version': '1.2' } }, (err, c) => (err ? reject(err) : resolve(c))),
  );
}

describe('retry with backoff', () => {
  it('amqplib basic.nack: levels 200, 400, 800 ms observed, then the dead-letter queue with x-death and x-retry-count (read over AMQP and STOMP)', async () => {
    const conn = await amqp.connect(amqpUrl());
    const ch = await conn.createConfirmChannel();
    await declareRetryQueue(ch, 'work', '200ms 400ms 800ms', 3);
    const times: number[] = [];
    const counts: unknown[] = [];
    const four = new Promise<void>((resolve) => {
      void ch.consume('work', (m) => {
        if (!m) return;
        times.push(Date.now());
        counts.push(m.properties.headers?.['x-retry-count']);
        ch.nack(m, false, false);
        if (times.length === 4) resolve();
      });
    });
    ch.publish('', 'work', Buffer.from('job'), { persistent: true });
    await ch.waitForConfirms();
    await four;
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    [200, 400, 800].forEach((d, i) => expect(gaps[i]).toBeGreaterThanOrEqual(d));
    expect(counts).toEqual([undefined, 1, 2, 3]);
    let dead: amqp.GetMessage | false = false;
    for (let i = 0; i < 500 && !dead; i++) {
      dead = await ch.get('work.dlq', { noAck: false });
      if (!dead) await new Promise((r) => setTimeout(r, 10));
    }
    expect(dead).not.toBe(false);
    const h = (dead as amqp.GetMessage).properties.headers!;
    expect(h['x-retry-count']).toBe(3);
    expect(h['x-first-death-queue']).toBe('work');
    expect(h['x-death'][0]).toMatchObject({ count: 4, reason: 'rejected', queue: 'work' });
    ch.nack(dead as amqp.GetMessage, false, true);
    await conn.close();

    // The same dead letter over STOMP: the retry count is a plain header.
    const c = await stompConnect();
    const headers = await new Promise<Record<string, string>>((resolve) =>
      c.subscribe({ destination: '/amq/queue/work.dlq', ack: 'auto' }, (err, m) => {
        if (!err) resolve(m.headers as Record<string, string>);
      }),
    );
    expect(headers['x-retry-count']).toBe('3');
    expect(headers['x-first-death-queue']).toBe('work');
    c.disconnect();
  });

  it('STOMP NACK: redelivered after the delay with x-retry-count, then dead-lettered', async () => {
    const conn = await amqp.connect(amqpUrl());
    const ch = await conn.createChannel();
    await declareRetryQueue(ch, 'swork', '300ms', 1);
    await conn.close();
    const c = await stompConnect();
    const seen: { at: number; retry: string | undefined }[] = [];
    const two = new Promise<void>((resolve) => {
      c.subscribe({ destination: '/amq/queue/swork', ack: 'client-individual' }, (err, m) => {
        if (err) return;
        seen.push({ at: Date.now(), retry: m.headers['x-retry-count'] as string | undefined });
        m.readString('utf8', () => {
          c.nack(m);
          if (seen.length === 2) resolve();
        });
      });
    });
    const f = c.send({ destination: '/amq/queue/swork', persistent: 'true' });
    f.end('stomp-job');
    await two;
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(300);
    expect(seen.map((s) => s.retry)).toEqual([undefined, '1']);
    const conn2 = await amqp.connect(amqpUrl());
    const ch2 = await conn2.createChannel();
    let depth = 0;
    for (let i = 0; i < 500 && depth === 0; i++) {
      depth = (await ch2.checkQueue('swork.dlq')).messageCount;
      if (depth === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(depth).toBe(1);
    await conn2.close();
    c.disconnect();
  });

  it('MQTT 5 PUBACK with reason 0x80: retried after the delay (x-retry-count user property), then dead-lettered', async () => {
    const seen: { at: number; retry: unknown }[] = [];
    let done!: () => void;
    const two = new Promise<void>((r) => (done = r));
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, {
      clientId: 'retry-c1',
      protocolVersion: 5,
      reconnectPeriod: 0,
      customHandleAcks: (_topic, _message, packet, cb) => {
        seen.push({ at: Date.now(), retry: (packet.properties?.userProperties as Record<string, unknown> | undefined)?.['x-retry-count'] });
        cb(0x80);
        if (seen.length === 2) done();
      },
    });
    await sub.subscribeAsync('jobs/#', { qos: 1 });
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId: 'retry-pub', protocolVersion: 5, reconnectPeriod: 0 });
    await pub.publishAsync('jobs/1', 'mqtt-job', { qos: 1 });
    await two;
    expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(300);
    expect(seen.map((s) => s.retry)).toEqual([undefined, '1']);
    const conn = await amqp.connect(amqpUrl());
    const ch = await conn.createChannel();
    let dead: amqp.GetMessage | false = false;
    for (let i = 0; i < 500 && !dead; i++) {
      dead = await ch.get('dlq-mqtt', { noAck: true });
      if (!dead) await new Promise((r) => setTimeout(r, 10));
    }
    expect(dead && dead.content.toString()).toBe('mqtt-job');
    expect(dead && dead.properties.headers?.['x-retry-count']).toBe(1);
    await conn.close();
    await pub.endAsync();
    await sub.endAsync();
  });
});
