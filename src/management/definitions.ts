/**
 * Definitions in RabbitMQ's JSON format (`GET/POST /api/definitions`, `ctl export/import`):
 * export of every vhost's exchanges, queues, bindings and policies (plus polybroker's
 * multi-partition streams under `polybroker_streams`), and import of a RabbitMQ export,
 * checked whole, then applied idempotently through the same path as the YAML `vhosts:` section.
 */
import { applyVhostDefinitions, definitionProblems, InvalidArgument, type Core, type PolicyTarget, type VhostsSection, type VhostDefinition, type ExchangeType } from '../core/index.js';
import { allOrNothing } from './definitions-undo.js';
import { applyImportedAccess, readImportedAccess } from './definitions-users.js';

import { permissionViews, topicPermissionViews, userView } from './routes-access.js';
import { limitsValue, readLimitsValue } from './routes-limits.js';

export interface RabbitDefinitions {
  rabbit_version?: string;
  rabbitmq_version?: string;
  product_name?: string;
  product_version?: string;
  users?: Record<string, unknown>[];
  vhosts?: { name: string; description?: string; tags?: string[]; metadata?: unknown }[];
  permissions?: Record<string, unknown>[];
  topic_permissions?: Record<string, unknown>[];
  parameters?: { component?: string; vhost?: string; name?: string; value?: unknown }[];
  global_parameters?: Record<string, unknown>[];
  policies?: { vhost?: string; name: string; pattern: string; 'apply-to'?: string; definition: Record<string, unknown>; priority?: number }[];
  queues?: { name: string; vhost?: string; durable?: boolean; auto_delete?: boolean; arguments?: Record<string, unknown>; type?: string }[];
  exchanges?: { name: string; vhost?: string; type: string; durable?: boolean; auto_delete?: boolean; internal?: boolean; arguments?: Record<string, unknown> }[];
  bindings?: { source: string; vhost?: string; destination: string; destination_type?: string; routing_key?: string; arguments?: Record<string, unknown> }[];
  polybroker_streams?: { name: string; vhost?: string; partitions?: number; retention_ms?: number; retention_bytes?: number }[];
}

/** Exchanges every vhost has; RabbitMQ leaves them out of exports too. */
function isDefaultExchange(name: string): boolean {
  return name === '' || name.startsWith('amq.');
}

export type ExportedDefinitions = Required<Pick<RabbitDefinitions, 'vhosts' | 'queues' | 'exchanges' | 'bindings' | 'policies' | 'polybroker_streams' | 'users' | 'permissions'>> & RabbitDefinitions;

export function exportDefinitions(core: Core, version: string, onlyVhost?: string): ExportedDefinitions {
  const out: ExportedDefinitions = {
    rabbit_version: '3.13.0',
    rabbitmq_version: '3.13.0',
    product_name: 'polybroker',
    product_version: version,
    users: [],
    vhosts: [],
    permissions: [],
    topic_permissions: [],
    parameters: [],
    global_parameters: [],
    policies: [],
    queues: [],
    exchanges: [],
    bindings: [],
    polybroker_streams: [],
  };
  if (onlyVhost === undefined) {
    // Permissions on a vhost that does not exist (deleted, or named in the YAML ahead of it) are
    // left out: an import refuses them, as RabbitMQ does (no_such_vhost).
    const exists = (p: Record<string, unknown>) => core.hasVhost(String(p.vhost));
    for (const u of core.users.list()) {
      out.users.push(userView(u));
      out.permissions.push(...permissionViews(u).filter(exists));
      out.topic_permissions!.push(...topicPermissionViews(u).filter(exists));
    }
  }
  for (const vname of core.vhostNames()) {
    if (onlyVhost !== undefined && vname !== onlyVhost) continue;
    const vh = core.vhost(vname);
    out.vhosts.push({ name: vname, description: '', tags: [], metadata: { description: '', tags: [] } });
    // RabbitMQ exports vhost limits as runtime parameters of the vhost-limits component.
    const limits = limitsValue(vh.options.limits);
    if (limits) out.parameters!.push({ value: limits, vhost: vname, component: 'vhost-limits', name: 'limits' });
    for (const p of vh.policies()) out.policies.push({ vhost: vname, name: p.name, pattern: p.pattern, 'apply-to': p.applyTo, definition: p.definition, priority: p.priority ?? 0 });
    for (const q of vh.queues()) {
      // Exclusive queues belong to a connection and are not definitions (RabbitMQ skips them too).
      if (q.exclusive) continue;
      out.queues.push({ name: q.name, vhost: vname, durable: q.durable, auto_delete: q.autoDelete, arguments: q.arguments });
    }
    for (const x of vh.exchanges()) {
      if (isDefaultExchange(x.name)) continue;
      out.exchanges.push({ name: x.name, vhost: vname, type: x.type, durable: x.durable, auto_delete: x.autoDelete, internal: x.internal, arguments: x.arguments });
    }
    const streamNames = new Set(vh.streams().map((s) => s.name));
    for (const s of vh.streams()) {
      out.polybroker_streams.push({ name: s.name, vhost: vname, partitions: s.partitions, retention_ms: s.retentionMs, retention_bytes: s.retentionBytes });
    }
    for (const b of vh.bindings()) {
      if (b.source === '') continue;
      // A stream's automatic amq.topic bindings are recreated with the stream.
      if (b.destinationKind === 'stream' && b.source === 'amq.topic' && streamNames.has(b.destination) && (b.routingKey === b.destination || b.routingKey === `${b.destination}.#`)) continue;
      const queueLike = vh.queue(b.destination) !== null || b.destinationKind === 'stream';
      if (b.destinationKind !== 'exchange' && !queueLike) continue;
      out.bindings.push({ source: b.source, vhost: vname, destination: b.destination, destination_type: b.destinationKind === 'exchange' ? 'exchange' : 'queue', routing_key: b.routingKey, arguments: b.arguments });
    }
  }
  return out;
}

const EXCHANGE_TYPES = new Set(['direct', 'fanout', 'topic', 'headers']);

function policyTarget(applyTo: string | undefined): PolicyTarget {
  switch (applyTo) {
    case undefined:
    case 'all':
      return 'all';
    case 'exchanges':
      return 'exchanges';
    case 'streams':
      return 'streams';
    case 'queues':
    case 'classic_queues':
    case 'quorum_queues':
      return 'queues';
    default:
      throw new InvalidArgument(`policy apply-to '${applyTo}' is not one of all, queues, classic_queues, quorum_queues, streams, exchanges`);
  }
}

/** Converts a RabbitMQ definitions document to the YAML `vhosts:` shape (validating as it goes). */
export function toVhostsSection(defs: RabbitDefinitions, defaultVhost?: string): VhostsSection {
  if (typeof defs !== 'object' || defs === null || Array.isArray(defs)) throw new InvalidArgument('definitions must be a JSON object');
  const section: VhostsSection = {};
  const vhostOf = (item: { vhost?: string }, what: string): VhostDefinition => {
    const v = item.vhost ?? defaultVhost;
    if (typeof v !== 'string') throw new InvalidArgument(`${what} has no vhost`);
    return (section[v] ??= {});
  };
  for (const v of defs.vhosts ?? []) {
    if (typeof v?.name !== 'string') throw new InvalidArgument('a vhost has no name');
    section[v.name] ??= {};
  }
  for (const p of defs.parameters ?? []) {
    const where = `parameter '${String(p?.name)}' of component '${String(p?.component)}'`;
    if (p?.component !== 'vhost-limits') throw new InvalidArgument(`${where}: polybroker has no such component (only vhost-limits; no federation or shovel)`);
    const read = readLimitsValue(p.value);
    if ('problem' in read) throw new InvalidArgument(`${where} in vhost '${String(p.vhost)}': ${read.problem}`);
    vhostOf(p, where).limits = read.limits;
  }
  for (const p of defs.policies ?? []) {
    if (typeof p.name !== 'string' || typeof p.pattern !== 'string') throw new InvalidArgument('a policy needs name and pattern');
    (vhostOf(p, `policy '${p.name}'`).policies ??= []).push({ name: p.name, pattern: p.pattern, applyTo: policyTarget(p['apply-to']), priority: p.priority ?? 0, definition: p.definition ?? {} });
  }
  for (const x of defs.exchanges ?? []) {
    if (typeof x.name !== 'string') throw new InvalidArgument('an exchange has no name');
    if (isDefaultExchange(x.name)) continue;
    if (!EXCHANGE_TYPES.has(x.type)) throw new InvalidArgument(`exchange '${x.name}' has type '${x.type}' (supported: direct, fanout, topic, headers)`);
    (vhostOf(x, `exchange '${x.name}'`).exchanges ??= []).push({ name: x.name, type: x.type as ExchangeType, durable: x.durable ?? true, autoDelete: x.auto_delete ?? false, internal: x.internal ?? false, arguments: x.arguments ?? {} });
  }
  for (const q of defs.queues ?? []) {
    if (typeof q.name !== 'string') throw new InvalidArgument('a queue has no name');
    const args = { ...(q.arguments ?? {}) };
    if (q.type && args['x-queue-type'] === undefined && q.type !== 'classic') args['x-queue-type'] = q.type;
    (vhostOf(q, `queue '${q.name}'`).queues ??= []).push({ name: q.name, durable: q.durable ?? true, autoDelete: q.auto_delete ?? false, arguments: args });
  }
  for (const s of defs.polybroker_streams ?? []) {
    if (typeof s.name !== 'string') throw new InvalidArgument('a stream has no name');
    (vhostOf(s, `stream '${s.name}'`).streams ??= []).push({ name: s.name, partitions: s.partitions, retentionMs: s.retention_ms, retentionBytes: s.retention_bytes });
  }
  for (const b of defs.bindings ?? []) {
    if (typeof b.source !== 'string' || typeof b.destination !== 'string') throw new InvalidArgument('a binding needs source and destination');
    (vhostOf(b, `binding '${b.source}' -> '${b.destination}'`).bindings ??= []).push({
      source: b.source,
      destination: b.destination,
      destinationType: b.destination_type === 'exchange' ? 'exchange' : 'queue',
      routingKey: b.routing_key ?? '',
      arguments: b.arguments ?? {},
    });
  }
  return section;
}

/**
 * A flat picture of the definitions (`kind name in vhost` -> JSON) to tell what an import or
 * reload changed.
 */
export function definitionsFingerprint(core: Core): Map<string, string> {
  const d = exportDefinitions(core, '');
  const out = new Map<string, string>();
  for (const v of d.vhosts) out.set(`vhost '${v.name}'`, '');
  for (const x of d.exchanges) out.set(`exchange '${x.name}' in vhost '${x.vhost}'`, JSON.stringify(x));
  for (const q of d.queues) out.set(`queue '${q.name}' in vhost '${q.vhost}'`, JSON.stringify(q));
  for (const s of d.polybroker_streams) out.set(`stream '${s.name}' in vhost '${s.vhost}'`, JSON.stringify(s));
  for (const p of d.policies) out.set(`policy '${p.name}' in vhost '${p.vhost}'`, JSON.stringify(p));
  for (const p of d.parameters ?? []) out.set(`${String(p.component)} of vhost '${String(p.vhost)}'`, JSON.stringify(p.value));
  for (const b of d.bindings) out.set(`binding '${b.source}' -> ${b.destination_type} '${b.destination}' (key '${b.routing_key}') in vhost '${b.vhost}'`, JSON.stringify(b.arguments));
  return out;
}

export function describeChanges(before: Map<string, string>, after: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    if (!before.has(k)) out.push(`added ${k}`);
    else if (before.get(k) !== v) out.push(`changed ${k}`);
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`removed ${k}`);
  return out;
}

/** Splits a change set into parts of at most `size` items of one kind (in the order the core applies them), to report progress. */
function sectionParts(section: VhostsSection, size = 200): VhostsSection[] {
  const parts: VhostsSection[] = [];
  for (const [v, def] of Object.entries(section)) {
    const options: VhostDefinition = {};
    if (def.durability) options.durability = def.durability;
    if (def.limits) options.limits = def.limits;
    let any = false;
    for (const kind of ['policies', 'exchanges', 'queues', 'streams', 'bindings'] as const) {
      const items = (def[kind] ?? []) as unknown[];
      for (let i = 0; i < items.length; i += size) {
        parts.push({ [v]: { ...options, [kind]: items.slice(i, i + size) } });
        any = true;
      }
    }
    if (!any) parts.push({ [v]: options });
  }
  return parts;
}

/**
 * Imports a RabbitMQ definitions document; returns what changed. All or nothing: the whole
 * document is checked first (its shape, users and credentials, the vhosts objects and
 * permissions name, permissions' users and regular expressions, what the core would refuse:
 * `definitionProblems`), and a problem
 * anywhere refuses it with InvalidArgument naming every problem and changes nothing; a refusal
 * while applying undoes what was applied (definitions-undo.ts). `progress` is told as parts
 * are applied (`ctl import`'s progress bar).
 */
export async function importDefinitions(core: Core, defs: RabbitDefinitions, defaultVhost?: string, progress?: (done: number, total: number) => void): Promise<string[]> {
  const section = toVhostsSection(defs, defaultVhost);
  // RabbitMQ definitions carry no polybroker vhost options (durability, limits): an existing
  // vhost keeps its own (applying a section sets the vhost's options to the section's).
  for (const [v, def] of Object.entries(section)) {
    if (!core.hasVhost(v)) continue;
    const o = core.vhost(v).options;
    if (o.durability) def.durability = o.durability;
    // Limits the document sets (vhost-limits parameters) replace the vhost's.
    if (o.limits && !def.limits) def.limits = { ...o.limits };
  }
  const declared = new Set((defs.vhosts ?? []).map((v) => v.name));
  const vhostKnown = (v: string) => declared.has(v) || core.hasVhost(v);
  const { access, problems } = readImportedAccess(core, defs, vhostKnown);
  // As RabbitMQ: objects go into vhosts that exist or that the document lists (no_such_vhost).
  for (const v of Object.keys(section)) if (!vhostKnown(v)) problems.push(`no vhost '${v}' in the definitions or the broker (its exchanges, queues, bindings or policies name it)`);
  problems.push(...definitionProblems(core, section));
  if (problems.length > 0) throw new InvalidArgument(`${problems.join('; ')}; nothing was changed`);
  const parts = sectionParts(section);
  const before = definitionsFingerprint(core);
  return allOrNothing(core, async () => {
    for (let i = 0; i < parts.length; i++) {
      await applyVhostDefinitions(core, parts[i]);
      progress?.(i + 1, parts.length + 1);
    }
    const changes = describeChanges(before, definitionsFingerprint(core));
    changes.push(...(await applyImportedAccess(core, access)));
    progress?.(parts.length + 1, parts.length + 1);
    return changes;
  });
}
