import type mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../helpers/broker.js';
import { RawClient } from './harness.js';

/**
 * An outbound QoS 1 PUBLISH of a persistent session that was not acknowledged when the broker
 * crashed (SIGKILL) is resent after the restart with DUP and the packet id it was first sent
 * with [MQTT-4.4.0-1], although QoS 1 ids are not stored: the id follows from the message's
 * place in the session queue.
 */
let broker: RunningBroker | null = null;
afterEach(async () => {
  await broker?.stop().catch(() => broker?.kill());
  broker = null;
});

type Publish = mqttPacket.IPublishPacket;

describe('QoS 1 across a broker crash', () => {
  it.each([4, 5] as const)('MQTT %i: an unacknowledged PUBLISH comes again with DUP and its packet id', async (version) => {
    broker = await startBroker({ config: { storage: { durability: 'sync' }, mqtt: { sysIntervalMs: 0 } } });
    const persistent = version === 5 ? { clean: false, properties: { sessionExpiryInterval: 3600 } } : { clean: false };

    const sub = await RawClient.connect(broker.ports.mqtt, version);
    await sub.handshake('q1-sub', persistent);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q1/t', qos: 1 }] });
    await sub.next('suback');

    const pub = await RawClient.connect(broker.ports.mqtt, version);
    await pub.handshake('q1-pub');
    // Acknowledged ones first, so the last message's id is not the first a fresh broker would pick.
    for (let i = 1; i <= 6; i++) {
      pub.send({ cmd: 'publish', topic: 'q1/t', payload: `m${i}`, qos: 1, messageId: i, retain: false, dup: false });
      await pub.next('puback', (p) => (p as mqttPacket.IPubackPacket).messageId === i);
    }
    const sent: Publish[] = [];
    for (let i = 1; i <= 6; i++) sent.push((await sub.next('publish')) as Publish);
    expect(sent.map((p) => p.payload.toString())).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(new Set(sent.map((p) => p.messageId)).size).toBe(6);
    for (const p of sent.slice(0, 5)) sub.send({ cmd: 'puback', messageId: p.messageId });
    const last = sent[5]!;
    // A PINGRESP after the PUBACKs: they were read before the crash; then an fsynced publish,
    // by which time their (not fsynced) ack records are written too, as a rule.
    sub.send({ cmd: 'pingreq' });
    await sub.next('pingresp');
    pub.send({ cmd: 'publish', topic: 'q1/other', payload: 'b', qos: 1, messageId: 7, retain: false, dup: false });
    await pub.next('puback', (p) => (p as mqttPacket.IPubackPacket).messageId === 7);

    await broker.kill();
    sub.destroy();
    pub.destroy();
    await broker.restart();

    const sub2 = await RawClient.connect(broker.ports.mqtt, version);
    expect((await sub2.handshake('q1-sub', persistent)).sessionPresent).toBe(true);
    // Acks are not fsynced (a redelivery is allowed): m1-m5 may come again too, each with its own id.
    const again = (await sub2.next('publish', (p) => (p as Publish).payload.toString() === 'm6')) as Publish;
    expect(again.dup).toBe(true);
    expect(again.messageId).toBe(last.messageId);
    for (const p of sub2.packets) {
      if (p.cmd !== 'publish') continue;
      const i = Number((p as Publish).payload.toString().slice(1));
      expect((p as Publish).messageId).toBe(sent[i - 1]!.messageId);
    }
    sub2.send({ cmd: 'puback', messageId: again.messageId });
    sub2.destroy();
  });
});
