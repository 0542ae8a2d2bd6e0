/**
 * A stream's store policy from its Kafka-style topic configs: `cleanup.policy` `delete`
 * (retention by retention.ms / retention.bytes), `compact` (the store's compactor keeps the
 * latest record per key; no deletion by age or size), or both (`compact,delete`). The
 * compaction settings default to Kafka's: delete.retention.ms one day,
 * min.cleanable.dirty.ratio 0.5, min.compaction.lag.ms 0.
 */
import type { RetentionPolicy } from '../../storage/types.js';

const DAY_MS = 24 * 3600 * 1000;

function num(v: string | undefined, fallback: number): number {
  const n = v === undefined ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

export function streamRetentionPolicy(config: Record<string, string>, retentionMs: number, retentionBytes: number): RetentionPolicy {
  const cleanup = (config['cleanup.policy'] ?? 'delete').split(',').map((p) => p.trim().toLowerCase());
  const compact = cleanup.includes('compact');
  const del = !compact || cleanup.includes('delete');
  return {
    kind: 'stream',
    retentionMs: del ? retentionMs : -1,
    retentionBytes: del ? retentionBytes : -1,
    compaction: compact
      ? {
          deleteRetentionMs: num(config['delete.retention.ms'], DAY_MS),
          minCleanableDirtyRatio: Math.min(1, num(config['min.cleanable.dirty.ratio'], 0.5)),
          minCompactionLagMs: num(config['min.compaction.lag.ms'], 0),
        }
      : undefined,
  };
}
