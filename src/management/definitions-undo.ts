/**
 * All-or-nothing application of a change set of definitions and users (hot reload,
 * definitions import). Callers check the whole change set first (`definitionProblems` and
 * their user checks), so a refusal here is what only applying shows (a write that fails, a
 * rule the checks do not know). The core applies definitions one at a time; what came before
 * a refusal would stay. So the state is noted first and, on a refusal, every object the change
 * set added is removed again, changed policies, vhost options and users are put back, added
 * users are deleted, and the refusal is passed on. Definitions of existing objects are never
 * changed by a change set (that is a conflict), so removing what was added restores the state
 * before.
 */
import type { Core, Policy, UserDefinition, VhostOptions } from '../core/index.js';

interface DefinitionsState {
  vhosts: Map<string, Readonly<VhostOptions>>;
  exchanges: Set<string>;
  queues: Set<string>;
  streams: Set<string>;
  policies: Map<string, Policy>;
  bindings: Set<string>;
  users: Map<string, UserDefinition>;
}

const key = (...parts: unknown[]) => JSON.stringify(parts);

function noteState(core: Core): DefinitionsState {
  const s: DefinitionsState = { vhosts: new Map(), exchanges: new Set(), queues: new Set(), streams: new Set(), policies: new Map(), bindings: new Set(), users: new Map() };
  for (const u of core.users.list()) s.users.set(u.name, structuredClone(u));
  for (const v of core.vhostNames()) {
    const vh = core.vhost(v);
    s.vhosts.set(v, structuredClone(vh.options));
    for (const x of vh.exchanges()) s.exchanges.add(key(v, x.name));
    for (const q of vh.queues()) s.queues.add(key(v, q.name));
    for (const st of vh.streams()) s.streams.add(key(v, st.name));
    for (const p of vh.policies()) s.policies.set(key(v, p.name), structuredClone(p));
    for (const b of vh.bindings()) s.bindings.add(key(v, b.source, b.destinationKind, b.destination, b.routingKey, b.arguments));
  }
  return s;
}

/** Puts the definitions back as `before` noted them; returns what could not be undone (for the log). */
async function restore(core: Core, before: DefinitionsState): Promise<string[]> {
  const failures: string[] = [];
  const attempt = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message}`);
    }
  };
  for (const v of core.vhostNames()) {
    if (!before.vhosts.has(v)) {
      await attempt(`delete vhost '${v}'`, () => core.deleteVhost(v));
      continue;
    }
    const vh = core.vhost(v);
    for (const b of vh.bindings()) {
      if (b.source === '' || before.bindings.has(key(v, b.source, b.destinationKind, b.destination, b.routingKey, b.arguments))) continue;
      await attempt(`unbind '${b.source}' -> '${b.destination}'`, () =>
        b.destinationKind === 'exchange' ? vh.unbindExchange(b.destination, b.source, b.routingKey, b.arguments) : vh.unbindQueue(b.destination, b.source, b.routingKey, b.arguments),
      );
    }
    for (const st of vh.streams()) if (!before.streams.has(key(v, st.name))) await attempt(`delete stream '${st.name}'`, () => vh.deleteStream(st.name));
    for (const q of vh.queues()) if (!before.queues.has(key(v, q.name)) && !before.streams.has(key(v, q.name))) await attempt(`delete queue '${q.name}'`, () => vh.deleteQueue(q.name));
    for (const x of vh.exchanges()) if (!before.exchanges.has(key(v, x.name))) await attempt(`delete exchange '${x.name}'`, () => vh.deleteExchange(x.name));
    for (const p of vh.policies()) {
      const old = before.policies.get(key(v, p.name));
      if (!old) await attempt(`delete policy '${p.name}'`, () => vh.deletePolicy(p.name));
      else if (JSON.stringify(old) !== JSON.stringify(p)) await attempt(`restore policy '${p.name}'`, () => vh.setPolicy(old));
    }
    const options = before.vhosts.get(v)!;
    if (JSON.stringify(options) !== JSON.stringify(vh.options)) await attempt(`restore options of vhost '${v}'`, () => core.declareVhost(v, options));
  }
  for (const u of core.users.list()) {
    const old = before.users.get(u.name);
    if (!old) await attempt(`delete user '${u.name}'`, () => core.users.deleteUser(u.name));
    else if (JSON.stringify(old) !== JSON.stringify(u)) {
      await attempt(`restore user '${u.name}'`, () => core.users.putUser(u.name, { credentials: old.credentials, tags: old.tags, permissions: old.permissions, topicPermissions: old.topicPermissions }));
    }
  }
  return failures;
}

/** A change set the core refused partway; everything it had applied was undone. */
export class DefinitionsRefused extends Error {
  constructor(
    readonly reason: Error,
    readonly undoFailures: string[],
  ) {
    super(`${reason.message}; nothing was changed${undoFailures.length ? ` (but undoing failed for: ${undoFailures.join('; ')})` : ''}`);
    this.name = 'DefinitionsRefused';
  }
}

/** Runs `apply` (definition and user changes); a refusal anywhere in it puts definitions and users back as they were (DefinitionsRefused). */
export async function allOrNothing<T>(core: Core, apply: () => Promise<T>): Promise<T> {
  const before = noteState(core);
  try {
    return await apply();
  } catch (e) {
    throw new DefinitionsRefused(e as Error, await restore(core, before));
  }
}
