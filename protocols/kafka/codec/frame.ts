/**
 * Kafka request/response framing (protocol guide, "Common Request and Response Structure"):
 *
 *   RequestOrResponse => Size(int32) Message
 *   Request Header v1 => request_api_key(int16) request_api_version(int16) correlation_id(int32) client_id(NULLABLE_STRING)
 *   Request Header v2 => v1 + TAG_BUFFER            (flexible request versions, KIP-482)
 *   Response Header v0 => correlation_id(int32)
 *   Response Header v1 => correlation_id(int32) TAG_BUFFER
 *
 * client_id stays a classic int16-length string even in header v2. ApiVersions responses always
 * use header v0, so a client that does not know the broker's versions can still read them.
 */
import type { MessageDef } from '../schema/types.js';
import { Reader } from './reader.js';
import { compile, structSize, structSizeSpliced, writeStruct, type Message } from './schema-codec.js';
import { Writer } from './writer.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads the fixed part every request version shares (enough to answer an unknown API). */
export function readHeaderStart(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  return { apiKey, apiVersion, correlationId, clientId: null };
}

/** Reads client_id and, for header v2, the tagged fields that follow it. */
export function readHeaderRest(r: Reader, header: RequestHeader, flexible: boolean): void {
  header.clientId = r.nullableString(false);
  if (flexible) skipTaggedFields(r);
}

export function skipTaggedFields(r: Reader): void {
  let n = r.uvarint();
  while (n-- > 0 && r.bad === null) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}

/** Encodes a whole response frame (size prefix, header, body) into one exactly sized Buffer. */
export function encodeResponseFrame(
  w: Writer,
  correlationId: number,
  flexibleHeader: boolean,
  def: MessageDef,
  version: number,
  body: Message,
): Buffer {
  const c = compile(def, version);
  const headerBytes = flexibleHeader ? 5 : 4;
  const bodyBytes = structSize(c, body);
  const buf = Buffer.allocUnsafe(4 + headerBytes + bodyBytes);
  w.reset(buf);
  w.int32(headerBytes + bodyBytes);
  w.int32(correlationId);
  if (flexibleHeader) w.uvarint(0);
  writeStruct(w, c, body);
  return buf;
}

/**
 * As `encodeResponseFrame`, but record chunks of at least `spliceMin` bytes (stored batches of a
 * Fetch response) are not copied: the frame comes back as segments to write in order. The
 * stored Buffers are never written to after the store hands them out (storage/tail-cache.ts).
 */
export function encodeResponseFrameSpliced(
  w: Writer,
  correlationId: number,
  flexibleHeader: boolean,
  def: MessageDef,
  version: number,
  body: Message,
  spliceMin: number,
): Buffer | Buffer[] {
  const c = compile(def, version);
  const headerBytes = flexibleHeader ? 5 : 4;
  const { size: bodyBytes, spliced } = structSizeSpliced(c, body, spliceMin);
  const buf = Buffer.allocUnsafe(4 + headerBytes + bodyBytes - spliced);
  w.reset(buf);
  w.spliceMin = spliceMin;
  try {
    w.int32(headerBytes + bodyBytes);
    w.int32(correlationId);
    if (flexibleHeader) w.uvarint(0);
    writeStruct(w, c, body);
    return w.finish();
  } finally {
    w.spliceMin = Infinity;
  }
}

/** Encodes a request frame (used by tests and benches that speak Kafka to the broker). */
export function encodeRequestFrame(
  header: RequestHeader,
  flexibleHeader: boolean,
  def: MessageDef,
  body: Message,
  w = new Writer(),
): Buffer {
  const c = compile(def, header.apiVersion);
  const clientIdBytes = header.clientId === null ? 0 : Buffer.byteLength(header.clientId);
  const headerBytes = 8 + 2 + clientIdBytes + (flexibleHeader ? 1 : 0);
  const bodyBytes = structSize(c, body);
  const buf = Buffer.allocUnsafe(4 + headerBytes + bodyBytes);
  w.reset(buf);
  w.int32(headerBytes + bodyBytes);
  w.int16(header.apiKey);
  w.int16(header.apiVersion);
  w.int32(header.correlationId);
  w.string(header.clientId, clientIdBytes, false);
  if (flexibleHeader) w.uvarint(0);
  writeStruct(w, c, body);
  return buf;
}
