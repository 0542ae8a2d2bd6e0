import amqp from 'amqplib';
import stompit from 'stompit';
import { describe, expect, it } from 'vitest';
import { startAmqpServer } from '../protocols/amqp/harness.js';
import { RawClient, startMqtt } from '../protocols/mqtt/harness.js';
import { startStompServer } from '../protocols/stomp/harness.js';

/**
 * While the broker does not read a connection (resource alarm, store backpressure, publisher
 * flow control), the client's heartbeats wait unread in the socket: its silence must not be
 * taken for a dead client (RabbitMQ pauses its heartbeat monitor while a connection is blocked).
 * Each client here beats every second or faster, is held for three seconds (several times its
 * timeout), and must still be connected and working when the alarm clears.
 */
const HELD_MS = 3000;
const held = () => new Promise((resolve) => setTimeout(resolve, HELD_MS));

describe('a connection the broker stops reading', () => {
  it('AMQP: is not closed for missed heartbeats while blocked', async () => {
    const server = await startAmqpServer();
    const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${server.port}?heartbeat=1`);
    let closed = false;
    conn.on('close', () => (closed = true));
    conn.on('error', () => {});
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue('held-amqp', { durable: false });
      server.core.setAlarm('memory', true);
      const blocked = new Promise((resolve) => conn.once('blocked', resolve));
      ch.sendToQueue('held-amqp', Buffer.from('during')); // the publish that blocks and stops the reading
      await blocked;
      await held();
      expect(closed).toBe(false);
      server.core.setAlarm('memory', false);
      await new Promise((resolve) => conn.once('unblocked', resolve));
      const m = await waitForGet(() => ch.get('held-amqp', { noAck: true }));
      expect(m.content.toString()).toBe('during');
    } finally {
      if (!closed) await conn.close();
      await server.close();
    }
  });

  it('MQTT: is not disconnected for its keep alive while blocked', async () => {
    // A raw client: mqtt.js gives up by itself when its PINGREQ goes unanswered for its keep
    // alive, which a broker that does not read cannot prevent (RabbitMQ's MQTT reader stops
    // reading during alarms too). What the broker must not do is judge the client's silence.
    const h = await startMqtt();
    const client = await RawClient.connect(h.port);
    const beat = setInterval(() => client.send({ cmd: 'pingreq' }), 500);
    try {
      await client.handshake('held-mqtt', { keepalive: 1 });
      h.core.setAlarm('memory', true);
      await held();
      expect(client.closed).toBe(false);
      h.core.setAlarm('memory', false);
      await client.next('pingresp');
      expect(client.closed).toBe(false);
    } finally {
      clearInterval(beat);
      client.destroy();
      await h.stop();
    }
  });

  it('STOMP: is not closed for missed heart-beats while blocked', async () => {
    const server = await startStompServer();
    const client = await new Promise<stompit.Client>((resolve, reject) =>
      stompit.connect({ host: '127.0.0.1', port: server.port, connectHeaders: { host: '/', login: 'guest', passcode: 'guest', 'accept-version': '1.2', 'heart-beat': '500,0' } }, (err, c) =>
        err ? reject(err) : resolve(c),
      ),
    );
    let failed: Error | null = null;
    client.on('error', (e: Error) => (failed = e));
    try {
      const first = client.send({ destination: '/queue/held-stomp' });
      first.end('before');
      await new Promise((resolve) => setTimeout(resolve, 100));
      server.core.setAlarm('memory', true); // a connection that has published stops being read
      await held();
      expect(failed).toBeNull();
      server.core.setAlarm('memory', false);
      const body = await new Promise<string>((resolve, reject) =>
        client.subscribe({ destination: '/queue/held-stomp', ack: 'auto' }, (err, message) => (err ? reject(err) : message.readString('utf8', (e, s) => (e ? reject(e) : resolve(s!))))),
      );
      expect(body).toBe('before');
      expect(failed).toBeNull();
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

async function waitForGet<T>(get: () => Promise<T | false>): Promise<T> {
  for (;;) {
    const m = await get();
    if (m !== false) return m;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
