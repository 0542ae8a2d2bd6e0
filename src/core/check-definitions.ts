import type { Arguments, Core, ExchangeInfo, Policy, Vhost } from './api.js';
import type { VhostsSection } from './definitions-config.js';
import { delayedTypeArg } from './exchange.js';
import { compileHeadersBinding } from './headers-match.js';
import { checkEquivalentArgs, effectiveArguments, parseQueueSettings, pickPolicy } from './queue-args.js';
import { DEFAULT_EXCHANGES, normalizeArgs } from './vhost.js';

const EXCHANGE_TYPES = ['direct', 'fanout', 'topic', 'headers', 'x-delayed-message'];

interface QueueShape {
  durable: boolean;
  autoDelete: boolean;
  arguments: Arguments;
  /** A connection's exclusive queue: a definition cannot redeclare it. */
  exclusive: boolean;
  /** ...owned by a connection: a definition cannot bind it either (RESOURCE_LOCKED). */
  owned: boolean;
}

/** The message of what `fn` throws, or null. */
function refusal(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * What `applyVhostDefinitions` would refuse in `section`, checked against the running core
 * without changing anything: an exchange, queue or stream redeclared with other properties or
 * arguments (also twice in the section), an unknown exchange type, invalid queue arguments,
 * a reserved `amq.` name, the vhost's queue limit, a binding whose source or destination
 * neither exists nor is defined before it, a bad headers-binding `x-match`, an invalid policy
 * pattern. A reload or a definitions import refuses on any of these before applying anything;
 * undoing a refusal partway (management/definitions-undo.ts) stays as the safety net for what
 * only applying shows.
 */
export function definitionProblems(core: Core, section: VhostsSection | undefined): string[] {
  const problems: string[] = [];
  for (const [vname, def] of Object.entries(section ?? {})) {
    const vh: Vhost | null = core.hasVhost(vname) ? core.vhost(vname) : null;
    const where = (kind: string, name: string) => `${kind} '${name}' in vhost '${vname}'`;
    const problem = (what: string, why: string | null) => {
      if (why !== null) problems.push(`${what}: ${why}`);
      return why !== null;
    };

    const policies = new Map<string, Policy>((vh?.policies() ?? []).map((p) => [p.name, p]));
    for (const p of def.policies ?? []) {
      if (refusal(() => new RegExp(p.pattern)) !== null) {
        problem(`policy '${p.name}' in vhost '${vname}'`, `invalid pattern '${p.pattern}'`);
        continue;
      }
      policies.set(p.name, { name: p.name, pattern: p.pattern, applyTo: p.applyTo ?? 'all', priority: p.priority ?? 0, definition: p.definition });
    }

    const exchanges = new Map<string, Omit<ExchangeInfo, 'name'>>();
    for (const [name, type] of DEFAULT_EXCHANGES) exchanges.set(name, { type, durable: true, autoDelete: false, internal: false, arguments: {} });
    for (const x of vh?.exchanges() ?? []) exchanges.set(x.name, x);
    for (const x of def.exchanges ?? []) {
      const what = where('exchange', x.name);
      const next = { type: x.type, durable: x.durable ?? true, autoDelete: x.autoDelete ?? false, internal: x.internal ?? false, arguments: normalizeArgs(x.arguments) };
      if (!EXCHANGE_TYPES.includes(x.type)) problem(what, `invalid exchange type '${x.type}'`);
      else if (x.type === 'x-delayed-message' && delayedTypeArg(next.arguments) === null) problem(what, "Invalid argument, 'x-delayed-type' must be an existing exchange type");
      const current = exchanges.get(x.name);
      if (!current) {
        if (x.name === '' || x.name.startsWith('amq.')) problem(what, "exchange names starting with 'amq.' are reserved");
        else exchanges.set(x.name, next);
        continue;
      }
      for (const prop of ['type', 'durable', 'autoDelete', 'internal'] as const) {
        if (current[prop] !== next[prop]) problem(what, `inequivalent arg '${prop}': declared '${String(next[prop])}' but current is '${String(current[prop])}'`);
      }
      problem(what, refusal(() => checkEquivalentArgs(current.arguments, next.arguments, what)));
    }

    const queues = new Map<string, QueueShape>();
    const streams = new Map<string, number>();
    for (const q of vh?.queues() ?? []) if (q.type !== 'stream') queues.set(q.name, { durable: q.durable, autoDelete: q.autoDelete, arguments: q.arguments, exclusive: q.exclusive, owned: q.exclusive && q.owner !== null });
    for (const s of vh?.streams() ?? []) streams.set(s.name, s.partitions);
    let queueCount = queues.size;
    // declareVhost replaces the options with the section's: its limit (or none) counts.
    const maxQueues = def.limits?.maxQueues ?? -1;
    for (const q of def.queues ?? []) {
      const what = where('queue', q.name);
      const args = normalizeArgs(q.arguments);
      const asStream = args['x-queue-type'] === 'stream';
      if (asStream ? queues.has(q.name) : streams.has(q.name)) {
        problem(what, `inequivalent arg 'x-queue-type': declared '${asStream ? 'stream' : 'classic'}' but current is '${asStream ? 'classic' : 'stream'}'`);
        continue;
      }
      const current = asStream ? undefined : queues.get(q.name);
      if (current) {
        if (current.exclusive) problem(what, 'it is the exclusive queue of a connection');
        for (const prop of ['durable', 'autoDelete'] as const) {
          if (current[prop] !== (q[prop] ?? (prop === 'durable'))) problem(what, `inequivalent arg '${prop}': declared '${String(q[prop] ?? prop === 'durable')}' but current is '${String(current[prop])}'`);
        }
        problem(what, refusal(() => checkEquivalentArgs(current.arguments, args, what)));
        continue;
      }
      if (asStream && streams.has(q.name)) continue;
      if (q.name.startsWith('amq.') && !q.name.startsWith('amq.gen-')) {
        problem(what, "queue names starting with 'amq.' are reserved");
        continue;
      }
      if (problem(what, refusal(() => parseQueueSettings(effectiveArguments(args, asStream ? null : pickPolicy(policies.values(), q.name, 'queues')), what)))) continue;
      if (asStream) streams.set(q.name, 1);
      else {
        if (maxQueues >= 0 && queueCount >= maxQueues) problem(what, `queue limit (${maxQueues}) of vhost '${vname}' is reached`);
        queueCount++;
        queues.set(q.name, { durable: q.durable ?? true, autoDelete: q.autoDelete ?? false, arguments: args, exclusive: false, owned: false });
      }
    }

    for (const s of def.streams ?? []) {
      const what = where('stream', s.name);
      const partitions = streams.get(s.name);
      if (partitions !== undefined) {
        if (s.partitions !== undefined && s.partitions !== partitions) problem(what, `has ${partitions} partitions, declared with ${s.partitions}`);
      } else if (queues.has(s.name)) problem(what, 'a queue has that name');
      else streams.set(s.name, s.partitions ?? 1);
    }

    for (const b of def.bindings ?? []) {
      const kind = b.destinationType ?? 'queue';
      const what = `binding '${b.source}' -> ${kind} '${b.destination}' in vhost '${vname}'`;
      if (b.source === '') problem(what, 'operation not permitted on the default exchange (bind)');
      else if (!exchanges.has(b.source)) problem(what, `no exchange '${b.source}' in vhost '${vname}'`);
      else {
        const src = exchanges.get(b.source)!;
        const routing = src.type === 'x-delayed-message' ? delayedTypeArg(src.arguments) : src.type;
        if (routing === 'headers') problem(what, refusal(() => compileHeadersBinding(normalizeArgs(b.arguments))));
      }
      if (kind === 'exchange') {
        if (!exchanges.has(b.destination)) problem(what, `no exchange '${b.destination}' in vhost '${vname}'`);
      } else if (queues.get(b.destination)?.owned) problem(what, `queue '${b.destination}' is the exclusive queue of a connection (RESOURCE_LOCKED)`);
      else if (!queues.has(b.destination) && !streams.has(b.destination)) problem(what, `no ${kind} '${b.destination}' in vhost '${vname}'`);
    }
  }
  return problems;
}
