/**
 * The storage contract the core depends on (ARCHITECTURE.md, "Storage").
 *
 * One shared segmented commit log holds every entry of every partition. A partition is a
 * queue or one partition of a stream; it is known to storage only by a numeric id that the
 * core assigns. An entry is one Kafka RecordBatch v2 (the canonical record format) and may be
 * indexed by several partitions at once: a message routed to N destinations is written once
 * and gets N index units, each partition with its own logical offsets.
 *
 * Offsets are logical and per partition (`offset`); byte places in the log are `position`s.
 * Both are JavaScript numbers: 2^53 is far beyond any log this node will hold.
 */

import type { TimerClock, TimerStore } from './timer/index.js';

export type DurabilityMode = 'sync' | 'interval' | 'none';

export interface StoreOptions {
  /** Directory that holds the commit log, indexes and internal logs. */
  dir: string;
  /** Size of one commit-log segment file in bytes. */
  segmentBytes: number;
  /** Default durability of appends (overridable per append). */
  durability: DurabilityMode;
  /** fsync period for `interval` mode. */
  intervalMs: number;
  /** Called with structured warnings (truncation, corruption) during recovery and operation. */
  warn?: (fields: Record<string, unknown>, msg: string) => void;
  /** Bytes of recent batches kept in memory for `readCached` (default 64 MiB). */
  cacheBytes?: number;
  /**
   * Appended bytes not yet handed to the OS, besides the write in flight, above which
   * `writable` turns false (default 8 MiB; so at most about twice that is held). Appends are
   * still accepted; callers should await `whenWritable()`.
   */
  maxPendingBytes?: number;
  /** Upper bound on read-side file descriptors (segments and their index files; default 256). */
  maxOpenFiles?: number;
  /**
   * Timings of the commit log's I/O for metrics: `write` is one group-commit writev (with
   * O_DSYNC in `sync` mode it includes the sync), `fsync` one fdatasync of the dirty segments.
   */
  onTiming?: (kind: 'write' | 'fsync', durationMs: number) => void;
}

/** Options of the store's durable timer (storage/timer): clock and wheel shape. */
export interface StoreTimerOptions {
  clock?: TimerClock;
  slotMs?: number;
  wheelSlots?: number;
}

/** How a partition's entries are reclaimed. */
export type RetentionPolicy =
  /** Entries are freed one by one when the core releases them (acked queue messages). */
  | { kind: 'queue' }
  /**
   * Whole-segment retention by age and by bytes; -1 means unlimited. With `compaction` the
   * background compactor also keeps only the latest record per key (Kafka's
   * cleanup.policy=compact; retention -1/-1 for compact alone, set for compact,delete).
   */
  | { kind: 'stream'; retentionMs: number; retentionBytes: number; compaction?: CompactionPolicy };

/** Kafka's log cleaner settings of one compacted partition. */
export interface CompactionPolicy {
  /** delete.retention.ms: a tombstone (null value) is removed by the first pass this long after the pass that first kept it (KIP-534). */
  deleteRetentionMs: number;
  /** min.cleanable.dirty.ratio: compact when uncompacted bytes / all cleanable bytes reach this. */
  minCleanableDirtyRatio: number;
  /** min.compaction.lag.ms: a segment whose newest batch is younger than this is not compacted. */
  minCompactionLagMs: number;
}

export interface CompactOptions {
  now?: number;
  /**
   * First offset of `partition` the compactor must not pass (Kafka's first unstable offset:
   * records of open transactions are not compacted). Defaults to the end offset.
   */
  stableOffset?: (partition: number) => number;
  /**
   * Most keys one pass's key map may hold (Kafka's log.cleaner.dedupe.buffer.size): past it the
   * pass ends at the next run boundary and the next pass goes on. Default 1,000,000.
   */
  maxMapKeys?: number;
}

/** What one compaction pass did (one partition). */
export interface CompactionReport {
  partition: number;
  /** Offsets below this are compacted. */
  cleanEnd: number;
  bytesRead: number;
  bytesWritten: number;
  recordsKept: number;
  recordsRemoved: number;
  durationMs: number;
}

export interface AppendTarget {
  partition: number;
  /** Small hash of a filter tag (0 = none); kept in the index unit so filters skip bodies. */
  tagHash?: number;
}

export interface AppendRequest {
  /** One RecordBatch v2, exactly as it will be stored and served. Its baseOffset field is ignored. */
  batch: Buffer;
  /** Number of records in the batch: each target partition advances by this many offsets. */
  recordCount: number;
  /** First and max timestamp (ms since epoch) of the batch, for the time index. */
  firstTimestamp: number;
  maxTimestamp: number;
  targets: readonly AppendTarget[];
  /** Overrides the store's default durability for this append. */
  durability?: DurabilityMode;
  /** Lookup keys of the entry (message id, correlation id, Kafka key): indexed for `lookupKey`. */
  keys?: readonly string[];
  /**
   * The caller checked the batch's CRC32C (bytes 17..21 over [21, end)): the entry's own CRC
   * is then derived from it without a second pass over the batch.
   */
  batchCrcVerified?: boolean;
}

export interface AppendResult {
  /** The base offset assigned in each target, in the order of `targets`. Assigned synchronously. */
  baseOffsets: number[];
  /** Position of the entry in the commit log. */
  position: number;
  /**
   * Resolves once the durability promise of the append's mode holds (`sync`: fsynced;
   * `interval` and `none`: written to the OS). Appends of one tick share one promise
   * (group commit), so awaiting it costs no allocation per message.
   */
  durable: Promise<void>;
  /**
   * false: once `append` returns the store holds copies of `batch` only, so the caller may
   * reuse its Buffer. Absent or true: the store may still read it (written or cached from it).
   */
  batchRetained?: boolean;
}

/** One stored entry as read back for a partition. */
export interface StoredBatch {
  partition: number;
  /** The partition's offset of the first record in this batch. */
  baseOffset: number;
  recordCount: number;
  timestamp: number;
  tagHash: number;
  position: number;
  /**
   * The RecordBatch bytes as stored (baseOffset field not patched). Shared with other
   * readers (a view of the tail cache or of one disk read): never modify it in place; to
   * send it with a partition's base offset, write 8 bytes then `batch.subarray(8)`.
   */
  batch: Buffer;
}

export interface FilteredRead {
  batches: StoredBatch[];
  /** Offset after the last index unit scanned (read or skipped). */
  nextOffset: number;
}

/** A stored entry found by one of its lookup keys. */
export interface KeyedEntry {
  position: number;
  /** Max timestamp of the entry, ms. */
  timestamp: number;
  /** Every partition that indexes the entry, with the offset it got there. */
  targets: { partition: number; baseOffset: number }[];
  /** The RecordBatch bytes (a copy). */
  batch: Buffer;
}

export interface IndexUnit {
  position: number;
  size: number;
  timestamp: number;
  tagHash: number;
  recordCount: number;
}

export interface RecoveryReport {
  segments: number;
  entries: number;
  truncatedBytes: number;
  truncatedAt: { segment: string; position: number } | null;
  indexUnitsRebuilt: number;
  durationMs: number;
}

/** An internal log of small records with snapshots: definitions, acks, offsets, sessions. */
export interface MetaLog {
  /** Appends one record; resolves when durable per the store's durability mode (or `sync` if asked). */
  append(record: Buffer, durability?: DurabilityMode): Promise<void>;
  /**
   * Replaces everything before now with one snapshot record; replay then yields the snapshot
   * followed by later records. Crash-safe: either the old history or the new snapshot survives.
   */
  snapshot(state: Buffer): Promise<void>;
  /** The snapshot (if any) and every record appended after it, in order. */
  replay(): { snapshot: Buffer | null; records: Buffer[] };
  /** Number of records appended since the last snapshot (the core decides when to snapshot). */
  readonly recordsSinceSnapshot: number;
}

export interface Store {
  open(): Promise<RecoveryReport>;
  /** Flushes and fsyncs everything pending, then closes every file. */
  close(): Promise<void>;

  setPolicy(partition: number, policy: RetentionPolicy): void;
  /** Forgets a partition: its index is removed and its entries count as released. */
  dropPartition(partition: number): Promise<void>;

  append(req: AppendRequest): AppendResult;

  /** Next offset to be assigned (high watermark). */
  endOffset(partition: number): number;
  /** First offset still readable (log start offset). */
  startOffset(partition: number): number;
  /** Index unit of the batch that holds `offset`, or null when outside [start, end). */
  lookup(partition: number, offset: number): IndexUnit & { baseOffset: number } | null;
  /** First offset whose batch timestamp is >= `timestamp`, or endOffset when none. */
  offsetForTimestamp(partition: number, timestamp: number): number;
  /**
   * Whole batches of `partition` starting with the one that holds `offset`, until `maxBytes`
   * (at least one batch is returned when any exists, as Kafka's fetch does).
   */
  read(partition: number, offset: number, maxBytes: number): Promise<StoredBatch[]>;
  /**
   * `read` through a tag filter: batches whose index unit's tag hash `acceptTag` refuses are
   * skipped without reading their bytes (RocketMQ's ConsumeQueue tag filter). Scans at most
   * `maxUnits` index units; `nextOffset` is where the next call continues (the end offset once
   * everything was scanned), so a caller advances even when every batch was skipped.
   */
  readFiltered(partition: number, offset: number, maxBytes: number, acceptTag: (tagHash: number) => boolean, maxUnits?: number): Promise<FilteredRead>;
  /** The same from memory only (recent appends); null when the bytes are not cached. */
  readCached(partition: number, offset: number): StoredBatch | null;

  /**
   * Queue partitions: the entry at `offset` is no longer needed (acked, expired, dead-lettered).
   * The released head is persisted at `reclaim()`; releases beyond it are not: after `open()`
   * the core re-applies them from its own durable acks.
   */
  release(partition: number, offset: number): void;
  /** Streams: moves the log start offset forward (DeleteRecords, retention). */
  truncateBefore(partition: number, offset: number): void;
  /** Applies stream retention and deletes segments nobody needs; returns bytes freed. */
  reclaim(now?: number): Promise<number>;
  /**
   * Compacts the dirtiest eligible compacted partition (see CompactionPolicy); null when none
   * is eligible. Runs in the background: it reads and writes in bounded chunks, never touches
   * the active segment, and swaps the partition onto its new compacted file in one step.
   */
  compact(options?: CompactOptions): Promise<CompactionReport | null>;

  /**
   * Entries appended with `key` among their `keys` that are still in the log (newest first, at
   * most `limit`): candidates from the on-disk key index (hash collisions included; the caller
   * checks the key on the decoded message).
   */
  lookupKey(key: string, limit: number): Promise<KeyedEntry[]>;
  /**
   * How to find an entry's lookup keys in its RecordBatch: used on open to index again the log
   * past the key index's checkpoint. Set before `open()`.
   */
  setKeyExtractor(extract: (batch: Buffer) => string[]): void;

  /** Opens (creating if needed) a named internal log. */
  metaLog(name: string): Promise<MetaLog>;

  /**
   * The store's durable timer (timer log + time wheel in `<dir>/timer`), opened and recovered
   * on the first call, closed by `close()`. Optional: test doubles may lack it.
   */
  timer?(options?: StoreTimerOptions): TimerStore;

  /** Bytes held in commit-log segments on disk. */
  diskBytes(): number;

  /**
   * False while more than `maxPendingBytes` of appends wait to be written (the write in flight
   * not counted): the write path's
   * backpressure signal. Producers (the core) should stop appending until `whenWritable()`.
   */
  readonly writable: boolean;
  /** Resolves (immediately when `writable`) once pending bytes fall below the limit. */
  whenWritable(): Promise<void>;
  /** Resolves once everything appended so far is written to the OS and fsynced. */
  flush(): Promise<void>;
}
