/**
 * One generic encoder/decoder for every Kafka message definition (protocols/kafka/schema).
 * A definition is compiled once per version into a flat list of field steps (which fields
 * exist, which are nullable, which are tagged, compact or classic encodings), cached on first
 * use; decode and encode then walk that list. Encoding sizes the message first and writes into
 * one Buffer of exactly that size.
 *
 * Values are plain objects keyed by the camelCased field names. Decoding fills every field the
 * definition knows, with its default when absent from the version, so handlers need no version
 * checks to read a request; encoding skips fields absent from the version and uses the default
 * for fields left undefined.
 *
 * Value types: bool -> boolean; int8..int64, uint16, uint32, float64 -> number (int64 exact below
 * 2^53); string -> string | null; bytes -> Buffer | null; uuid -> Buffer (16 bytes);
 * records -> Buffer | readonly Buffer[] (chunks written back to back) | null; arrays -> arrays;
 * structs -> objects.
 */
import type { FieldDef, MessageDef } from '../schema/types.js';
import { Reader, ZERO_UUID } from './reader.js';
import { Writer, lengthSize, uvarintSize } from './writer.js';
import { inRange, parseRange, type VersionRange } from './versions.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Message = Record<string, any>;

const enum Kind {
  Bool,
  Int8,
  Int16,
  Uint16,
  Int32,
  Uint32,
  Int64,
  Float64,
  String,
  Bytes,
  Uuid,
  Records,
  Struct,
}

const KINDS: Record<string, Kind> = {
  bool: Kind.Bool,
  int8: Kind.Int8,
  int16: Kind.Int16,
  uint16: Kind.Uint16,
  int32: Kind.Int32,
  uint32: Kind.Uint32,
  int64: Kind.Int64,
  float64: Kind.Float64,
  string: Kind.String,
  bytes: Kind.Bytes,
  uuid: Kind.Uuid,
  records: Kind.Records,
};

interface Step {
  name: string;
  kind: Kind;
  array: boolean;
  nullable: boolean;
  /** Tag number for tagged fields, -1 for regular ones. */
  tag: number;
  defaultValue: () => unknown;
  struct: CompiledStruct | null;
}

export interface CompiledStruct {
  flexible: boolean;
  regular: Step[];
  tagged: Step[];
  /** Fields of the definition absent from this version: filled with defaults on decode. */
  absent: { name: string; defaultValue: () => unknown }[];
}

const cache = new WeakMap<MessageDef, Map<number, CompiledStruct>>();
const rangeCache = new Map<string, VersionRange>();

function range(s: string | undefined): VersionRange {
  const key = s ?? 'none';
  let r = rangeCache.get(key);
  if (!r) {
    r = parseRange(key);
    rangeCache.set(key, r);
  }
  return r;
}

function scalarDefault(kind: Kind, nullable: boolean, text: string | undefined): () => unknown {
  // A "null" default only appears on nullable fields; a field absent from a version keeps it.
  if (text === 'null') return () => null;
  switch (kind) {
    case Kind.Bool:
      return text === 'true' ? () => true : () => false;
    case Kind.String: {
      const v = text ?? '';
      return () => v;
    }
    case Kind.Bytes:
    case Kind.Records:
      return nullable ? () => null : () => Buffer.alloc(0);
    case Kind.Uuid:
      return () => ZERO_UUID;
    default: {
      const v = text === undefined ? 0 : Number(text);
      return () => v;
    }
  }
}

function defaultFor(f: FieldDef, version: number): () => unknown {
  const isArray = f.type.startsWith('[]');
  const nullable = inRange(range(f.nullableVersions), version);
  if (isArray) return f.default === 'null' ? () => null : () => [];
  if (f.fields) {
    // A struct absent from a version (or a tagged struct not sent) decodes to its defaults.
    return () => {
      const o: Message = {};
      for (const sub of f.fields!) o[sub.name] = defaultFor(sub, version)();
      return o;
    };
  }
  return scalarDefault(KINDS[f.type]!, nullable, f.default);
}

function compileFields(fields: readonly FieldDef[], version: number, flexible: boolean): CompiledStruct {
  const out: CompiledStruct = { flexible, regular: [], tagged: [], absent: [] };
  for (const f of fields) {
    if (!inRange(range(f.versions), version)) {
      out.absent.push({ name: f.name, defaultValue: defaultFor(f, version) });
      continue;
    }
    const array = f.type.startsWith('[]');
    const base = array ? f.type.slice(2) : f.type;
    const tagged = flexible && inRange(range(f.taggedVersions), version);
    const step: Step = {
      name: f.name,
      kind: f.fields ? Kind.Struct : KINDS[base]!,
      array,
      nullable: inRange(range(f.nullableVersions), version),
      tag: tagged ? f.tag! : -1,
      defaultValue: defaultFor(f, version),
      struct: f.fields ? compileFields(f.fields, version, flexible) : null,
    };
    if (step.kind === undefined) throw new Error(`unknown Kafka type ${f.type} (${f.name})`);
    (tagged ? out.tagged : out.regular).push(step);
  }
  out.tagged.sort((a, b) => a.tag - b.tag);
  return out;
}

/** The compiled form of `def` at `version` (compiled once, then cached). */
export function compile(def: MessageDef, version: number): CompiledStruct {
  let byVersion = cache.get(def);
  if (!byVersion) {
    byVersion = new Map();
    cache.set(def, byVersion);
  }
  let c = byVersion.get(version);
  if (!c) {
    c = compileFields(def.fields, version, inRange(range(def.flexibleVersions), version));
    byVersion.set(version, c);
  }
  return c;
}

export function isFlexible(def: MessageDef, version: number): boolean {
  return inRange(range(def.flexibleVersions), version);
}

export function isValidVersion(def: MessageDef, version: number): boolean {
  return inRange(range(def.validVersions), version);
}

// ---------------------------------------------------------------- decode

function readScalar(r: Reader, kind: Kind, nullable: boolean, compact: boolean): unknown {
  switch (kind) {
    case Kind.Bool:
      return r.bool();
    case Kind.Int8:
      return r.int8();
    case Kind.Int16:
      return r.int16();
    case Kind.Uint16:
      return r.uint16();
    case Kind.Int32:
      return r.int32();
    case Kind.Uint32:
      return r.uint32();
    case Kind.Int64:
      return r.int64();
    case Kind.Float64:
      return r.float64();
    case Kind.String:
      return nullable ? r.nullableString(compact) : r.string(compact);
    case Kind.Bytes:
    case Kind.Records:
      return nullable ? r.nullableBytes(compact) : r.bytes(compact);
    case Kind.Uuid:
      return r.uuid();
    default:
      throw new Error('unreachable');
  }
}

function readValue(r: Reader, s: Step, compact: boolean): unknown {
  if (s.array) {
    const n = r.arrayLength(compact);
    if (n < 0) {
      if (!s.nullable && r.bad === null) r.fail(`null array ${s.name}`);
      return s.nullable ? null : [];
    }
    const out = new Array(n);
    for (let i = 0; i < n && r.bad === null; i++) {
      out[i] = s.struct ? readStruct(r, s.struct) : readScalar(r, s.kind, false, compact);
    }
    return out;
  }
  if (s.struct) {
    // Nullable structs carry a presence byte (-1 absent, 1 present).
    if (s.nullable && r.int8() < 0) return null;
    return readStruct(r, s.struct);
  }
  return readScalar(r, s.kind, s.nullable, compact);
}

export function readStruct(r: Reader, c: CompiledStruct): Message {
  const o: Message = {};
  for (const s of c.regular) o[s.name] = readValue(r, s, c.flexible);
  for (const a of c.absent) o[a.name] = a.defaultValue();
  if (c.flexible) {
    for (const s of c.tagged) o[s.name] = s.defaultValue();
    let n = r.uvarint();
    while (n-- > 0 && r.bad === null) {
      const tag = r.uvarint();
      const size = r.uvarint();
      if (size > r.remaining()) {
        r.fail('tagged field exceeds remaining bytes');
        break;
      }
      const step = c.tagged.find((t) => t.tag === tag);
      if (!step) {
        r.skip(size); // unknown tags are ignorable by definition (KIP-482)
        continue;
      }
      const end = r.pos + size;
      o[step.name] = readValue(r, step, true);
      if (r.bad === null && r.pos !== end) r.fail(`tagged field ${step.name} size mismatch`);
    }
  }
  return o;
}

/**
 * Decodes one message body; returns the message, or an error string ("not enough data",
 * "length exceeds remaining bytes", "N bytes left over").
 */
export function decode(def: MessageDef, version: number, r: Reader): { value: Message; error: null } | { value: null; error: string } {
  const value = readStruct(r, compile(def, version));
  if (r.bad !== null) return { value: null, error: r.bad };
  if (r.remaining() > 0) return { value: null, error: `${r.remaining()} bytes left over` };
  return { value, error: null };
}

// ---------------------------------------------------------------- size

function scalarSize(kind: Kind, v: any, compact: boolean): number {
  switch (kind) {
    case Kind.Bool:
    case Kind.Int8:
      return 1;
    case Kind.Int16:
    case Kind.Uint16:
      return 2;
    case Kind.Int32:
    case Kind.Uint32:
      return 4;
    case Kind.Int64:
    case Kind.Float64:
      return 8;
    case Kind.Uuid:
      return 16;
    case Kind.String: {
      if (v === null || v === undefined) return lengthSize(-1, compact, false);
      const n = Buffer.byteLength(v as string, 'utf8');
      return lengthSize(n, compact, false) + n;
    }
    case Kind.Bytes:
    case Kind.Records: {
      if (v === null || v === undefined) return lengthSize(-1, compact, true);
      const n = Array.isArray(v) ? chunksLength(v as Buffer[]) : (v as Buffer).length;
      return lengthSize(n, compact, true) + n;
    }
    default:
      throw new Error('unreachable');
  }
}

function chunksLength(chunks: readonly Buffer[]): number {
  let n = 0;
  for (const c of chunks) {
    n += c.length;
    if (c.length >= spliceMin) splicedBytes += c.length;
  }
  return n;
}

/** Set while sizing a frame that will splice record chunks of at least this many bytes. */
let spliceMin = Infinity;
let splicedBytes = 0;

/** Sizes `o` and reports how many of its bytes are record chunks that will be spliced, not copied. */
export function structSizeSpliced(c: CompiledStruct, o: Message, min: number): { size: number; spliced: number } {
  spliceMin = min;
  splicedBytes = 0;
  try {
    const size = structSize(c, o);
    return { size, spliced: splicedBytes };
  } finally {
    spliceMin = Infinity;
    splicedBytes = 0;
  }
}

function valueSize(s: Step, v: any, compact: boolean): number {
  if (v === undefined) v = s.defaultValue();
  if (s.array) {
    if (v === null) return lengthSize(-1, compact, true);
    let n = lengthSize(v.length, compact, true);
    for (const item of v) n += s.struct ? structSize(s.struct, item) : scalarSize(s.kind, item, compact);
    return n;
  }
  if (s.struct) {
    if (s.nullable) return v === null ? 1 : 1 + structSize(s.struct, v);
    return structSize(s.struct, v);
  }
  return scalarSize(s.kind, v, compact);
}

/** Deep equality of decoded values (tagged structs are sent only when they differ from their default). */
function sameValue(a: any, b: any): boolean {
  if (a === b) return true;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  for (const k of Object.keys(b)) if (!sameValue(a[k], b[k])) return false;
  return true;
}

function isDefault(s: Step, v: any): boolean {
  if (v === undefined) return true;
  if (s.array) return v !== null && v.length === 0 && s.defaultValue() !== null;
  if (s.struct) return v !== null && sameValue(v, s.defaultValue());
  const d = s.defaultValue();
  if (Buffer.isBuffer(d)) return Buffer.isBuffer(v) && d.equals(v);
  return v === d;
}

export function structSize(c: CompiledStruct, o: Message): number {
  let n = 0;
  for (const s of c.regular) n += valueSize(s, o[s.name], c.flexible);
  if (c.flexible) {
    let count = 0;
    for (const s of c.tagged) {
      const v = o[s.name];
      if (isDefault(s, v)) continue;
      const size = valueSize(s, v, true);
      n += uvarintSize(s.tag) + uvarintSize(size) + size;
      count++;
    }
    n += uvarintSize(count);
  }
  return n;
}

export function messageSize(def: MessageDef, version: number, o: Message): number {
  return structSize(compile(def, version), o);
}

// ---------------------------------------------------------------- write

function writeScalar(w: Writer, kind: Kind, v: any, compact: boolean): void {
  switch (kind) {
    case Kind.Bool:
      w.bool(v);
      return;
    case Kind.Int8:
      w.int8(v);
      return;
    case Kind.Int16:
      w.int16(v);
      return;
    case Kind.Uint16:
      w.uint16(v);
      return;
    case Kind.Int32:
      w.int32(v);
      return;
    case Kind.Uint32:
      w.uint32(v);
      return;
    case Kind.Int64:
      w.int64(v);
      return;
    case Kind.Float64:
      w.float64(v);
      return;
    case Kind.Uuid:
      w.uuid(v);
      return;
    case Kind.String:
      w.string(v ?? null, v == null ? 0 : Buffer.byteLength(v, 'utf8'), compact);
      return;
    case Kind.Bytes:
    case Kind.Records:
      if (Array.isArray(v)) {
        let n = 0;
        for (const c of v as Buffer[]) n += c.length;
        w.length(n, compact, true);
        for (const c of v as Buffer[]) w.rawOrSplice(c);
      } else w.bytes(v ?? null, compact);
      return;
    default:
      throw new Error('unreachable');
  }
}

function writeValue(w: Writer, s: Step, v: any, compact: boolean): void {
  if (v === undefined) v = s.defaultValue();
  if (s.array) {
    if (v === null) {
      w.length(-1, compact, true);
      return;
    }
    w.length(v.length, compact, true);
    for (const item of v) {
      if (s.struct) writeStruct(w, s.struct, item);
      else writeScalar(w, s.kind, item, compact);
    }
    return;
  }
  if (s.struct) {
    if (s.nullable) {
      w.int8(v === null ? -1 : 1);
      if (v === null) return;
    }
    writeStruct(w, s.struct, v);
    return;
  }
  writeScalar(w, s.kind, v, compact);
}

export function writeStruct(w: Writer, c: CompiledStruct, o: Message): void {
  for (const s of c.regular) writeValue(w, s, o[s.name], c.flexible);
  if (c.flexible) {
    let count = 0;
    for (const s of c.tagged) if (!isDefault(s, o[s.name])) count++;
    w.uvarint(count);
    for (const s of c.tagged) {
      const v = o[s.name];
      if (isDefault(s, v)) continue;
      w.uvarint(s.tag);
      w.uvarint(valueSize(s, v, true));
      writeValue(w, s, v, true);
    }
  }
}

/** Encodes a message body into a new Buffer of exactly its size. */
export function encode(def: MessageDef, version: number, o: Message, w = new Writer()): Buffer {
  const c = compile(def, version);
  const buf = Buffer.allocUnsafe(structSize(c, o));
  writeStruct(w.reset(buf), c, o);
  return buf;
}
