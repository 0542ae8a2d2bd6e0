import { BASIC_PROPERTIES } from '../spec/methods.js';
import { AmqpDecodeError } from './errors.js';
import { readTable, tableSize, writeTable, type FieldTable } from './field-table.js';
import { FRAME_END, FRAME_OVERHEAD, FrameType } from './method-codec.js';
import { Reader } from './reader.js';
import { shortstrLength, type Writer } from './writer.js';

/**
 * Content header payload (spec §4.2.6):
 *
 *   class-id(2) weight(2)=0 body-size(8) property-flags(2)... property-list
 *
 * Flag bit 15 is the first property; bit 0 set means another flags word follows (never for
 * basic, but accepted). The flags + property list are kept as one blob (`propertyBytes`) so
 * an AMQP → AMQP delivery copies them unchanged.
 */
export interface BasicProperties {
  contentType?: string;
  contentEncoding?: string;
  headers?: FieldTable;
  deliveryMode?: number;
  priority?: number;
  correlationId?: string;
  replyTo?: string;
  expiration?: string;
  messageId?: string;
  /** seconds since the epoch */
  timestamp?: number;
  type?: string;
  userId?: string;
  appId?: string;
  clusterId?: string;
}

export interface ContentHeader {
  classId: number;
  bodySize: number;
  /** flags word(s) + property list, a view into the frame */
  propertyBytes: Buffer;
}

export function decodeContentHeader(payload: Buffer): ContentHeader {
  if (payload.length < 14) throw new AmqpDecodeError('content header too short');
  const r = new Reader(payload);
  const classId = r.short();
  r.short(); // weight, always 0
  const bodySize = r.longlong();
  return { classId, bodySize, propertyBytes: payload.subarray(12) };
}

const KEYS = BASIC_PROPERTIES.map((p) => p.name as keyof BasicProperties);
const TYPES = BASIC_PROPERTIES.map((p) => p.type);

/** Decodes flags + property list (as stored in `propertyBytes`). */
export function decodeProperties(bytes: Buffer): BasicProperties {
  const r = new Reader(bytes);
  const flags = r.short();
  // Continuation words carry properties past the 15th; basic has 14, so later words only
  // need to be consumed.
  let more = flags & 1;
  while (more) more = r.short() & 1;
  const props: BasicProperties = {};
  for (let i = 0; i < KEYS.length; i++) {
    if ((flags & (0x8000 >>> i)) === 0) continue;
    const key = KEYS[i]!;
    switch (TYPES[i]) {
      case 'shortstr': (props as Record<string, unknown>)[key] = r.shortstr(); break;
      case 'octet': (props as Record<string, unknown>)[key] = r.octet(); break;
      case 'timestamp': (props as Record<string, unknown>)[key] = r.longlong(); break;
      case 'table': props.headers = readTable(r); break;
      default: throw new AmqpDecodeError('unexpected property type');
    }
  }
  if (r.pos !== bytes.length) throw new AmqpDecodeError(`content header: ${bytes.length - r.pos} trailing bytes`);
  return props;
}

/** Size of flags + property list for these properties. */
export function propertiesSize(p: BasicProperties): number {
  let n = 2;
  for (let i = 0; i < KEYS.length; i++) {
    const v = p[KEYS[i]!];
    if (v === undefined) continue;
    switch (TYPES[i]) {
      case 'shortstr': n += 1 + shortstrLength(v as string); break;
      case 'octet': n += 1; break;
      case 'timestamp': n += 8; break;
      case 'table': n += tableSize(v as FieldTable); break;
    }
  }
  return n;
}

export function writeProperties(w: Writer, p: BasicProperties): void {
  let flags = 0;
  for (let i = 0; i < KEYS.length; i++) if (p[KEYS[i]!] !== undefined) flags |= 0x8000 >>> i;
  w.short(flags);
  for (let i = 0; i < KEYS.length; i++) {
    const v = p[KEYS[i]!];
    if (v === undefined) continue;
    switch (TYPES[i]) {
      case 'shortstr': w.shortstr(v as string, shortstrLength(v as string)); break;
      case 'octet': w.octet(v as number); break;
      case 'timestamp': w.longlong(v as number); break;
      case 'table': writeTable(w, v as FieldTable); break;
    }
  }
}

/** Encodes properties into a standalone blob (for messages that came from another protocol). */
export function encodeProperties(p: BasicProperties, w: Writer): Buffer {
  w.ensure(propertiesSize(p));
  writeProperties(w, p);
  return w.take();
}

/** Appends a content header frame carrying pre-encoded property bytes. */
export function writeHeaderFrame(w: Writer, channel: number, classId: number, bodySize: number, propertyBytes: Buffer): void {
  const size = 12 + propertyBytes.length;
  w.ensure(size + FRAME_OVERHEAD);
  w.octet(FrameType.HEADER);
  w.short(channel);
  w.long(size);
  w.short(classId);
  w.short(0);
  w.longlong(bodySize);
  w.bytes(propertyBytes);
  w.octet(FRAME_END);
}

/** Appends body frames, split so that no frame exceeds frameMax (0 = unlimited). */
export function writeBodyFrames(w: Writer, channel: number, body: Buffer, frameMax: number): void {
  const max = frameMax > 0 ? frameMax - FRAME_OVERHEAD : body.length;
  for (let off = 0; off < body.length; off += max) {
    const n = Math.min(max, body.length - off);
    w.ensure(n + FRAME_OVERHEAD);
    w.octet(FrameType.BODY);
    w.short(channel);
    w.long(n);
    body.copy(w.buf, w.pos, off, off + n);
    w.pos += n;
    w.octet(FRAME_END);
  }
}
