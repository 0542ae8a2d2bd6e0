import mqttPacket from 'mqtt-packet';
import type { ProtocolLevel, QoS } from './packets.js';
import { encodeProperties, varIntSize, writeVarInt, type MqttProperties } from './properties.js';

/** Frames that never change, built once (STYLE.md "Precompute constant frames"). */
export const PINGRESP = Buffer.from([0xd0, 0x00]);
/** 3.1.1 CONNACK, accepted, without / with session present. */
export const CONNACK_ACCEPTED_311 = [Buffer.from([0x20, 0x02, 0x00, 0x00]), Buffer.from([0x20, 0x02, 0x01, 0x00])] as const;

/** Payloads up to this size are copied into the header buffer (one write); larger ones go as a second write. */
const INLINE_PAYLOAD_MAX = 4096;

/** The largest packet MQTT can frame (Remaining Length 268,435,455 + 5 header bytes): the default Maximum Packet Size. */
export const MAX_FRAMED_PACKET_SIZE = 268_435_460;

export interface OutboundPublish {
  topic: string;
  /** `topic` as UTF-8, when the caller has it (a stream of one topic encodes it once). */
  topicBytes?: Buffer | null;
  packetId: number;
  qos: QoS;
  dup: boolean;
  retain: boolean;
  /** 5.0 only: encoded properties (without the Property Length). */
  properties: Buffer | null;
  payload: Buffer;
}

/** Size on the wire of a PUBLISH, for the client's Maximum Packet Size check [MQTT-3.1.2-24]. */
export function publishSize(p: OutboundPublish, level: ProtocolLevel): number {
  const remaining = publishRemaining(p, level);
  return 1 + varIntSize(remaining) + remaining;
}

function publishRemaining(p: OutboundPublish, level: ProtocolLevel): number {
  let n = 2 + (p.topicBytes ? p.topicBytes.length : Buffer.byteLength(p.topic)) + (p.qos > 0 ? 2 : 0) + p.payload.length;
  if (level === 5) {
    const propLen = p.properties ? p.properties.length : 0;
    n += varIntSize(propLen) + propLen;
  }
  return n;
}

/**
 * PUBLISH (§3.3) as one buffer (small payloads) or header + payload (large ones: never copy
 * a big payload just to put a header in front of it).
 */
export function encodePublish(p: OutboundPublish, level: ProtocolLevel): Buffer[] {
  const topicBytes = p.topicBytes;
  const topicLen = topicBytes ? topicBytes.length : Buffer.byteLength(p.topic);
  const remaining = publishRemaining(p, level);
  const headerLen = 1 + varIntSize(remaining) + remaining - p.payload.length;
  const inline = p.payload.length <= INLINE_PAYLOAD_MAX;
  const buf = Buffer.allocUnsafe(inline ? headerLen + p.payload.length : headerLen);
  buf[0] = 0x30 | (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0);
  let pos = writeVarInt(buf, 1, remaining);
  buf.writeUInt16BE(topicLen, pos);
  pos += 2;
  if (topicBytes === null || topicBytes === undefined) pos += buf.write(p.topic, pos);
  else if (topicLen <= 64) {
    // A short copy in JS costs less than the native call.
    for (let i = 0; i < topicLen; i++) buf[pos + i] = topicBytes[i]!;
    pos += topicLen;
  } else pos += topicBytes.copy(buf, pos);
  if (p.qos > 0) {
    buf.writeUInt16BE(p.packetId, pos);
    pos += 2;
  }
  if (level === 5) {
    const props = p.properties;
    pos = writeVarInt(buf, pos, props ? props.length : 0);
    if (props) pos += props.copy(buf, pos);
  }
  if (inline) {
    p.payload.copy(buf, pos);
    return [buf];
  }
  return [buf, p.payload];
}

const ACK_TYPE = { puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7 } as const;

/** PUBACK/PUBREC/PUBREL/PUBCOMP; the reason code is omitted when 0 without properties (§3.4.2.1). */
export function encodeAck(
  cmd: keyof typeof ACK_TYPE, packetId: number, level: ProtocolLevel, reasonCode = 0, properties?: MqttProperties,
): Buffer {
  const first = (ACK_TYPE[cmd] << 4) | (cmd === 'pubrel' ? 2 : 0);
  const props = level === 5 && properties ? encodeProperties(properties) : null;
  if (level < 5 || (reasonCode === 0 && !props?.length)) {
    const b = Buffer.allocUnsafe(4);
    b[0] = first;
    b[1] = 2;
    b.writeUInt16BE(packetId, 2);
    return b;
  }
  const propLen = props ? props.length : 0;
  const remaining = 3 + (propLen ? varIntSize(propLen) + propLen : 0);
  const b = Buffer.allocUnsafe(1 + varIntSize(remaining) + remaining);
  b[0] = first;
  let pos = writeVarInt(b, 1, remaining);
  b.writeUInt16BE(packetId, pos);
  b[pos + 2] = reasonCode;
  pos += 3;
  if (propLen) {
    pos = writeVarInt(b, pos, propLen);
    props!.copy(b, pos);
  }
  return b;
}

/** mqtt-packet's property object from ours (it wants user properties as an object). */
function toMqttPacketProperties(p: MqttProperties | undefined): Record<string, unknown> | undefined {
  if (!p) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined) continue;
    if (k === 'userProperties') {
      const obj: Record<string, string | string[]> = {};
      for (const [name, value] of v as [string, string][]) {
        const prev = obj[name];
        obj[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
      out.userProperties = obj;
    } else if (k === 'subscriptionIdentifiers') {
      out.subscriptionIdentifier = v;
    } else if (k === 'retainAvailable' || k === 'wildcardSubscriptionAvailable' || k === 'subscriptionIdentifiersAvailable'
      || k === 'sharedSubscriptionAvailable') {
      out[k] = v !== 0;
    } else {
      out[k] = v;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function generate(packet: Record<string, unknown>, level: ProtocolLevel): Buffer {
  return mqttPacket.generate(packet as unknown as mqttPacket.Packet, { protocolVersion: level });
}

export function encodeConnack(level: ProtocolLevel, sessionPresent: boolean, code: number, properties?: MqttProperties): Buffer {
  if (level < 5 && code === 0 && !properties) return CONNACK_ACCEPTED_311[sessionPresent ? 1 : 0];
  return generate({
    cmd: 'connack', sessionPresent,
    ...(level === 5 ? { reasonCode: code } : { returnCode: code }),
    ...(level === 5 ? { properties: toMqttPacketProperties(properties) } : {}),
  }, level);
}

export function encodeSuback(level: ProtocolLevel, packetId: number, granted: number[], properties?: MqttProperties): Buffer {
  return generate({ cmd: 'suback', messageId: packetId, granted, ...(level === 5 ? { properties: toMqttPacketProperties(properties) } : {}) }, level);
}

export function encodeUnsuback(level: ProtocolLevel, packetId: number, codes: number[], properties?: MqttProperties): Buffer {
  if (level < 5) return Buffer.from([0xb0, 0x02, packetId >> 8, packetId & 0xff]);
  return generate({ cmd: 'unsuback', messageId: packetId, granted: codes, properties: toMqttPacketProperties(properties) }, level);
}

export function encodeDisconnect(reasonCode: number, properties?: MqttProperties): Buffer {
  return generate({ cmd: 'disconnect', reasonCode, properties: toMqttPacketProperties(properties) }, 5);
}

export function encodeAuth(reasonCode: number, properties?: MqttProperties): Buffer {
  return generate({ cmd: 'auth', reasonCode, properties: toMqttPacketProperties(properties) }, 5);
}
