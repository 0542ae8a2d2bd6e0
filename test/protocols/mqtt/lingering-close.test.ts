import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startMqtt, type MqttHarness } from './harness.js';

let h: MqttHarness;
beforeEach(async () => { h = await startMqtt({ receiveMaximum: 3 }); });
afterEach(async () => { await h.stop(); });

const write = (s: net.Socket, p: Record<string, unknown>) =>
  new Promise<void>((resolve, reject) => s.write(mqttPacket.generate(p as unknown as mqttPacket.Packet, { protocolVersion: 5 }), (e) => (e ? reject(e) : resolve())));

describe('closing a connection after a DISCONNECT', () => {
  it('keeps reading until the client closes, so packets the client still sends cause no reset', async () => {
    // Paho's client_test5 flow_control2: the client sends more QoS 2 PUBLISHes than the
    // Receive Maximum, then answers each PUBREC with a PUBREL while reading up to the
    // DISCONNECT 0x93. A socket closed at once answers those PUBRELs with a reset.
    const socket = net.connect({ port: h.port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const errors: Error[] = [];
    socket.on('error', (e) => errors.push(e));
    const packets: mqttPacket.Packet[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    parser.on('packet', (p) => packets.push(p));
    socket.on('data', (b) => parser.parse(b));
    const ended = new Promise<void>((r) => socket.once('end', () => r()));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));

    await write(socket, { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clientId: 'linger', clean: true, keepalive: 0 });
    for (let id = 1; id <= 4; id++) await write(socket, { cmd: 'publish', topic: 'linger/t', payload: `m${id}`, qos: 2, messageId: id });
    await ended; // the broker half-closed after its last packet

    const disconnect = packets.find((p) => p.cmd === 'disconnect') as mqttPacket.IDisconnectPacket | undefined;
    expect(disconnect?.reasonCode).toBe(0x93);
    // What the client sends now (after the broker's FIN) is read and dropped, not reset.
    for (const p of packets) if (p.cmd === 'pubrec') await write(socket, { cmd: 'pubrel', messageId: p.messageId });
    await write(socket, { cmd: 'pingreq' });
    await write(socket, { cmd: 'pingreq' });
    socket.end();
    await closed;
    expect(errors).toEqual([]);
  });
});
