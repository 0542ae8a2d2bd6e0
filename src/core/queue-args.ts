/**
 * Queue arguments (x-...) and policies: validation, policy merge and the parsed settings a
 * queue runs with. Invalid values fail with PreconditionFailed in RabbitMQ's words
 * ("invalid arg 'x-max-length' for queue 'q' in vhost '/'").
 */
import type { Arguments, OverflowMode, Policy, QueueType } from './api.js';
import { PreconditionFailed } from './errors.js';

export interface QueueSettings {
  messageTtl: number | null;
  expires: number | null;
  maxLength: number | null;
  maxLengthBytes: number | null;
  overflow: OverflowMode;
  deadLetterExchange: string | null;
  deadLetterRoutingKey: string | null;
  /** 0 = not a priority queue. */
  maxPriority: number;
  singleActiveConsumer: boolean;
  deliveryLimit: number | null;
  type: QueueType;
  maxAgeMs: number | null;
  /** x-retry-delays: a negative ack becomes a delayed redelivery (docs/business.md); null = off. */
  retryDelaysMs: number[] | null;
  /** x-max-retries (default 16, RocketMQ's): retries before the message is dead-lettered. */
  maxRetries: number;
  /** x-retry-on-disconnect: deliveries left unacked by a closed channel count as failed attempts. */
  retryOnDisconnect: boolean;
}

/** Policy definition keys -> queue argument names. */
const POLICY_KEYS: Record<string, string> = {
  'message-ttl': 'x-message-ttl',
  expires: 'x-expires',
  'max-length': 'x-max-length',
  'max-length-bytes': 'x-max-length-bytes',
  overflow: 'x-overflow',
  'dead-letter-exchange': 'x-dead-letter-exchange',
  'dead-letter-routing-key': 'x-dead-letter-routing-key',
  'delivery-limit': 'x-delivery-limit',
  'max-age': 'x-max-age',
  'alternate-exchange': 'alternate-exchange',
  'max-priority': 'x-max-priority',
  'retry-delays': 'x-retry-delays',
  'max-retries': 'x-max-retries',
  'retry-on-disconnect': 'x-retry-on-disconnect',
};

/** RocketMQ's default number of retries of a consumer's failed message. */
export const DEFAULT_MAX_RETRIES = 16;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses one duration: `250ms`, `1s`, `5m`, `2h`, `1d`, or a number of ms. */
export function parseDurationMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v === 'bigint') return Number(v);
  const t = Buffer.isBuffer(v) ? v.toString('utf8') : v;
  if (typeof t !== 'string') return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(t);
  if (!m) return null;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!);
}

/** x-retry-delays: `"1s 5s 10s 30s 1m"` (spaces or commas), or an array of durations. */
function retryDelays(args: Arguments, where: string): number[] | null {
  const raw = text(args['x-retry-delays']);
  if (raw === undefined || raw === null) return null;
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/).filter((x) => x !== '') : [raw];
  const out: number[] = [];
  for (const it of items) {
    const ms = parseDurationMs(it);
    if (ms === null || ms < 1) invalid('x-retry-delays', "expected durations like '1s 5s 1m 2h'", raw, where);
    out.push(ms);
  }
  if (out.length === 0) invalid('x-retry-delays', 'expected at least one delay', raw, where);
  return out;
}

function text(v: unknown): unknown {
  return Buffer.isBuffer(v) ? v.toString('utf8') : v;
}

/** The policy that applies to a resource: highest priority among matches, ties by name. */
export function pickPolicy(policies: Iterable<Policy>, name: string, kind: 'queues' | 'streams' | 'exchanges'): Policy | null {
  let best: Policy | null = null;
  for (const p of policies) {
    if (p.applyTo !== 'all' && p.applyTo !== kind) continue;
    if (!new RegExp(p.pattern).test(name)) continue;
    if (!best || (p.priority ?? 0) > (best.priority ?? 0) || ((p.priority ?? 0) === (best.priority ?? 0) && p.name < best.name)) best = p;
  }
  return best;
}

/** Declared arguments over the policy's definition (arguments win). */
export function effectiveArguments(args: Arguments, policy: Policy | null): Arguments {
  if (!policy) return args;
  const out: Arguments = {};
  for (const [k, v] of Object.entries(policy.definition)) out[POLICY_KEYS[k] ?? k] = v;
  for (const [k, v] of Object.entries(args)) out[k] = v;
  return out;
}

function invalid(arg: string, what: string, value: unknown, where: string): never {
  throw new PreconditionFailed(`invalid arg '${arg}' for ${where}: ${what}, got ${JSON.stringify(typeof value === 'bigint' ? value.toString() : value)}`);
}

function nonNegInt(args: Arguments, name: string, where: string, min = 0): number | null {
  const raw = text(args[name]);
  if (raw === undefined || raw === null) return null;
  const v = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) invalid(name, min > 0 ? `expected an integer >= ${min}` : 'expected a non-negative integer', raw, where);
  return v;
}

/** Parses `x-max-age` ('7D', '12h', '30m', '10s', or ms as a number). */
function maxAge(args: Arguments, where: string): number | null {
  const raw = text(args['x-max-age']);
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'number') return raw;
  const m = /^(\d+)(Y|M|D|h|m|s)$/.exec(String(raw));
  if (!m) invalid('x-max-age', 'expected <n><Y|M|D|h|m|s>', raw, where);
  const unit: Record<string, number> = { Y: 365 * 86400e3, M: 30 * 86400e3, D: 86400e3, h: 3600e3, m: 60e3, s: 1e3 };
  return Number(m[1]) * unit[m[2]!]!;
}

/** Settings of every queue declared without arguments: one shared object (idle-queue memory). */
let defaultSettings: QueueSettings | null = null;

/**
 * Validates and parses queue arguments (already merged with the policy). Queues without
 * arguments share one settings object; callers replace settings, never modify them.
 */
export function parseQueueSettings(args: Arguments, where: string): QueueSettings {
  let empty = true;
  for (const _ in args) {
    empty = false;
    break;
  }
  if (empty) return (defaultSettings ??= Object.freeze(parseArgs({}, where)) as QueueSettings);
  return parseArgs(args, where);
}

function parseArgs(args: Arguments, where: string): QueueSettings {
  const overflow = text(args['x-overflow']) ?? 'drop-head';
  if (overflow !== 'drop-head' && overflow !== 'reject-publish' && overflow !== 'reject-publish-dlx') {
    invalid('x-overflow', "expected 'drop-head', 'reject-publish' or 'reject-publish-dlx'", overflow, where);
  }
  const type = text(args['x-queue-type']) ?? 'classic';
  if (type !== 'classic' && type !== 'quorum' && type !== 'stream') invalid('x-queue-type', "expected 'classic', 'quorum' or 'stream'", type, where);
  const maxPriority = nonNegInt(args, 'x-max-priority', where) ?? 0;
  if (maxPriority > 255) invalid('x-max-priority', 'expected at most 255', maxPriority, where);
  const dlx = text(args['x-dead-letter-exchange']);
  if (dlx !== undefined && typeof dlx !== 'string') invalid('x-dead-letter-exchange', 'expected a string', dlx, where);
  const dlrk = text(args['x-dead-letter-routing-key']);
  if (dlrk !== undefined && typeof dlrk !== 'string') invalid('x-dead-letter-routing-key', 'expected a string', dlrk, where);
  const sac = args['x-single-active-consumer'];
  if (sac !== undefined && typeof sac !== 'boolean') invalid('x-single-active-consumer', 'expected a boolean', sac, where);
  const rod = text(args['x-retry-on-disconnect']);
  if (rod !== undefined && typeof rod !== 'boolean' && rod !== 'true' && rod !== 'false') invalid('x-retry-on-disconnect', 'expected a boolean', rod, where);
  return {
    messageTtl: nonNegInt(args, 'x-message-ttl', where),
    expires: nonNegInt(args, 'x-expires', where, 1),
    maxLength: nonNegInt(args, 'x-max-length', where),
    maxLengthBytes: nonNegInt(args, 'x-max-length-bytes', where),
    overflow: overflow as OverflowMode,
    deadLetterExchange: (dlx as string | undefined) ?? null,
    deadLetterRoutingKey: (dlrk as string | undefined) ?? null,
    maxPriority,
    singleActiveConsumer: sac === true,
    deliveryLimit: nonNegInt(args, 'x-delivery-limit', where),
    type: type as QueueType,
    maxAgeMs: maxAge(args, where),
    retryDelaysMs: retryDelays(args, where),
    maxRetries: nonNegInt(args, 'x-max-retries', where) ?? DEFAULT_MAX_RETRIES,
    retryOnDisconnect: rod === true || rod === 'true',
  };
}

/** Canonical form of an argument value for equivalence checks. */
export function canonicalArg(v: unknown): string {
  const t = text(v);
  if (typeof t === 'bigint') return t.toString();
  if (typeof t === 'number' || typeof t === 'string' || typeof t === 'boolean') return String(t);
  return JSON.stringify(t, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : Buffer.isBuffer(x) ? x.toString() : x));
}

/** Throws PreconditionFailed naming the first argument that differs (RabbitMQ: "inequivalent arg"). */
export function checkEquivalentArgs(current: Arguments, received: Arguments, where: string): void {
  const keys = new Set([...Object.keys(current), ...Object.keys(received)]);
  for (const k of keys) {
    const a = current[k] === undefined ? undefined : canonicalArg(current[k]);
    const b = received[k] === undefined ? undefined : canonicalArg(received[k]);
    if (a !== b) {
      throw new PreconditionFailed(
        `inequivalent arg '${k}' for ${where}: received ${b === undefined ? 'none' : `'${b}'`} but current is ${a === undefined ? 'none' : `'${a}'`}`,
      );
    }
  }
}
