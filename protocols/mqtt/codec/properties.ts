import { isUtf8 } from 'node:buffer';
import { malformed, protocolError } from './errors.js';

/**
 * MQTT 5.0 properties (§2.2.2.2) as one table: id → name, wire type, and the packets that may
 * carry it. The same table drives decoding, encoding and the tests' arbitraries.
 */
export type PropertyType = 'byte' | 'u16' | 'u32' | 'varint' | 'utf8' | 'binary' | 'pair';

export interface PropertyDef {
  id: number;
  name: keyof MqttProperties;
  type: PropertyType;
  /** May appear more than once (§2.2.2.2: user property; subscription identifier in server PUBLISH). */
  repeatable?: boolean;
}

export const PROPERTY_DEFS: readonly PropertyDef[] = [
  { id: 0x01, name: 'payloadFormatIndicator', type: 'byte' },
  { id: 0x02, name: 'messageExpiryInterval', type: 'u32' },
  { id: 0x03, name: 'contentType', type: 'utf8' },
  { id: 0x08, name: 'responseTopic', type: 'utf8' },
  { id: 0x09, name: 'correlationData', type: 'binary' },
  { id: 0x0b, name: 'subscriptionIdentifiers', type: 'varint', repeatable: true },
  { id: 0x11, name: 'sessionExpiryInterval', type: 'u32' },
  { id: 0x12, name: 'assignedClientIdentifier', type: 'utf8' },
  { id: 0x13, name: 'serverKeepAlive', type: 'u16' },
  { id: 0x15, name: 'authenticationMethod', type: 'utf8' },
  { id: 0x16, name: 'authenticationData', type: 'binary' },
  { id: 0x17, name: 'requestProblemInformation', type: 'byte' },
  { id: 0x18, name: 'willDelayInterval', type: 'u32' },
  { id: 0x19, name: 'requestResponseInformation', type: 'byte' },
  { id: 0x1a, name: 'responseInformation', type: 'utf8' },
  { id: 0x1c, name: 'serverReference', type: 'utf8' },
  { id: 0x1f, name: 'reasonString', type: 'utf8' },
  { id: 0x21, name: 'receiveMaximum', type: 'u16' },
  { id: 0x22, name: 'topicAliasMaximum', type: 'u16' },
  { id: 0x23, name: 'topicAlias', type: 'u16' },
  { id: 0x24, name: 'maximumQoS', type: 'byte' },
  { id: 0x25, name: 'retainAvailable', type: 'byte' },
  { id: 0x26, name: 'userProperties', type: 'pair', repeatable: true },
  { id: 0x27, name: 'maximumPacketSize', type: 'u32' },
  { id: 0x28, name: 'wildcardSubscriptionAvailable', type: 'byte' },
  { id: 0x29, name: 'subscriptionIdentifiersAvailable', type: 'byte' },
  { id: 0x2a, name: 'sharedSubscriptionAvailable', type: 'byte' },
];

export const PROPERTY_BY_ID: ReadonlyMap<number, PropertyDef> = new Map(PROPERTY_DEFS.map((d) => [d.id, d]));
export const PROPERTY_BY_NAME: ReadonlyMap<string, PropertyDef> = new Map(PROPERTY_DEFS.map((d) => [d.name, d]));

/** Properties of a PUBLISH (or will message), in their decoded form. */
export interface MqttProperties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: number;
  /** In wire order, duplicates kept ([MQTT-3.3.2-18]: order must be preserved when forwarded). */
  userProperties?: [string, string][];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifiersAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

/** Reads a variable byte integer at `pos`; returns [value, nextPos] or throws malformed. */
export function readVarInt(buf: Buffer, pos: number, end: number): [number, number] {
  let value = 0;
  let mul = 1;
  for (let n = 0; n < 4; n++) {
    if (pos >= end) throw malformed('truncated variable byte integer');
    const b = buf[pos++]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [value, pos];
    mul *= 128;
  }
  throw malformed('variable byte integer longer than 4 bytes');
}

export function varIntSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

export function writeVarInt(buf: Buffer, pos: number, n: number): number {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    buf[pos++] = b;
  } while (n > 0);
  return pos;
}

/** Reads a UTF-8 Encoded String (§1.5.4): well-formed, no U+0000 ([MQTT-1.5.4-1], [MQTT-1.5.4-2]). */
export function readUtf8(buf: Buffer, pos: number, end: number): [string, number] {
  if (pos + 2 > end) throw malformed('truncated string length');
  const len = buf.readUInt16BE(pos);
  const stop = pos + 2 + len;
  if (stop > end) throw malformed('string runs past the packet');
  const bytes = buf.subarray(pos + 2, stop);
  if (!isUtf8(bytes)) throw malformed('string is not well-formed UTF-8');
  if (bytes.includes(0)) throw malformed('string contains U+0000');
  return [bytes.toString('utf8'), stop];
}

export function readBinary(buf: Buffer, pos: number, end: number): [Buffer, number] {
  if (pos + 2 > end) throw malformed('truncated binary length');
  const len = buf.readUInt16BE(pos);
  const stop = pos + 2 + len;
  if (stop > end) throw malformed('binary data runs past the packet');
  return [Buffer.from(buf.subarray(pos + 2, stop)), stop];
}

/**
 * Decodes the properties between `pos` and `end` (the bytes after the Property Length).
 * A property that may appear once but appears twice is a Protocol Error (§2.2.2.2).
 */
export function decodeProperties(buf: Buffer, pos: number, end: number): MqttProperties {
  const out: MqttProperties = {};
  const o = out as Record<string, unknown>;
  while (pos < end) {
    let id: number;
    [id, pos] = readVarInt(buf, pos, end);
    const def = PROPERTY_BY_ID.get(id);
    if (!def) throw malformed(`unknown property id 0x${id.toString(16)}`);
    let value: unknown;
    switch (def.type) {
      case 'byte':
        if (pos + 1 > end) throw malformed('truncated property');
        value = buf[pos++];
        break;
      case 'u16':
        if (pos + 2 > end) throw malformed('truncated property');
        value = buf.readUInt16BE(pos);
        pos += 2;
        break;
      case 'u32':
        if (pos + 4 > end) throw malformed('truncated property');
        value = buf.readUInt32BE(pos);
        pos += 4;
        break;
      case 'varint':
        [value, pos] = readVarInt(buf, pos, end);
        break;
      case 'utf8':
        [value, pos] = readUtf8(buf, pos, end);
        break;
      case 'binary':
        [value, pos] = readBinary(buf, pos, end);
        break;
      case 'pair': {
        let k: string, v: string;
        [k, pos] = readUtf8(buf, pos, end);
        [v, pos] = readUtf8(buf, pos, end);
        value = [k, v];
        break;
      }
    }
    if (def.repeatable) {
      const list = (o[def.name] as unknown[] | undefined) ?? [];
      list.push(value);
      o[def.name] = list;
    } else {
      if (o[def.name] !== undefined) throw protocolError(`property ${def.name} appears twice`);
      o[def.name] = value;
    }
  }
  return out;
}

function valueSize(type: PropertyType, value: unknown): number {
  switch (type) {
    case 'byte': return 1;
    case 'u16': return 2;
    case 'u32': return 4;
    case 'varint': return varIntSize(value as number);
    case 'utf8': return 2 + Buffer.byteLength(value as string);
    case 'binary': return 2 + (value as Buffer).length;
    case 'pair': {
      const [k, v] = value as [string, string];
      return 4 + Buffer.byteLength(k) + Buffer.byteLength(v);
    }
  }
}

function writeValue(buf: Buffer, pos: number, type: PropertyType, value: unknown): number {
  switch (type) {
    case 'byte': buf[pos] = value as number; return pos + 1;
    case 'u16': buf.writeUInt16BE(value as number, pos); return pos + 2;
    case 'u32': buf.writeUInt32BE(value as number, pos); return pos + 4;
    case 'varint': return writeVarInt(buf, pos, value as number);
    case 'utf8': {
      const n = buf.write(value as string, pos + 2);
      buf.writeUInt16BE(n, pos);
      return pos + 2 + n;
    }
    case 'binary': {
      const b = value as Buffer;
      buf.writeUInt16BE(b.length, pos);
      b.copy(buf, pos + 2);
      return pos + 2 + b.length;
    }
    case 'pair': {
      const [k, v] = value as [string, string];
      pos = writeValue(buf, pos, 'utf8', k);
      return writeValue(buf, pos, 'utf8', v);
    }
  }
}

/** Encodes properties (without the Property Length prefix), in table order. */
export function encodeProperties(props: MqttProperties): Buffer {
  const o = props as Record<string, unknown>;
  let size = 0;
  for (const def of PROPERTY_DEFS) {
    const v = o[def.name];
    if (v === undefined) continue;
    if (def.repeatable) for (const item of v as unknown[]) size += 1 + valueSize(def.type, item);
    else size += 1 + valueSize(def.type, v);
  }
  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const def of PROPERTY_DEFS) {
    const v = o[def.name];
    if (v === undefined) continue;
    const items = def.repeatable ? (v as unknown[]) : [v];
    for (const item of items) {
      buf[pos++] = def.id;
      pos = writeValue(buf, pos, def.type, item);
    }
  }
  return buf;
}

/**
 * `raw` without the properties `drop` picks (given each one's id and the offset of its value);
 * the others byte for byte and in order. `raw` itself when nothing is dropped.
 */
function filterProperties(raw: Buffer, drop: (id: number, valueAt: number) => boolean): Buffer {
  let pos = 0;
  const keep: Buffer[] = [];
  let changed = false;
  while (pos < raw.length) {
    const start = pos;
    let id: number;
    [id, pos] = readVarInt(raw, pos, raw.length);
    const def = PROPERTY_BY_ID.get(id);
    if (!def) throw malformed('unknown property');
    const dropped = drop(id, pos);
    pos = skipValue(raw, pos, def.type);
    if (dropped) changed = true;
    else keep.push(raw.subarray(start, pos));
  }
  return changed ? Buffer.concat(keep) : raw;
}

/**
 * Copies a PUBLISH's stored properties for forwarding: drops Topic Alias (it belongs to the
 * inbound connection, [MQTT-3.3.2-7]) and Message Expiry Interval (rewritten with what is
 * left, [MQTT-3.3.2-6]); every other property is kept byte for byte and in order.
 */
export function stripForwardedProperties(raw: Buffer): Buffer {
  return filterProperties(raw, (id) => id === 0x23 || id === 0x02 || id === 0x0b);
}

/** `raw` without the properties whose ids are given; the others byte for byte, in order. */
export function withoutProperties(raw: Buffer, ids: readonly number[]): Buffer {
  return filterProperties(raw, (id) => ids.includes(id));
}

/** `raw` without the User Properties whose name `drop` accepts; the others byte for byte, in order. */
export function withoutUserProperties(raw: Buffer, drop: (name: string) => boolean): Buffer {
  return filterProperties(raw, (id, valueAt) => id === 0x26 && drop(readUtf8(raw, valueAt, raw.length)[0]));
}

function skipValue(buf: Buffer, pos: number, type: PropertyType): number {
  switch (type) {
    case 'byte': return pos + 1;
    case 'u16': return pos + 2;
    case 'u32': return pos + 4;
    case 'varint': return readVarInt(buf, pos, buf.length)[1];
    case 'utf8': case 'binary': return pos + 2 + buf.readUInt16BE(pos);
    case 'pair': {
      pos = pos + 2 + buf.readUInt16BE(pos);
      return pos + 2 + buf.readUInt16BE(pos);
    }
  }
}
