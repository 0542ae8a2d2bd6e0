/**
 * The shared commit log's write path and positioned reads (RocketMQ's CommitLog over its
 * MappedFileQueue). Appends of one event-loop tick are gathered and written with one
 * `writev` and, when any of them asked for `sync`, one `fdatasync` (group commit): the
 * fsync cost is paid per tick, not per append. Batches up to 1 MiB are copied next to their
 * entry header into reused 2 MiB slabs, so the caller may reuse its Buffer as soon as the
 * append returns (the Kafka adapter recycles produce request buffers: a memcpy into warm memory
 * costs a tenth of what fresh memory does); larger ones are written from the caller's Buffer. While one write+fsync is in flight the next tick's appends accumulate,
 * so the number of appends served by one fsync grows with the load.
 */
import { close, constants, fdatasync, open, read, writev } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { DurabilityMode } from './types.js';
import { Segment } from './segment.js';
import type { FdCache } from './fd-cache.js';

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);
const openFd = promisify(open);
const closeFd = promisify(close);
const readAsync = promisify(read);

const SLAB_BYTES = 2 * 1024 * 1024;
/** Batches up to this size are copied into the slab; larger ones are written from their own Buffer. */
const COPY_MAX_BYTES = 1024 * 1024;
const SLAB_POOL_MAX = 16;

/** The appends of one flush: written together, fsynced together. */
class Cycle {
  private writtenP: Promise<void> | null = null;
  private syncedP: Promise<void> | null = null;
  private resolveW: (() => void) | null = null;
  private rejectW: ((e: Error) => void) | null = null;
  private resolveS: (() => void) | null = null;
  private rejectS: ((e: Error) => void) | null = null;
  wantsSync = false;
  /** Some append of this flush is `interval`: the timer must fsync what it wrote. */
  wantsTimedSync = false;

  written(): Promise<void> {
    if (this.writtenP === null) {
      this.writtenP = new Promise((res, rej) => {
        this.resolveW = res;
        this.rejectW = rej;
      });
      // Callers that drop the promise must not turn a failed write into an unhandled rejection.
      this.writtenP.catch(() => {});
    }
    return this.writtenP;
  }

  synced(): Promise<void> {
    this.wantsSync = true;
    if (this.syncedP === null) {
      this.syncedP = new Promise((res, rej) => {
        this.resolveS = res;
        this.rejectS = rej;
      });
      this.syncedP.catch(() => {});
    }
    return this.syncedP;
  }

  settleWritten(err: Error | null): void {
    if (err === null) this.resolveW?.();
    else this.rejectW?.(err);
  }

  settleSynced(err: Error | null): void {
    if (err === null) this.resolveS?.();
    else this.rejectS?.(err);
  }
}

/** Bytes of one segment waiting to be written at `fileOffset`. */
interface WriteRun {
  segment: Segment;
  fileOffset: number;
  chunks: Buffer[];
  bytes: number;
  slabs: Buffer[];
}

export interface CommitLogOptions {
  /** I/O timings for metrics (StoreOptions.onTiming). */
  onTiming?: (kind: 'write' | 'fsync', durationMs: number) => void;
  dir: string;
  segmentBytes: number;
  durability: DurabilityMode;
  intervalMs: number;
  maxPendingBytes: number;
  fds: FdCache;
  /** A segment rolled over and all its bytes are written (and fsynced unless `none`). */
  onSealable: (segment: Segment) => void;
  onError: (err: Error) => void;
}

export class StoreFailedError extends Error {
  constructor(override readonly cause: Error) {
    super(`store failed after an I/O error: ${cause.message}`);
    this.name = 'StoreFailedError';
  }
}

export class CommitLog {
  /** Every segment, oldest first; the last is the active one. */
  readonly segments: Segment[] = [];
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private slabUsed = 0;
  /** Start of the slab bytes not yet pushed to `run.chunks`. */
  private regionStart = 0;
  private readonly slabPool: Buffer[] = [];
  private run: WriteRun | null = null;
  private queue: WriteRun[] = [];
  private cycle = new Cycle();
  private scheduled = false;
  private flushing = false;
  private readonly rolled: Segment[] = [];
  private pendingBytes = 0;
  /** Of `pendingBytes`, those of the write in flight. */
  private writingBytes = 0;
  private writableWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private intervalTimer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  failed: Error | null = null;
  /** Start of the batch bytes of the entry being appended, in the slab (see `headerSpace`). */
  headerPos = 0;

  constructor(private readonly opts: CommitLogOptions) {
    // fsyncs what `interval` appends wrote, whatever the store's default mode (an append may
    // override it); `none` writes are left to the OS unless a later sync covers them.
    this.intervalTimer = setInterval(() => void this.syncDirty().catch((e: Error) => this.fail(e)), opts.intervalMs);
    this.intervalTimer.unref();
  }

  get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Global position where the next entry will go. */
  get endPosition(): number {
    return this.active.end;
  }

  /**
   * Bytes waiting to be written, not counting the write in flight: appends may go on while one
   * write is under way (double buffering). Counting it too made a producer stop for every write
   * and the write wait for the producer, in turn: acks=1 ran slower than acks=all.
   */
  get writable(): boolean {
    return this.pendingBytes - this.writingBytes < this.opts.maxPendingBytes;
  }

  whenWritable(): Promise<void> {
    if (this.writable || this.failed !== null) return Promise.resolve();
    return new Promise((res) => this.writableWaiters.push(res));
  }

  /**
   * Reserves `size` bytes for the next entry, rolling to a new segment when it does not fit,
   * and returns its global position.
   */
  reserve(size: number): number {
    if (this.failed !== null) throw new StoreFailedError(this.failed);
    let seg = this.active;
    if (seg.length > 0 && seg.length + size > this.opts.segmentBytes) seg = this.roll();
    if (this.run === null) {
      this.run = { segment: seg, fileOffset: seg.length, chunks: [], bytes: 0, slabs: [] };
    }
    const position = seg.end;
    seg.length += size;
    this.run.bytes += size;
    this.pendingBytes += size;
    return position;
  }

  /**
   * Room for `headerBytes` (+ the batch when it will be copied) in the slab; returns the
   * slab, with `headerPos` set to where the header goes.
   */
  headerSpace(headerBytes: number, batchBytes: number): Buffer {
    const copy = batchBytes <= COPY_MAX_BYTES;
    const need = headerBytes + (copy ? batchBytes : 0);
    if (this.slabUsed + need > this.slab.length) this.nextSlab(need);
    this.headerPos = this.slabUsed;
    this.slabUsed += headerBytes;
    return this.slab;
  }

  /**
   * Adds the batch behind the header space; true when it was copied right behind the
   * header (so the header's CRC can cover both in one pass).
   */
  pushBatch(batch: Buffer): boolean {
    if (batch.length <= COPY_MAX_BYTES) {
      this.slab.set(batch, this.slabUsed);
      this.slabUsed += batch.length;
      return true;
    }
    this.closeRegion();
    this.run!.chunks.push(batch);
    return false;
  }

  /** The promise of the append just made, per its durability; schedules the flush. */
  commit(durability: DurabilityMode): Promise<void> {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushBound);
    }
    if (durability === 'sync') return this.cycle.synced();
    if (durability === 'interval') this.cycle.wantsTimedSync = true;
    return this.cycle.written();
  }

  private nextSlab(need: number): void {
    this.closeRegion();
    if (this.run !== null) this.run.slabs.push(this.slab);
    const size = Math.max(SLAB_BYTES, need);
    this.slab = (size === SLAB_BYTES ? this.slabPool.pop() : undefined) ?? Buffer.allocUnsafeSlow(size);
    this.slabUsed = 0;
    this.regionStart = 0;
  }

  private closeRegion(): void {
    if (this.slabUsed > this.regionStart && this.run !== null) {
      this.run.chunks.push(this.slab.subarray(this.regionStart, this.slabUsed));
    }
    this.regionStart = this.slabUsed;
  }

  private takeRun(): void {
    if (this.run === null) return;
    this.closeRegion();
    // The current slab stays in use; its pushed regions are views that are written before
    // the slab can be recycled (it is only recycled once retired into a run).
    this.queue.push(this.run);
    this.run = null;
  }

  private roll(): Segment {
    this.takeRun();
    const old = this.active;
    const seg = new Segment(this.opts.dir, old.end);
    this.segments.push(seg);
    this.rolled.push(old);
    return seg;
  }

  /** Adds an existing segment (recovery), the last one added being the active one. */
  adopt(segment: Segment): void {
    this.segments.push(segment);
  }

  private readonly flushBound = (): void => {
    this.scheduled = false;
    void this.flush();
  };

  private async ensureWriteFd(seg: Segment): Promise<number> {
    if (seg.writeFd !== null) return seg.writeFd;
    const exists = seg.writtenLength > 0;
    // A `sync` store opens its segments O_DSYNC: each write returns once durable, so a
    // group commit is one syscall instead of write + fdatasync (two thread-pool round trips).
    const dsync = this.opts.durability === 'sync' ? constants.O_DSYNC : 0;
    seg.writeFd = await openFd(seg.path, constants.O_RDWR | constants.O_CREAT | (exists ? 0 : constants.O_TRUNC) | dsync, 0o644);
    seg.dsync = dsync !== 0;
    if (!exists && this.opts.durability !== 'none') await fsyncDir(this.opts.dir);
    return seg.writeFd;
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.failed !== null) return;
    this.flushing = true;
    try {
      while (this.run !== null || this.queue.length > 0) {
        this.takeRun();
        // Keep the slab for the next tick but start a fresh region after what was queued.
        const runs = this.queue;
        this.queue = [];
        const cycle = this.cycle;
        this.cycle = new Cycle();
        const touched: Segment[] = [];
        for (const run of runs) {
          const fd = await this.ensureWriteFd(run.segment);
          const t0 = this.opts.onTiming ? performance.now() : 0;
          this.writingBytes = run.bytes;
          this.wakeWritable();
          const { bytesWritten: n } = await writevAsync(fd, run.chunks, run.fileOffset).finally(() => {
            this.writingBytes = 0;
          });
          if (this.opts.onTiming) this.opts.onTiming('write', performance.now() - t0);
          if (n !== run.bytes) throw new Error(`short write to ${run.segment.path}: ${n} of ${run.bytes}`);
          run.segment.writtenLength = run.fileOffset + run.bytes;
          // Only writes someone must see fsynced make the segment dirty (`none` ones do not).
          if (!run.segment.dsync) {
            run.segment.unsynced = true;
            if (cycle.wantsSync || cycle.wantsTimedSync) run.segment.dirty = true;
          }
          this.pendingBytes -= run.bytes;
          if (!touched.includes(run.segment)) touched.push(run.segment);
          for (const slab of run.slabs) if (this.slabPool.length < SLAB_POOL_MAX) this.slabPool.push(slab);
        }
        cycle.settleWritten(null);
        this.wakeWritable();
        if (cycle.wantsSync) {
          await this.syncDirty();
          cycle.settleSynced(null);
        }
        await this.sealRolled();
      }
      // Everything queued is written: the current slab can start over.
      if (this.run === null && this.slabUsed === this.regionStart) {
        this.slabUsed = 0;
        this.regionStart = 0;
      }
    } catch (err) {
      this.fail(err as Error);
    } finally {
      this.flushing = false;
    }
    const idle = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of idle) w();
  }

  /** fdatasync every segment written since its last sync (one at a time, shared by callers). */
  syncDirty(): Promise<void> {
    if (this.syncing !== null) {
      // A sync already in flight may have started before the latest write: chain another.
      return this.syncing.then(() => this.syncDirty());
    }
    const dirty = this.segments.filter((s) => s.dirty && s.writeFd !== null);
    if (dirty.length === 0) return Promise.resolve();
    for (const s of dirty) {
      s.dirty = false;
      s.unsynced = false;
    }
    const fds = dirty.map((s) => s.writeFd!);
    const p = (async () => {
      try {
        const t0 = this.opts.onTiming ? performance.now() : 0;
        for (const fd of fds) await fdatasyncAsync(fd);
        if (this.opts.onTiming) this.opts.onTiming('fsync', performance.now() - t0);
      } catch (err) {
        for (const s of dirty) s.dirty = s.unsynced = true;
        throw err;
      } finally {
        this.syncing = null;
      }
    })();
    this.syncing = p;
    return p;
  }

  /** Rolled segments whose bytes are all written: fsync (unless `none`), close, hand over. */
  private async sealRolled(): Promise<void> {
    while (this.rolled.length > 0) {
      const seg = this.rolled[0]!;
      if (seg.writtenLength < seg.length) return;
      this.rolled.shift();
      if (seg.writeFd !== null) {
        // Detach the fd first so no new timer sync picks it up, and let a sync that already
        // holds it finish before closing it (else: EBADF, or worse, a reused fd number).
        const fd = seg.writeFd;
        const dirty = seg.dirty;
        seg.writeFd = null;
        seg.dirty = false;
        if (this.syncing !== null) await this.syncing.catch(() => {});
        if (dirty) await fdatasyncAsync(fd);
        await closeFd(fd);
      }
      this.opts.onSealable(seg);
    }
  }

  private wakeWritable(): void {
    if (!this.writable) return;
    const waiters = this.writableWaiters;
    this.writableWaiters = [];
    for (const w of waiters) w();
  }

  private fail(err: Error): void {
    if (this.failed !== null) return;
    this.failed = err;
    this.cycle.settleWritten(err);
    this.cycle.settleSynced(err);
    this.wakeWritable();
    for (const w of this.writableWaiters) w();
    this.writableWaiters = [];
    this.opts.onError(err);
  }

  /** Resolves when everything appended so far is written to the OS. */
  async whenWritten(): Promise<void> {
    while ((this.run !== null || this.queue.length > 0 || this.flushing) && this.failed === null) {
      await new Promise<void>((res) => {
        this.idleWaiters.push(res);
        if (!this.flushing && !this.scheduled) {
          this.scheduled = true;
          setImmediate(this.flushBound);
        }
      });
    }
    if (this.failed !== null) throw new StoreFailedError(this.failed);
  }

  /** Writes and fsyncs everything appended so far. */
  async flushAll(): Promise<void> {
    await this.whenWritten();
    for (const seg of this.segments) if (seg.unsynced && seg.writeFd !== null) seg.dirty = true;
    await this.syncDirty();
  }

  /** Reads `size` bytes at global `position` from disk (after waiting for them to be written). */
  async readAt(position: number, size: number, segment: Segment): Promise<Buffer> {
    if (segment.base + segment.writtenLength < position + size) await this.whenWritten();
    const buf = Buffer.allocUnsafe(size);
    const fd = this.opts.fds.pin(segment.path);
    try {
      const { bytesRead } = await readAsync(fd, buf, 0, size, position - segment.base);
      if (bytesRead !== size) throw new Error(`short read of ${segment.path} at ${position - segment.base}`);
    } finally {
      this.opts.fds.unpin(segment.path, fd);
    }
    return buf;
  }

  /**
   * Reads many ranges of one segment at once (`readAt` for each, in parallel), with one
   * promise for all: a filtered read has hundreds of small ranges far apart, and a promise
   * per read costs more than the read itself. Resolves with one Buffer per range.
   */
  async readRanges(segment: Segment, positions: number[], sizes: number[]): Promise<Buffer[]> {
    let end = 0;
    for (let i = 0; i < positions.length; i++) end = Math.max(end, positions[i]! + sizes[i]!);
    if (segment.base + segment.writtenLength < end) await this.whenWritten();
    const fds = this.opts.fds;
    const fd = fds.pin(segment.path);
    const out: Buffer[] = new Array<Buffer>(positions.length);
    return new Promise<Buffer[]>((resolve, reject) => {
      let left = positions.length;
      let failed: Error | null = null;
      const done = (): void => {
        if (--left > 0) return;
        fds.unpin(segment.path, fd);
        if (failed !== null) reject(failed);
        else resolve(out);
      };
      if (left === 0) {
        left = 1;
        done();
        return;
      }
      for (let i = 0; i < positions.length; i++) {
        const size = sizes[i]!;
        const at = positions[i]! - segment.base;
        const buf = (out[i] = Buffer.allocUnsafe(size));
        read(fd, buf, 0, size, at, (err, bytesRead) => {
          if (err) failed ??= err;
          else if (bytesRead !== size) failed ??= new Error(`short read of ${segment.path} at ${at}`);
          done();
        });
      }
    });
  }

  async close(): Promise<void> {
    if (this.intervalTimer !== null) clearInterval(this.intervalTimer);
    this.intervalTimer = null;
    if (this.failed === null) await this.flushAll();
    for (const seg of this.segments) {
      if (seg.writeFd !== null) {
        const fd = seg.writeFd;
        seg.writeFd = null;
        await closeFd(fd);
      }
    }
  }

  /** Segments rolled but not yet handed to `onSealable` (their bytes are still being written). */
  isRolling(seg: Segment): boolean {
    return this.rolled.includes(seg);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await openAsync(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
