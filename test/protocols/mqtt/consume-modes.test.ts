import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type mqttPacket from 'mqtt-packet';
import { sessionQueueName } from '../../../protocols/mqtt/session.js';
import { RawClient, startMqtt, type MqttHarness } from './harness.js';

/**
 * A session queue whose subscriptions are all QoS 0 is consumed without acks; adding a QoS 1
 * subscription (or removing the last one) switches the consumer. Deliveries in flight across
 * a switch are still settled by the client's PUBACK, and every message is delivered once.
 */
let h: MqttHarness;
beforeEach(async () => { h = await startMqtt(); });
afterEach(async () => { await h.stop(); });

function queue(clientId: string) {
  return h.core.vhost('/').queue(sessionQueueName(clientId))!;
}

async function publish(pub: RawClient, topic: string, payload: string, id: number): Promise<void> {
  pub.send({ cmd: 'publish', topic, qos: 1, messageId: id, retain: false, dup: false, payload: Buffer.from(payload) });
  await pub.next('puback', (p) => (p as mqttPacket.IPubackPacket).messageId === id);
}

async function received(sub: RawClient): Promise<mqttPacket.IPublishPacket> {
  return (await sub.next('publish')) as mqttPacket.IPublishPacket;
}

describe('QoS 0 and QoS 1 subscriptions on one session queue', () => {
  it('switches between consuming with and without acks, keeping in-flight deliveries and order', async () => {
    const sub = await RawClient.connect(h.port, 4);
    await sub.handshake('modes', { clean: false });
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'm/zero', qos: 0 }] });
    await sub.next('suback');
    const pub = await RawClient.connect(h.port, 4);
    await pub.handshake('modes-pub');

    await publish(pub, 'm/zero', 'z1', 1);
    expect((await received(sub)).qos).toBe(0);

    // A QoS 1 subscription on the same queue: deliveries are acked by PUBACK from now on.
    sub.send({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: 'm/one', qos: 1 }] });
    await sub.next('suback');
    await publish(pub, 'm/one', 'o1', 2);
    const o1 = await received(sub);
    expect(o1.qos).toBe(1);
    expect(queue('modes').unackedCount).toBe(1);

    // Back to QoS 0 only, with o1 still unacknowledged: QoS 0 messages flow, o1 stays in flight.
    sub.send({ cmd: 'unsubscribe', messageId: 3, unsubscriptions: ['m/one'] });
    await sub.next('unsuback');
    await publish(pub, 'm/zero', 'z2', 3);
    const z2 = await received(sub);
    expect([z2.qos, z2.payload.toString()]).toEqual([0, 'z2']);
    expect(queue('modes').unackedCount).toBe(1);
    sub.send({ cmd: 'puback', messageId: o1.messageId });
    // A PINGRESP after the PUBACK: it was handled (and did not close the connection).
    sub.send({ cmd: 'pingreq' });
    await sub.next('pingresp');
    expect(queue('modes').unackedCount).toBe(0);

    // QoS 1 again: a message is delivered with QoS 1 and kept until its PUBACK.
    sub.send({ cmd: 'subscribe', messageId: 4, subscriptions: [{ topic: 'm/one', qos: 1 }] });
    await sub.next('suback');
    await publish(pub, 'm/one', 'o2', 4);
    await publish(pub, 'm/zero', 'z3', 5);
    const o2 = await received(sub);
    const z3 = await received(sub);
    expect([o2.payload.toString(), o2.qos, z3.payload.toString(), z3.qos]).toEqual(['o2', 1, 'z3', 0]);
    expect(queue('modes').unackedCount).toBe(1);
    sub.send({ cmd: 'puback', messageId: o2.messageId });
    sub.send({ cmd: 'pingreq' });
    await sub.next('pingresp');
    expect(queue('modes').unackedCount).toBe(0);
    expect(queue('modes').messageCount).toBe(0);
    expect(sub.closed).toBe(false);

    // Nothing comes again on a resumed session: every delivery above was settled once.
    sub.send({ cmd: 'disconnect' });
    await sub.waitClosed();
    const again = await RawClient.connect(h.port, 4);
    expect((await again.handshake('modes', { clean: false })).sessionPresent).toBe(true);
    again.send({ cmd: 'pingreq' });
    await again.next('pingresp');
    expect(again.packets.filter((p) => p.cmd === 'publish')).toEqual([]);
    again.destroy();
    pub.destroy();
  });
});
