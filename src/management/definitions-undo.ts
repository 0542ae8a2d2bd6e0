/**
 * All-or-nothing application of a definitions change set (hot reload, definitions import).
 * The core applies definitions one at a time and refuses a conflicting one (a queue redeclared
 * with other arguments, a binding to a missing exchange) only when it gets there; what came
 * before it would stay. So the state is noted first and, on a refusal, every object the change
 * set added is removed again, changed policies and vhost options are put back, and the refusal
 * is passed on. Definitions of existing objects are never changed by a change set (that is a
 * conflict), so removing what was added restores the state before.
 */
import { applyVhostDefinitions, type Core, type Policy, type VhostOptions, type VhostsSection } from '../core/index.js';

interface DefinitionsState {
  vhosts: Map<string, Readonly<VhostOptions>>;
  exchanges: Set<string>;
  queues: Set<string>;
  streams: Set<string>;
  policies: Map<string, Policy>;
  bindings: Set<string>;
}

const key = (...parts: unknown[]) => JSON.stringify(parts);

function noteState(core: Core): DefinitionsState {
  const s: DefinitionsState = { vhosts: new Map(), exchanges: new Set(), queues: new Set(), streams: new Set(), policies: new Map(), bindings: new Set() };
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

/** `applyVhostDefinitions`, but a refusal anywhere leaves the definitions as they were (DefinitionsRefused). */
export async function applyVhostDefinitionsAllOrNothing(core: Core, section: VhostsSection | undefined): Promise<void> {
  if (!section) return;
  const before = noteState(core);
  try {
    await applyVhostDefinitions(core, section);
  } catch (e) {
    throw new DefinitionsRefused(e as Error, await restore(core, before));
  }
}
