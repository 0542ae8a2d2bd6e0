import { LISTENER_NAMES } from './sections/listeners.js';

/** A value set from outside the file, applied over it before validation. */
export interface ConfigOverride {
  path: string[];
  value: unknown;
  /** Named in errors instead of a line, e.g. `environment POLYBROKER_AMQP_PORT`. */
  source: string;
}

/**
 * Overrides from the environment: `POLYBROKER_DATA_DIR` and, for each listener NAME,
 * `POLYBROKER_<NAME>_HOST` / `POLYBROKER_<NAME>_PORT`. A port that is not all digits stays a
 * string, so validation reports it like any other wrong value.
 */
export function environmentOverrides(env: NodeJS.ProcessEnv): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  const take = (name: string, path: string[], numeric: boolean) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const value = numeric && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
    out.push({ path, value, source: `environment ${name}=${raw}` });
  };
  take('POLYBROKER_DATA_DIR', ['node', 'dataDir'], false);
  for (const listener of LISTENER_NAMES) {
    const upper = listener.toUpperCase();
    take(`POLYBROKER_${upper}_HOST`, ['listeners', listener, 'host'], false);
    take(`POLYBROKER_${upper}_PORT`, ['listeners', listener, 'port'], true);
  }
  return out;
}

/** Sets `value` at `path`, creating maps on the way (and replacing non-maps, which the override wins over). */
export function applyOverride(target: Record<string, unknown>, override: ConfigOverride): void {
  let node = target;
  for (const segment of override.path.slice(0, -1)) {
    const next = node[segment];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[override.path[override.path.length - 1]!] = override.value;
}
