import { METHODS, type ArgSpec, type MethodArgs, type MethodName, type MethodSpec } from '../spec/methods.js';
import { ReplyCode } from '../spec/reply-codes.js';
import { AmqpConnectionError, AmqpDecodeError } from './errors.js';
import { readTable, tableSize, writeTable, type FieldTable } from './field-table.js';
import { Reader } from './reader.js';
import { shortstrLength, type Writer } from './writer.js';

/** Frame type octets (spec §4.2.3). */
export const FrameType = { METHOD: 1, HEADER: 2, BODY: 3, HEARTBEAT: 8 } as const;
export const FRAME_END = 0xce;
/** type(1) + channel(2) + size(4) before the payload, frame-end(1) after it. */
export const FRAME_OVERHEAD = 8;

/** A method spec plus what the codec precomputes from it once. */
export interface MethodPlan extends MethodSpec {
  /** payload bytes that do not depend on the values: ids, fixed-width args, bit octets */
  readonly fixedSize: number;
}

function planOf(m: MethodSpec): MethodPlan {
  let fixed = 4;
  let inBits = 0;
  for (const a of m.args) {
    if (a.type === 'bit') {
      if (inBits % 8 === 0) fixed += 1;
      inBits++;
      continue;
    }
    inBits = 0;
    fixed += a.type === 'octet' ? 1 : a.type === 'short' ? 2 : a.type === 'long' ? 4 : a.type === 'longlong' || a.type === 'timestamp' ? 8 : a.type === 'shortstr' ? 1 : a.type === 'longstr' ? 4 : 0;
  }
  return { ...m, fixedSize: fixed };
}

const byId = new Map<number, MethodPlan>();
const byName = new Map<string, MethodPlan>();
for (const m of METHODS) {
  const p = planOf(m);
  byId.set(p.id, p);
  byName.set(p.name, p);
}

export function methodById(id: number): MethodPlan | undefined {
  return byId.get(id);
}

export function methodByName(name: string): MethodPlan {
  const m = byName.get(name);
  if (!m) throw new Error(`no AMQP method ${name}`);
  return m;
}

export interface DecodedMethod<N extends MethodName = MethodName> {
  readonly method: MethodPlan & { name: N };
  readonly args: MethodArgs[N];
}

/** Decodes a method frame payload. Unknown ids and malformed arguments are FRAME_ERRORs. */
export function decodeMethod(payload: Buffer): DecodedMethod {
  if (payload.length < 4) throw new AmqpDecodeError('method frame too short');
  const id = payload.readUInt32BE(0);
  const method = byId.get(id);
  if (!method) throw new UnknownMethodError(id >>> 16, id & 0xffff);
  const r = new Reader(payload, 4);
  const args: Record<string, unknown> = {};
  let bits = 0;
  let bit = 8;
  for (const a of method.args) {
    if (a.type === 'bit') {
      if (bit === 8) { bits = r.octet(); bit = 0; }
      args[a.name] = (bits & (1 << bit++)) !== 0;
      continue;
    }
    bit = 8;
    args[a.name] = readArg(r, a);
  }
  if (r.pos !== payload.length) throw new AmqpDecodeError(`${method.name}: ${payload.length - r.pos} trailing bytes`);
  return { method, args } as DecodedMethod;
}

function readArg(r: Reader, a: ArgSpec): unknown {
  switch (a.type) {
    case 'octet': return r.octet();
    case 'short': return r.short();
    case 'long': return r.long();
    case 'longlong': case 'timestamp': return r.longlong();
    case 'shortstr': return r.shortstr();
    case 'longstr': return Buffer.from(r.longstr());
    case 'table': return readTable(r);
    case 'bit': throw new Error('unreachable');
  }
}

/** A method id the table does not know: closed with COMMAND_INVALID, as RabbitMQ does. */
export class UnknownMethodError extends AmqpConnectionError {
  constructor(classId: number, methodId: number) {
    super(ReplyCode.COMMAND_INVALID, `unknown method ${classId}/${methodId}`, classId, methodId);
  }
}

/** Exact payload size of a method with these arguments. */
export function methodSize(m: MethodPlan, args: Record<string, unknown>): number {
  let n = m.fixedSize;
  for (const a of m.args) {
    switch (a.type) {
      case 'shortstr': n += shortstrLength(argValue(args, a) as string); break;
      case 'longstr': n += (argValue(args, a) as Buffer).length; break;
      case 'table': n += tableSize(argValue(args, a) as FieldTable); break;
      default: break;
    }
  }
  return n;
}

const EMPTY_TABLE: FieldTable = new Map();
const EMPTY_BUFFER = Buffer.alloc(0);

function argValue(args: Record<string, unknown>, a: ArgSpec): unknown {
  const v = args[a.name];
  if (v !== undefined) return v;
  if (a.type === 'table') return EMPTY_TABLE;
  if (a.type === 'longstr') return a.defaultValue !== undefined ? Buffer.from(String(a.defaultValue)) : EMPTY_BUFFER;
  if (a.defaultValue !== undefined) return a.defaultValue;
  return a.type === 'bit' ? false : a.type === 'shortstr' ? '' : 0;
}

/** Appends a complete method frame (header, payload, frame-end) to the writer. */
export function writeMethodFrame<N extends MethodName>(w: Writer, channel: number, name: N, args: Partial<MethodArgs[N]>): void {
  const m = byName.get(name);
  if (!m) throw new Error(`no AMQP method ${name}`);
  writeMethodFramePlan(w, channel, m, args as Record<string, unknown>);
}

export function writeMethodFramePlan(w: Writer, channel: number, m: MethodPlan, args: Record<string, unknown>): void {
  const size = methodSize(m, args);
  w.ensure(size + FRAME_OVERHEAD);
  w.octet(FrameType.METHOD);
  w.short(channel);
  w.long(size);
  w.long(m.id);
  let bits = 0;
  let bit = 0;
  for (const a of m.args) {
    if (a.type === 'bit') {
      if (argValue(args, a)) bits |= 1 << bit;
      if (++bit === 8) { w.octet(bits); bits = 0; bit = 0; }
      continue;
    }
    if (bit > 0) { w.octet(bits); bits = 0; bit = 0; }
    const v = argValue(args, a);
    switch (a.type) {
      case 'octet': w.octet(v as number); break;
      case 'short': w.short(v as number); break;
      case 'long': w.long(v as number); break;
      case 'longlong': case 'timestamp': w.longlong(v as number); break;
      case 'shortstr': w.shortstr(v as string, shortstrLength(v as string)); break;
      case 'longstr': w.longstr(v as Buffer); break;
      case 'table': writeTable(w, v as FieldTable); break;
    }
  }
  if (bit > 0) w.octet(bits);
  w.octet(FRAME_END);
}
