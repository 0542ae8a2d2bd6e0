import type { Observation } from './scenario-kit.js';

/**
 * Differences between two observation logs that a client could notice, minus the ones written
 * down as intended (INTENDED_DIFFERENCES, each with its reason; docs/amqp.md repeats them).
 */
export const INTENDED_DIFFERENCES: Record<string, string> = {
  'quorum-delivery-limit-expires-max-bytes/max-length-bytes':
    'polybroker counts body bytes for x-max-length-bytes, as RabbitMQ documents it; RabbitMQ 3.10 counts more per message (20 bodies of 10 bytes under a 100-byte limit keep 1), so it keeps 1 where polybroker keeps 2.',
  'frame-errors/502 unknown field type':
    'RabbitMQ 3.10 drops the socket without a close frame; polybroker answers connection.close 502 SYNTAX_ERROR naming the bad type.',
  'connection-errors/530 unknown vhost':
    'amqplib reports only "Expected ConnectionOpenOk"; both brokers close with 530 NOT_ALLOWED, the texts differ ("vhost x not found").',
};

/**
 * Differences inside a value that are intended wherever they occur: the value is compared again
 * with them removed, and the difference is reported as intended with this reason.
 */
const INTENDED_NORMALIZATIONS: { reason: string; apply(v: unknown): unknown }[] = [
  {
    reason: 'the core also writes x-last-death-reason/-queue/-exchange headers, as RabbitMQ 3.13+ does (3.10 writes only x-first-death-*)',
    apply: (v) => JSON.parse(JSON.stringify(v), (k, val: unknown) => (k.startsWith('x-last-death-') ? undefined : val)),
  },
];

/**
 * Differences a client can notice that are bugs outside the AMQP adapter, reported to their
 * owner. They are printed as known bugs (not hidden as intended) and do not fail the interop
 * tests, so the adapter's own regressions stay visible.
 */
export const KNOWN_BUGS: Record<string, string> = {
};

/** Canonical JSON: object keys sorted, so key order (not significant in AMQP tables) is ignored. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      return Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return val;
  });
}

export interface Difference {
  scenario: string;
  event: string;
  reference: unknown;
  polybroker: unknown;
  intended?: string;
  knownBug?: string;
}

export function compareObservations(scenario: string, reference: Observation[], ours: Observation[]): Difference[] {
  const out: Difference[] = [];
  const n = Math.max(reference.length, ours.length);
  for (let i = 0; i < n; i++) {
    const r = reference[i];
    const o = ours[i];
    if (canonical(r) === canonical(o)) continue;
    const event = (r?.[0] ?? o?.[0]) as string;
    let intended = INTENDED_DIFFERENCES[`${scenario}/${event}`];
    for (const n of INTENDED_NORMALIZATIONS) if (!intended && o && canonical(r) === canonical(n.apply(o))) intended = n.reason;
    out.push({ scenario, event, reference: r?.[1] ?? r?.[0], polybroker: o?.[1] ?? o?.[0], intended, knownBug: intended ? undefined : KNOWN_BUGS[`${scenario}/${event}`] });
  }
  return out;
}
