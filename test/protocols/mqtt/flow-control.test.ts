import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { MemoryDisk } from '../../core/memory-store.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionQueueName } from '../../../protocols/mqtt/session.js';
import { RawClient, startMqtt, type MqttHarness } from './harness.js';
import { StalledPeer as StalledPeerBase } from '../../helpers/stalled-peer.js';

/**
 * A subscriber that stops reading: what the broker queues in its socket is bounded (about
 * 1 MiB, not the stream's 16 KiB highWaterMark, which one tick of deliveries passes and a TLS
 * socket reaches on nearly every flush), the rest stays in the session queue, and all of it
 * comes once the subscriber reads again. The subscriber is a stream whose writes complete
 * only when the test says so, handed to the adapter like an accepted socket.
 */
let h: MqttHarness;

beforeAll(async () => {
  h = await startMqtt();
});
afterAll(async () => {
  await h?.stop();
});

/** An MQTT 3.1.1 client that can stop reading; counts PUBLISHes and notes the other packets. */
class StalledPeer extends StalledPeerBase {
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  publishes = 0;
  /** The other packets the broker sent, by command. */
  readonly packets = new Set<string>();

  constructor() {
    super();
    this.parser.on('packet', (p) => {
      if (p.cmd === 'publish') this.publishes++;
      else this.packets.add(p.cmd);
    });
  }

  protected received(chunk: Buffer): void {
    this.parser.parse(chunk);
  }

  /** The client sends a packet to the broker. */
  send(p: Record<string, unknown>): void {
    this.push(mqttPacket.generate(p as unknown as mqttPacket.Packet, { protocolVersion: 4 }));
  }
}

/** Event-loop turns for the core's dispatch and the connection's flushes to run their course. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('a subscriber that stops reading', () => {
  it('gets at most about 1 MiB queued for it, the rest stays in its queue, and all of it once it reads', async () => {
    const count = 4000;
    const topic = 'flow/slow';
    const peer = new StalledPeer();
    h.adapter.accept(peer, { listener: 'mqtt', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2, tls: false });
    peer.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'slow-reader', clean: true, keepalive: 0 });
    await peer.until(() => peer.packets.has('connack'));
    peer.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
    await peer.until(() => peer.packets.has('suback'));
    // From here on the peer reads nothing.
    peer.stall();

    const pub = await RawClient.connect(h.port);
    await pub.handshake('fast-writer');
    const body = Buffer.alloc(1024, 0x61);
    for (let i = 0; i < count; i++) pub.send({ cmd: 'publish', topic, qos: 0, retain: false, dup: false, payload: body });
    // A QoS 1 PUBLISH after them: its PUBACK means every earlier one was routed.
    pub.send({ cmd: 'publish', topic: 'flow/other', qos: 1, messageId: 1, retain: false, dup: false, payload: body });
    await pub.next('puback');
    await peer.until(() => peer.publishes > 0);
    await turns(50);

    // The 1 MiB mark plus at most one tick of deliveries beyond it.
    expect(peer.writableLength).toBeGreaterThan(64 * 1024);
    expect(peer.writableLength).toBeLessThan(1024 * 1024 + 256 * 1024);
    const queued = h.core.vhost('/').queue(sessionQueueName('slow-reader'))!.messageCount;
    expect(queued).toBeGreaterThan(count - 1300);
    peer.release();
    await peer.until(() => peer.publishes === count);
    expect(h.core.vhost('/').queue(sessionQueueName('slow-reader'))!.messageCount).toBe(0);
    pub.destroy();
    peer.destroy();
  });
});

describe('publisher flow control', () => {
  it('stops reading a publisher while a session queue backs up behind a subscriber waiting on its socket, and loses nothing', async () => {
    // A long stall allowance: this subscriber stops reading on purpose and must not be given up on.
    const fh = await startMqtt({}, new MemoryDisk(), 0, { flowControlBacklog: 200, flowControlStallMs: 60_000 });
    const count = 20_000;
    const topic = 'flow/held';
    const peer = new StalledPeer();
    const pub = await mqtt.connectAsync(fh.url, { clientId: 'flow-writer', protocolVersion: 5 });
    try {
      fh.adapter.accept(peer, { listener: 'mqtt', remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2, tls: false });
      peer.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'flow-reader', clean: true, keepalive: 0 });
      await peer.until(() => peer.packets.has('connack'));
      peer.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic, qos: 0 }] });
      await peer.until(() => peer.packets.has('suback'));
      peer.stall();

      const body = Buffer.alloc(1024, 0x62);
      for (let i = 0; i < count; i++) pub.publish(topic, body, { qos: 0 });
      const publisher = () => fh.core.connections().find((c) => c.clientId === 'flow-writer')!;
      while (!publisher().throttled) await turns(1);
      await turns(50);
      const depth = fh.core.vhost('/').queue(sessionQueueName('flow-reader'))!.messageCount;
      expect(depth).toBeGreaterThanOrEqual(200);
      expect(depth).toBeLessThan(1000);
      expect(publisher().published).toBeLessThan(count / 2);

      peer.release();
      await peer.until(() => peer.publishes === count);
      expect(publisher().published).toBe(count);
      expect(publisher().throttled).toBe(false);
    } finally {
      peer.destroy();
      await pub.endAsync();
      await fh.stop();
    }
  });
});
