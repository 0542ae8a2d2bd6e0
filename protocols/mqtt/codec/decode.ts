import mqttPacket from 'mqtt-packet';
import { MqttProtocolError, malformed, protocolError } from './errors.js';
import type { Frame } from './frame-reader.js';
import {
  PacketType, type AckPacket, type ConnectPacket, type InboundPacket, type ProtocolLevel,
  type PublishPacket, type QoS, type SubscribePacket, type UnsubscribePacket, type WillMessage,
} from './packets.js';
import { PROPERTY_BY_NAME, decodeProperties, readUtf8, readVarInt, withoutProperties, type MqttProperties } from './properties.js';
import { ReasonCode } from './reason-codes.js';

const ACK_NAMES = { 4: 'puback', 5: 'pubrec', 6: 'pubrel', 7: 'pubcomp' } as const;

/**
 * Decodes the frames of one connection. PUBLISH and the acknowledgements are decoded here
 * (hot path, and PUBLISH keeps its properties' bytes); CONNECT, SUBSCRIBE, UNSUBSCRIBE,
 * DISCONNECT and AUTH go through mqtt-packet's parser, and what it does not check
 * (UTF-8 well-formedness, duplicate properties, flag combinations) is checked after it.
 */
/**
 * One mqtt-packet parser for every connection: it is fed one whole frame at a time and
 * answers synchronously, so no connection needs its own (they cost ~1 KiB each).
 */
const shared = {
  parser: mqttPacket.parser({ protocolVersion: 4 }),
  parsed: null as mqttPacket.Packet | null,
  error: null as Error | null,
};
shared.parser.on('packet', (p) => { shared.parsed = p; });
shared.parser.on('error', (e: Error) => { shared.error = e; });

export class PacketDecoder {
  /** The last PUBLISH topic, as bytes (a copy) and string: a stream of one topic is validated and decoded once. */
  private lastTopicBytes: Buffer | null = null;
  private lastTopic = '';

  constructor(public protocolLevel: ProtocolLevel = 4) {}

  /** The PUBLISH topic at offset 0 of `b`, checked as readUtf8 checks it; returns [topic, next position]. */
  private publishTopic(b: Buffer): [string, number] {
    if (b.length < 2) throw malformed('truncated string length');
    const len = b.readUInt16BE(0);
    const last = this.lastTopicBytes;
    if (last !== null && last.length === len && len + 2 <= b.length) {
      let same = true;
      for (let i = 0; i < len; i++) {
        if (last[i] !== b[i + 2]) {
          same = false;
          break;
        }
      }
      if (same) return [this.lastTopic, len + 2];
    }
    const [topic, pos] = readUtf8(b, 0, b.length);
    if (len <= 256) {
      this.lastTopicBytes = Buffer.from(b.subarray(2, pos));
      this.lastTopic = topic;
    }
    return [topic, pos];
  }

  decode(frame: Frame): InboundPacket {
    switch (frame.type) {
      case PacketType.PUBLISH: return this.decodePublish(frame);
      case PacketType.PUBACK: case PacketType.PUBREC: case PacketType.PUBREL: case PacketType.PUBCOMP:
        return this.decodeAck(frame);
      case PacketType.PINGREQ:
        if (frame.flags !== 0) throw malformed('reserved flags set [MQTT-2.2.2-2]');
        if (frame.body.length !== 0) throw malformed('PINGREQ with a body');
        return { cmd: 'pingreq' };
      case PacketType.CONNECT: return lenient(() => this.decodeConnect(frame));
      case PacketType.SUBSCRIBE: return lenient(() => this.decodeSubscribe(frame));
      case PacketType.UNSUBSCRIBE: return lenient(() => this.decodeUnsubscribe(frame));
      case PacketType.DISCONNECT: {
        if (frame.flags !== 0) throw malformed('reserved flags set [MQTT-2.2.2-2]');
        if (this.protocolLevel < 5) {
          if (frame.body.length !== 0) throw malformed('DISCONNECT with a body');
          return { cmd: 'disconnect', reasonCode: 0, properties: {} };
        }
        const b = frame.body;
        if (b.length === 0) return { cmd: 'disconnect', reasonCode: 0, properties: {} };
        const reasonCode = b[0]!;
        let properties: MqttProperties = {};
        if (b.length > 1) {
          const [len, pos] = readVarInt(b, 1, b.length);
          if (pos + len !== b.length) throw malformed('DISCONNECT property length mismatch');
          properties = decodeProperties(b, pos, pos + len);
        }
        return { cmd: 'disconnect', reasonCode, properties };
      }
      case PacketType.AUTH: {
        if (this.protocolLevel < 5) throw malformed('AUTH is a 5.0 packet');
        if (frame.flags !== 0) throw malformed('reserved flags set [MQTT-2.2.2-2]');
        const b = frame.body;
        if (b.length === 0) return { cmd: 'auth', reasonCode: 0, properties: {} };
        const [len, pos] = b.length > 1 ? readVarInt(b, 1, b.length) : [0, 1];
        if (pos + len !== b.length) throw malformed('AUTH property length mismatch');
        return { cmd: 'auth', reasonCode: b[0]!, properties: decodeProperties(b, pos, pos + len) };
      }
      default:
        // CONNACK, SUBACK, UNSUBACK, PINGRESP are server → client only; 0 is reserved.
        throw protocolError(`packet type ${frame.type} is not sent by clients`);
    }
  }

  /** PUBLISH (§3.3): fixed header flags, topic, packet id, properties, payload. */
  decodePublish(frame: Frame): PublishPacket {
    const b = frame.body;
    const qosBits = (frame.flags >> 1) & 3;
    if (qosBits === 3) throw malformed('PUBLISH with QoS 3 [MQTT-3.3.1-4]');
    const qos = qosBits as QoS;
    const dup = (frame.flags & 8) !== 0;
    if (dup && qos === 0) throw malformed('DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2]');
    let [topic, pos] = this.publishTopic(b);
    let packetId = 0;
    if (qos > 0) {
      if (pos + 2 > b.length) throw malformed('truncated packet identifier');
      packetId = b.readUInt16BE(pos);
      pos += 2;
      if (packetId === 0) throw malformed('packet identifier 0 [MQTT-2.2.1-3]');
    }
    let properties: MqttProperties | null = null;
    let propertiesRaw: Buffer | null = null;
    if (this.protocolLevel === 5) {
      const [len, start] = readVarInt(b, pos, b.length);
      pos = start + len;
      if (pos > b.length) throw malformed('properties run past the packet');
      if (len > 0) {
        properties = decodeProperties(b, start, pos);
        propertiesRaw = b.subarray(start, pos);
        if (properties.subscriptionIdentifiers) throw protocolError('client PUBLISH carries a subscription identifier [MQTT-3.3.4-6]');
        if (properties.payloadFormatIndicator !== undefined && properties.payloadFormatIndicator > 1) throw protocolError('payload format indicator must be 0 or 1');
      }
    }
    return { cmd: 'publish', qos, dup, retain: (frame.flags & 1) !== 0, topic, packetId, properties, propertiesRaw, payload: b.subarray(pos) };
  }

  decodeAck(frame: Frame): AckPacket {
    const cmd = ACK_NAMES[frame.type as 4 | 5 | 6 | 7];
    const wantFlags = frame.type === PacketType.PUBREL ? 2 : 0;
    if (frame.flags !== wantFlags) throw malformed(`reserved flags of ${cmd} [MQTT-3.6.1-1]`);
    const b = frame.body;
    if (b.length < 2) throw malformed(`${cmd} too short`);
    const packetId = b.readUInt16BE(0);
    if (this.protocolLevel < 5) {
      if (b.length !== 2) throw malformed(`${cmd} longer than 2 bytes`);
      return { cmd, packetId, reasonCode: 0, properties: null };
    }
    const reasonCode = b.length > 2 ? b[2]! : 0;
    let properties: MqttProperties | null = null;
    if (b.length > 3) {
      const [len, pos] = readVarInt(b, 3, b.length);
      if (pos + len !== b.length) throw malformed(`${cmd} property length mismatch`);
      properties = decodeProperties(b, pos, pos + len);
    }
    return { cmd, packetId, reasonCode, properties };
  }

  private parseWithMqttPacket(frame: Frame): mqttPacket.Packet {
    const header = Buffer.allocUnsafe(5);
    header[0] = (frame.type << 4) | frame.flags;
    let n = 1;
    let len = frame.body.length;
    do {
      let byte = len % 128;
      len = Math.floor(len / 128);
      if (len > 0) byte |= 0x80;
      header[n++] = byte;
    } while (len > 0);
    shared.parsed = null;
    shared.error = null;
    const parser = shared.parser as unknown as { settings: { protocolVersion: number }; _resetState(): void };
    parser._resetState();
    parser.settings = { protocolVersion: this.protocolLevel };
    shared.parser.parse(Buffer.concat([header.subarray(0, n), frame.body]));
    const parsed = shared.parsed as mqttPacket.Packet | null;
    const error = shared.error as Error | null;
    shared.parsed = null;
    shared.error = null;
    if (error) throw malformed(error.message);
    if (!parsed) {
      parser._resetState();
      throw malformed('incomplete packet');
    }
    return parsed;
  }

  /** CONNECT (§3.1). Protocol name and level are checked first so the CONNACK can say why. */
  decodeConnect(frame: Frame): ConnectPacket {
    if (frame.flags !== 0) throw malformed('reserved flags set [MQTT-2.2.2-2]');
    const b = frame.body;
    const [protocolName, pos] = readUtf8(b, 0, b.length);
    if (protocolName !== 'MQTT' && protocolName !== 'MQIsdp') {
      throw malformed(`protocol name ${JSON.stringify(protocolName)} [MQTT-3.1.2-1]`);
    }
    if (pos + 2 > b.length) throw malformed('CONNECT too short');
    const level = b[pos]! & 0x7f; // high bit: bridge mode (Mosquitto extension)
    if ((protocolName === 'MQIsdp' && level !== 3) || (protocolName === 'MQTT' && level !== 4 && level !== 5)) {
      throw new MqttProtocolError(ReasonCode.UnsupportedProtocolVersion, `unsupported protocol level ${level} [MQTT-3.1.2-2]`);
    }
    this.protocolLevel = level as ProtocolLevel;
    const flags = b[pos + 1]!;
    if (flags & 1) throw malformed('CONNECT reserved flag set [MQTT-3.1.2-3]');
    const willFlag = (flags & 0x04) !== 0;
    if (((flags >> 3) & 3) === 3) throw malformed('will QoS 3 [MQTT-3.1.2-14]');
    if (!willFlag && (flags & 0x38)) throw malformed('will QoS/retain without will flag [MQTT-3.1.2-11]');
    if (level < 5 && (flags & 0x40) && !(flags & 0x80)) throw malformed('password without user name [MQTT-3.1.2-22]');
    const p = this.parseWithMqttPacket(frame) as mqttPacket.IConnectPacket;
    checkStrings(b, [p.clientId, p.username, p.will?.topic]);
    const properties = fromMqttPacketProperties(p.properties as Record<string, unknown> | undefined);
    let will: WillMessage | undefined;
    if (p.will) {
      const willProps = fromMqttPacketProperties(p.will.properties as Record<string, unknown> | undefined);
      // The will message carries the will properties as the client encoded them (byte-exact
      // MQTT→MQTT), less the Will Delay Interval, which belongs to the CONNECT.
      const raw = level === 5 ? Buffer.from(withoutProperties(willPropertiesBytes(b, pos), [0x18])) : Buffer.alloc(0);
      will = {
        topic: p.will.topic,
        payload: Buffer.from(p.will.payload as Buffer),
        qos: (p.will.qos ?? 0) as QoS,
        retain: !!p.will.retain,
        properties: willProps,
        propertiesRaw: raw.length > 0 ? raw : null,
      };
    }
    return {
      cmd: 'connect',
      protocolName,
      protocolLevel: this.protocolLevel,
      clean: !!p.clean,
      keepalive: p.keepalive ?? 0,
      clientId: p.clientId ?? '',
      ...(p.username !== undefined ? { username: p.username } : {}),
      ...(p.password !== undefined ? { password: Buffer.from(p.password) } : {}),
      ...(will ? { will } : {}),
      properties,
    };
  }

  decodeSubscribe(frame: Frame): SubscribePacket {
    if (frame.flags !== 2) throw malformed('SUBSCRIBE reserved flags [MQTT-3.8.1-1]');
    const p = this.parseWithMqttPacket(frame) as mqttPacket.ISubscribePacket;
    if (!p.messageId) throw malformed('packet identifier 0 [MQTT-2.2.1-3]');
    if (p.subscriptions.length === 0) throw protocolError('SUBSCRIBE without topic filters [MQTT-3.8.3-3]');
    checkStrings(frame.body, p.subscriptions.map((s) => s.topic));
    const props = fromMqttPacketProperties(p.properties as Record<string, unknown> | undefined);
    const subId = props.subscriptionIdentifiers;
    if (subId && (subId.length > 1 || subId[0] === 0)) throw protocolError('bad subscription identifier [MQTT-3.8.2-1]');
    return {
      cmd: 'subscribe',
      packetId: p.messageId,
      subscriptions: p.subscriptions.map((s) => ({
        filter: s.topic,
        qos: s.qos,
        noLocal: !!s.nl,
        retainAsPublished: !!s.rap,
        retainHandling: (s.rh ?? 0) as 0 | 1 | 2,
      })),
      ...(subId ? { subscriptionIdentifier: subId[0]! } : {}),
      ...(props.userProperties ? { userProperties: props.userProperties } : {}),
    };
  }

  decodeUnsubscribe(frame: Frame): UnsubscribePacket {
    if (frame.flags !== 2) throw malformed('UNSUBSCRIBE reserved flags [MQTT-3.10.1-1]');
    const p = this.parseWithMqttPacket(frame) as mqttPacket.IUnsubscribePacket;
    if (!p.messageId) throw malformed('packet identifier 0 [MQTT-2.2.1-3]');
    if (p.unsubscriptions.length === 0) throw protocolError('UNSUBSCRIBE without topic filters [MQTT-3.10.3-2]');
    checkStrings(frame.body, p.unsubscriptions);
    return { cmd: 'unsubscribe', packetId: p.messageId, filters: p.unsubscriptions };
  }
}

/**
 * The will properties' bytes of a 5.0 CONNECT body whose structure mqtt-packet has accepted;
 * `levelPos` is the offset of the protocol level byte (§3.1.2: level, flags, keep alive,
 * properties; §3.1.3: client id, then the will properties).
 */
function willPropertiesBytes(b: Buffer, levelPos: number): Buffer {
  let pos = levelPos + 4;
  const [propsLen, propsStart] = readVarInt(b, pos, b.length);
  pos = propsStart + propsLen;
  pos += 2 + b.readUInt16BE(pos); // client identifier
  const [willLen, willStart] = readVarInt(b, pos, b.length);
  return b.subarray(willStart, willStart + willLen);
}

/** mqtt-packet can hand back partial objects for hostile input: anything unexpected is malformed. */
function lenient<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof MqttProtocolError) throw e;
    throw malformed(`undecodable packet: ${(e as Error).message}`);
  }
}

/**
 * mqtt-packet decodes strings leniently (ill-formed bytes become U+FFFD). A string that holds
 * U+FFFD is genuine only if its UTF-8 encoding occurs in the packet; U+0000 is never allowed
 * ([MQTT-1.5.4-1], [MQTT-1.5.4-2]).
 */
function checkStrings(body: Buffer, strings: readonly (string | undefined)[]): void {
  for (const s of strings) {
    if (s === undefined) continue;
    if (s.includes('\u0000')) throw malformed('string contains U+0000 [MQTT-1.5.4-2]');
    if (s.includes('\uFFFD') && body.indexOf(Buffer.from(s, 'utf8')) < 0) {
      throw malformed('string is not well-formed UTF-8 [MQTT-1.5.4-1]');
    }
  }
}

/** mqtt-packet's property object → ours (user properties as ordered pairs, numbers not booleans). */
function fromMqttPacketProperties(src: Record<string, unknown> | undefined): MqttProperties {
  const out: Record<string, unknown> = {};
  if (!src) return out;
  for (const [name, value] of Object.entries(src)) {
    if (name === 'userProperties') {
      const pairs: [string, string][] = [];
      for (const [k, v] of Object.entries(value as Record<string, string | string[]>)) {
        for (const item of Array.isArray(v) ? v : [v]) pairs.push([k, item]);
      }
      checkStrings(Buffer.alloc(0), pairs.flat().filter((s) => !s.includes('\uFFFD')));
      out.userProperties = pairs;
      continue;
    }
    const ourName = name === 'subscriptionIdentifier' ? 'subscriptionIdentifiers' : name;
    const def = PROPERTY_BY_NAME.get(ourName);
    if (!def) throw malformed(`unexpected property ${name}`);
    if (def.repeatable) {
      out[ourName] = Array.isArray(value) ? value : [value];
      continue;
    }
    if (Array.isArray(value)) throw protocolError(`property ${name} appears twice`);
    out[ourName] = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    if (typeof value === 'string') checkStrings(Buffer.alloc(0), value.includes('\uFFFD') ? [] : [value]);
  }
  return out as MqttProperties;
}
