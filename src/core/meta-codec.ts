/**
 * Binary encoding of what a Kafka record cannot carry by itself: the common properties,
 * typed headers, native properties, exchange/routing key and origin of a `Message`. It is
 * stored as the last record header, named `META_HEADER` (see record-codec.ts).
 *
 *   meta    := version u8 (=1) | flags u8 | storedAt f64 | exchange str | routingKey str | props | origin? | native? | headers
 *   storedAt = the core's clock when the message entered its queues (TTL restarts from it after recovery)
 *   flags   := bit0 typed headers | bit1 origin present | bit2 native present
 *   props   := presence u16 | [field]*          (in MessageProperties order, see PROP_*)
 *   str     := uvarint length | utf8
 *   headers := typed ? (uvarint n | (str name | value)*) : (uvarint n | kind u8 *)   kind: 0 string 1 bytes 2 null
 *   value   := tag u8 | payload      (TAG_* below)
 */
import type { Header, HeaderValue, Message, MessageOrigin, MessageProperties, NativeProperties } from './message.js';

const TAG_NULL = 0;
const TAG_FALSE = 1;
const TAG_TRUE = 2;
const TAG_INT32 = 3;
const TAG_DOUBLE = 4;
const TAG_BIGINT = 5;
const TAG_STRING = 6;
const TAG_BYTES = 7;
const TAG_DATE = 8;
const TAG_DECIMAL = 9;
const TAG_TABLE = 10;
const TAG_ARRAY = 11;

const P_CONTENT_TYPE = 1 << 0;
const P_CONTENT_ENCODING = 1 << 1;
const P_CORRELATION_STR = 1 << 2;
const P_CORRELATION_BYTES = 1 << 3;
const P_REPLY_TO = 1 << 4;
const P_MESSAGE_ID = 1 << 5;
const P_EXPIRATION = 1 << 6;
const P_PRIORITY = 1 << 7;
const P_PERSISTENT = 1 << 8;
const P_TYPE = 1 << 9;
const P_USER_ID = 1 << 10;
const P_APP_ID = 1 << 11;
const P_SENT_AT = 1 << 12;
const P_CLUSTER_ID = 1 << 13;

/** A growable writer reused across messages: the encoded meta is a view valid until the next encode. */
export class MetaWriter {
  buf = Buffer.allocUnsafe(4096);
  pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  uvarint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  str(s: string): void {
    const max = s.length * 3;
    this.ensure(max + 5);
    // Reserve a 1-byte length when it surely fits, else measure first.
    if (max < 128) {
      const start = this.pos++;
      const n = this.buf.write(s, this.pos, 'utf8');
      this.buf[start] = n;
      this.pos += n;
    } else {
      const n = Buffer.byteLength(s);
      this.uvarint(n);
      this.buf.write(s, this.pos, 'utf8');
      this.pos += n;
    }
  }
  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  f64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
  i32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.pos);
    this.pos += 4;
  }
  i64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(BigInt.asIntN(64, v), this.pos);
    this.pos += 8;
  }
}

export class MetaReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  u8(): number {
    return this.buf[this.pos++]!;
  }
  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }
  str(): string {
    const n = this.uvarint();
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  bytes(): Buffer {
    const n = this.uvarint();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  f64(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
}

export function writeValue(w: MetaWriter, v: HeaderValue): void {
  if (v === null || v === undefined) w.u8(TAG_NULL);
  else if (typeof v === 'boolean') w.u8(v ? TAG_TRUE : TAG_FALSE);
  else if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) {
      w.u8(TAG_INT32);
      w.i32(v);
    } else {
      w.u8(TAG_DOUBLE);
      w.f64(v);
    }
  } else if (typeof v === 'bigint') {
    w.u8(TAG_BIGINT);
    w.i64(v);
  } else if (typeof v === 'string') {
    w.u8(TAG_STRING);
    w.str(v);
  } else if (Buffer.isBuffer(v)) {
    w.u8(TAG_BYTES);
    w.bytes(v);
  } else if (v instanceof Date) {
    w.u8(TAG_DATE);
    w.f64(v.getTime());
  } else if (Array.isArray(v)) {
    w.u8(TAG_ARRAY);
    w.uvarint(v.length);
    for (const x of v) writeValue(w, x);
  } else if (v.kind === 'decimal') {
    w.u8(TAG_DECIMAL);
    w.u8(v.scale);
    w.i32(v.value);
  } else {
    w.u8(TAG_TABLE);
    writeHeaders(w, v.entries);
  }
}

function writeHeaders(w: MetaWriter, headers: readonly Header[]): void {
  w.uvarint(headers.length);
  for (const h of headers) {
    w.str(h.name);
    writeValue(w, h.value);
  }
}

export function readValue(r: MetaReader): HeaderValue {
  const tag = r.u8();
  switch (tag) {
    case TAG_NULL:
      return null;
    case TAG_FALSE:
      return false;
    case TAG_TRUE:
      return true;
    case TAG_INT32:
      return r.i32();
    case TAG_DOUBLE:
      return r.f64();
    case TAG_BIGINT:
      return r.i64();
    case TAG_STRING:
      return r.str();
    case TAG_BYTES:
      return Buffer.from(r.bytes());
    case TAG_DATE:
      return new Date(r.f64());
    case TAG_DECIMAL: {
      const scale = r.u8();
      return { kind: 'decimal', scale, value: r.i32() };
    }
    case TAG_TABLE:
      return { kind: 'table', entries: readHeaders(r) };
    case TAG_ARRAY: {
      const n = r.uvarint();
      const out: HeaderValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readValue(r);
      return out;
    }
    default:
      throw new Error(`corrupt message meta: unknown value tag ${tag}`);
  }
}

function readHeaders(r: MetaReader): Header[] {
  const n = r.uvarint();
  const out: Header[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const name = r.str();
    out[i] = { name, value: readValue(r) };
  }
  return out;
}

/** True when every header is a string, Buffer or null: they travel as plain Kafka headers. */
export function headersArePlain(headers: readonly Header[]): boolean {
  for (let i = 0; i < headers.length; i++) {
    const v = headers[i]!.value;
    if (v !== null && typeof v !== 'string' && !Buffer.isBuffer(v)) return false;
  }
  return true;
}

/** Writes the meta of `m` into `w` (from position 0). `plain` = headers travel as Kafka headers. */
export function writeMeta(w: MetaWriter, m: Message, plain: boolean, storedAt: number): Buffer {
  w.pos = 0;
  w.u8(1);
  w.u8((plain ? 0 : 1) | (m.origin ? 2 : 0) | (m.native ? 4 : 0) | (m.routedFrom !== undefined ? 8 : 0));
  w.f64(storedAt);
  w.str(m.exchange);
  w.str(m.routingKey);
  const p = m.properties;
  let mask = 0;
  if (p.contentType !== undefined) mask |= P_CONTENT_TYPE;
  if (p.contentEncoding !== undefined) mask |= P_CONTENT_ENCODING;
  if (p.correlationId !== undefined) mask |= typeof p.correlationId === 'string' ? P_CORRELATION_STR : P_CORRELATION_BYTES;
  if (p.replyTo !== undefined) mask |= P_REPLY_TO;
  if (p.messageId !== undefined) mask |= P_MESSAGE_ID;
  if (p.expiration !== undefined) mask |= P_EXPIRATION;
  if (p.priority !== undefined) mask |= P_PRIORITY;
  if (p.persistent !== undefined) mask |= P_PERSISTENT;
  if (p.type !== undefined) mask |= P_TYPE;
  if (p.userId !== undefined) mask |= P_USER_ID;
  if (p.appId !== undefined) mask |= P_APP_ID;
  if (p.sentAt !== undefined) mask |= P_SENT_AT;
  if (p.clusterId !== undefined) mask |= P_CLUSTER_ID;
  w.u8(mask & 0xff);
  w.u8(mask >>> 8);
  if (mask & P_CONTENT_TYPE) w.str(p.contentType!);
  if (mask & P_CONTENT_ENCODING) w.str(p.contentEncoding!);
  if (mask & P_CORRELATION_STR) w.str(p.correlationId as string);
  if (mask & P_CORRELATION_BYTES) w.bytes(p.correlationId as Buffer);
  if (mask & P_REPLY_TO) w.str(p.replyTo!);
  if (mask & P_MESSAGE_ID) w.str(p.messageId!);
  if (mask & P_EXPIRATION) w.f64(p.expiration!);
  if (mask & P_PRIORITY) w.u8(p.priority!);
  if (mask & P_PERSISTENT) w.u8(p.persistent ? 1 : 0);
  if (mask & P_TYPE) w.str(p.type!);
  if (mask & P_USER_ID) w.str(p.userId!);
  if (mask & P_APP_ID) w.str(p.appId!);
  if (mask & P_SENT_AT) w.f64(p.sentAt!);
  if (mask & P_CLUSTER_ID) w.str(p.clusterId!);
  if (m.origin) {
    w.str(m.origin.protocol);
    w.str(m.origin.clientId);
    w.str(m.origin.user);
    w.str(m.origin.connectionId);
  }
  if (m.native) {
    w.str(m.native.protocol);
    w.bytes(m.native.bytes);
  }
  if (plain) {
    w.uvarint(m.headers.length);
    for (const h of m.headers) w.u8(typeof h.value === 'string' ? 0 : h.value === null ? 2 : 1);
  } else {
    writeHeaders(w, m.headers);
  }
  if (m.routedFrom !== undefined) w.str(m.routedFrom);
  return w.buf.subarray(0, w.pos);
}

export interface DecodedMeta {
  storedAt: number;
  exchange: string;
  routingKey: string;
  properties: MessageProperties;
  origin: MessageOrigin | null;
  native: NativeProperties | null;
  /** Typed headers, or null when they are the record's Kafka headers with `kinds`. */
  headers: Header[] | null;
  kinds: number[] | null;
  routedFrom?: string;
}

export function readMeta(buf: Buffer): DecodedMeta {
  const r = new MetaReader(buf);
  const version = r.u8();
  if (version !== 1) throw new Error(`corrupt message meta: version ${version}`);
  const flags = r.u8();
  const storedAt = r.f64();
  const exchange = r.str();
  const routingKey = r.str();
  const mask = r.u8() | (r.u8() << 8);
  const p: MessageProperties = {};
  if (mask & P_CONTENT_TYPE) p.contentType = r.str();
  if (mask & P_CONTENT_ENCODING) p.contentEncoding = r.str();
  if (mask & P_CORRELATION_STR) p.correlationId = r.str();
  if (mask & P_CORRELATION_BYTES) p.correlationId = Buffer.from(r.bytes());
  if (mask & P_REPLY_TO) p.replyTo = r.str();
  if (mask & P_MESSAGE_ID) p.messageId = r.str();
  if (mask & P_EXPIRATION) p.expiration = r.f64();
  if (mask & P_PRIORITY) p.priority = r.u8();
  if (mask & P_PERSISTENT) p.persistent = r.u8() === 1;
  if (mask & P_TYPE) p.type = r.str();
  if (mask & P_USER_ID) p.userId = r.str();
  if (mask & P_APP_ID) p.appId = r.str();
  if (mask & P_SENT_AT) p.sentAt = r.f64();
  if (mask & P_CLUSTER_ID) p.clusterId = r.str();
  let origin: MessageOrigin | null = null;
  if (flags & 2) {
    const protocol = r.str() as MessageOrigin['protocol'];
    origin = { protocol, clientId: r.str(), user: r.str(), connectionId: r.str() };
  }
  let native: NativeProperties | null = null;
  if (flags & 4) {
    const protocol = r.str() as NativeProperties['protocol'];
    native = { protocol, bytes: Buffer.from(r.bytes()) };
  }
  let headers: Header[] | null = null;
  let kinds: number[] | null = null;
  if (flags & 1) headers = readHeaders(r);
  else {
    const n = r.uvarint();
    kinds = new Array(n);
    for (let i = 0; i < n; i++) kinds[i] = r.u8();
  }
  if (flags & 8) return { storedAt, exchange, routingKey, properties: p, origin, native, headers, kinds, routedFrom: r.str() };
  return { storedAt, exchange, routingKey, properties: p, origin, native, headers, kinds };
}
