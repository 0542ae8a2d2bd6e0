import type { QoS } from '../codec/packets.js';

/**
 * The MQTT native blob kept with each message (`Message.native`, protocol 'mqtt') so an
 * MQTT → MQTT delivery is byte-exact (ARCHITECTURE.md "Native properties, lazy conversion"):
 *
 *   byte 0     flags: bits 0-1 QoS as published, bit 2 RETAIN as published,
 *              bit 3 retained replay (sent because of a subscription: RETAIN=1 [MQTT-3.3.1-8]),
 *              bit 4 topic follows
 *   [u16 + n]  topic (only when bit 4: the routing key is not the topic, e.g. a replay sent
 *              to a session queue through the default exchange)
 *   rest       MQTT 5 PUBLISH properties as received, minus Topic Alias and Message Expiry
 *              Interval (those are per connection / recomputed when forwarded)
 */
export interface MqttNative {
  qos: QoS;
  retain: boolean;
  replay: boolean;
  topic: string | null;
  properties: Buffer | null;
}

/**
 * The blobs of messages with no topic and no properties (most of them), by flags: shared,
 * never written to after this (a message's native bytes are read-only).
 */
const FLAGS_ONLY = Array.from({ length: 16 }, (_, flags) => Buffer.from([flags]));

export function encodeNative(n: MqttNative): Buffer {
  if (n.topic === null && n.properties === null) return FLAGS_ONLY[n.qos | (n.retain ? 4 : 0) | (n.replay ? 8 : 0)]!;
  const topicBytes = n.topic !== null ? Buffer.byteLength(n.topic) : -1;
  const propLen = n.properties ? n.properties.length : 0;
  const buf = Buffer.allocUnsafe(1 + (topicBytes >= 0 ? 2 + topicBytes : 0) + propLen);
  buf[0] = n.qos | (n.retain ? 4 : 0) | (n.replay ? 8 : 0) | (topicBytes >= 0 ? 16 : 0);
  let pos = 1;
  if (topicBytes >= 0) {
    buf.writeUInt16BE(topicBytes, 1);
    buf.write(n.topic!, 3);
    pos = 3 + topicBytes;
  }
  if (n.properties) n.properties.copy(buf, pos);
  return buf;
}

export function decodeNative(buf: Buffer): MqttNative {
  const flags = buf[0]!;
  let pos = 1;
  let topic: string | null = null;
  if (flags & 16) {
    const len = buf.readUInt16BE(1);
    topic = buf.toString('utf8', 3, 3 + len);
    pos = 3 + len;
  }
  return {
    qos: (flags & 3) as QoS,
    retain: (flags & 4) !== 0,
    replay: (flags & 8) !== 0,
    topic,
    properties: pos < buf.length ? buf.subarray(pos) : null,
  };
}
