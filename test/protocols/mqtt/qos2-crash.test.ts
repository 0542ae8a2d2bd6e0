import type mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../helpers/broker.js';
import { RawClient } from './harness.js';

/**
 * QoS 2 flows of persistent sessions across a broker crash (SIGKILL): the in-flight packet-id
 * state is durable, so the flows continue exactly once after the restart [MQTT-4.3.3],
 * [MQTT-4.4.0-1].
 */
let broker: RunningBroker | null = null;
afterEach(async () => {
  await broker?.stop().catch(() => broker?.kill());
  broker = null;
});

type Publish = mqttPacket.IPublishPacket;

async function publishQos2(c: RawClient, topic: string, payload: string, id: number): Promise<void> {
  c.send({ cmd: 'publish', topic, payload, qos: 2, messageId: id, retain: false, dup: false });
  await c.next('pubrec', (p) => (p as mqttPacket.IPubrecPacket).messageId === id);
  c.send({ cmd: 'pubrel', messageId: id });
  await c.next('pubcomp', (p) => (p as mqttPacket.IPubcompPacket).messageId === id);
}

/** A QoS 1 round trip on the same store: once it is acked (fsynced), every earlier write is durable too. */
async function barrier(c: RawClient, id: number): Promise<void> {
  c.send({ cmd: 'publish', topic: 'barrier/x', payload: 'b', qos: 1, messageId: id, retain: false, dup: false });
  await c.next('puback', (p) => (p as mqttPacket.IPubackPacket).messageId === id);
}

describe('QoS 2 across a broker crash', () => {
  it.each([4, 5] as const)('MQTT %i: PUBREL resent for released ids, DUP resend with the same id, inbound ids remembered until PUBREL', async (version) => {
    broker = await startBroker({ config: { storage: { durability: 'sync' }, mqtt: { sysIntervalMs: 0 } } });
    const persistent = version === 5 ? { clean: false, properties: { sessionExpiryInterval: 3600 } } : { clean: false };

    const sub = await RawClient.connect(broker.ports.mqtt, version);
    await sub.handshake('q2-sub', persistent);
    sub.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q2/t', qos: 2 }] });
    await sub.next('suback');

    const pub = await RawClient.connect(broker.ports.mqtt, version);
    await pub.handshake('q2-pub', persistent);
    await publishQos2(pub, 'q2/t', 'm1', 11);
    await publishQos2(pub, 'q2/t', 'm2', 12);

    const m1 = (await sub.next('publish')) as Publish;
    const m2 = (await sub.next('publish')) as Publish;
    expect([m1.payload.toString(), m2.payload.toString()]).toEqual(['m1', 'm2']);
    // m1: PUBREC'd, so the broker owes PUBREL; m2: not acknowledged at all.
    sub.send({ cmd: 'pubrec', messageId: m1.messageId });
    await sub.next('pubrel', (p) => (p as mqttPacket.IPubrelPacket).messageId === m1.messageId);

    // Inbound: m3 is PUBREC'd by the broker, and the publisher has not released it.
    pub.send({ cmd: 'publish', topic: 'q2/t', payload: 'm3', qos: 2, messageId: 13, retain: false, dup: false });
    await pub.next('pubrec', (p) => (p as mqttPacket.IPubrecPacket).messageId === 13);
    await barrier(pub, 14);

    await broker.kill();
    sub.destroy();
    pub.destroy();
    await broker.restart();

    const sub2 = await RawClient.connect(broker.ports.mqtt, version);
    expect((await sub2.handshake('q2-sub', persistent)).sessionPresent).toBe(true);
    // The released flow continues with PUBREL; the unacknowledged message comes again with DUP and its id.
    await sub2.next('pubrel', (p) => (p as mqttPacket.IPubrelPacket).messageId === m1.messageId);
    sub2.send({ cmd: 'pubcomp', messageId: m1.messageId });
    const again = (await sub2.next('publish', (p) => (p as Publish).payload.toString() === 'm2')) as Publish;
    expect(again.dup).toBe(true);
    expect(again.messageId).toBe(m2.messageId);
    sub2.send({ cmd: 'pubrec', messageId: again.messageId });
    await sub2.next('pubrel', (p) => (p as mqttPacket.IPubrelPacket).messageId === again.messageId);
    sub2.send({ cmd: 'pubcomp', messageId: again.messageId });

    const pub2 = await RawClient.connect(broker.ports.mqtt, version);
    expect((await pub2.handshake('q2-pub', persistent)).sessionPresent).toBe(true);
    // The publisher resends m3 with DUP: acknowledged again, stored once [MQTT-4.3.3-9].
    pub2.send({ cmd: 'publish', topic: 'q2/t', payload: 'm3', qos: 2, messageId: 13, retain: false, dup: true });
    await pub2.next('pubrec', (p) => (p as mqttPacket.IPubrecPacket).messageId === 13);
    pub2.send({ cmd: 'pubrel', messageId: 13 });
    const comp = (await pub2.next('pubcomp', (p) => (p as mqttPacket.IPubcompPacket).messageId === 13)) as mqttPacket.IPubcompPacket;
    if (version === 5) expect(comp.reasonCode ?? 0).toBe(0);
    await publishQos2(pub2, 'q2/t', 'end', 15);

    // The subscriber sees m3 once, then the end marker; m1 never again.
    const seen: string[] = [];
    for (;;) {
      const p = (await sub2.next('publish')) as Publish;
      seen.push(p.payload.toString());
      sub2.send({ cmd: 'pubrec', messageId: p.messageId });
      await sub2.next('pubrel', (r) => (r as mqttPacket.IPubrelPacket).messageId === p.messageId);
      sub2.send({ cmd: 'pubcomp', messageId: p.messageId });
      if (p.payload.toString() === 'end') break;
    }
    expect(seen).toEqual(['m3', 'end']);
    sub2.destroy();
    pub2.destroy();
  });
});
