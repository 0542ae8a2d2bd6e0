/**
 * The timer log: fixed-size units (timer-unit.ts) appended to segment files named by their
 * base position (`<20 digits>.tlog`), like the commit log's segments. Appends of one tick are
 * written with one writev per segment and, when any asked for it, one fdatasync (group
 * commit). Positions are assigned synchronously; units not yet written are read from memory.
 *
 * Reads (following a slot's chain backwards) go through a small cache of 64 KiB blocks:
 * units scheduled together are written together, so one block usually serves a run of them.
 */
import { closeSync, fdatasync, ftruncateSync, fstatSync, fsyncSync, openSync, readSync, readdirSync, rmSync, writev } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readUnit, UNIT_BYTES, writeUnit, type TimerUnit } from './timer-unit.js';

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);
const SUFFIX = '.tlog';
const CHUNK_UNITS = 1024;
const BLOCK_BYTES = UNIT_BYTES * 1365; // 65,520: a whole number of units
const BLOCK_CACHE = 32;
const SCAN_BYTES = UNIT_BYTES * 174_762; // ~8 MiB per read while scanning

export interface TimerSegment {
  base: number;
  path: string;
  fd: number;
  /** Bytes assigned (written or queued). */
  length: number;
  /** Bytes handed to the OS. */
  written: number;
  /** Bytes known fsynced (0 for a segment found at open: the OS may not have synced it). */
  synced: number;
  /** Highest slot of a timer unit in this segment (-Infinity when none). */
  maxSlot: number;
}

interface Run {
  segment: TimerSegment;
  position: number;
  buf: Buffer;
  used: number;
}

interface Cycle {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
  sync: boolean;
}

function newCycle(): Cycle {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => {});
  return { promise, resolve, reject, sync: false };
}

export class TimerLog {
  readonly segments: TimerSegment[] = [];
  private pending: Run[] = [];
  private inflight: Run[] = [];
  private cycle = newCycle();
  private flushQueued = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly blocks = new Map<number, Buffer>();
  private failed: Error | null = null;
  private flushing = false;
  /** Segments wholly below this slot and ending at or before `reclaimEnd` are deleted once written (set by the checkpoint). */
  reclaimBefore = -Infinity;
  reclaimEnd = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  /**
   * Opens the log in `dir` and scans it: `visit` gets every valid unit in position order.
   * A torn or zero-filled tail of the last segment is truncated (reported through `warn`).
   */
  static open(
    dir: string,
    segmentBytes: number,
    visit: (position: number, u: TimerUnit) => void,
    warn: (fields: Record<string, unknown>, msg: string) => void,
  ): TimerLog {
    const size = Math.max(UNIT_BYTES, Math.floor(segmentBytes / UNIT_BYTES) * UNIT_BYTES);
    const log = new TimerLog(dir, size);
    const bases = readdirSync(dir)
      .map((f) => /^(\d{20})\.tlog$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (let i = 0; i < bases.length; i++) {
      const base = bases[i]!;
      const path = join(dir, String(base).padStart(20, '0') + SUFFIX);
      const fd = openSync(path, 'r+');
      const seg: TimerSegment = { base, path, fd, length: 0, written: 0, synced: 0, maxSlot: -Infinity };
      const fileBytes = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(Math.min(SCAN_BYTES, Math.max(fileBytes, UNIT_BYTES)));
      let at = 0;
      while (at < fileBytes) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, fileBytes - at), at);
        if (n <= 0) break;
        let i2 = 0;
        let bad = false;
        for (; i2 + UNIT_BYTES <= n; i2 += UNIT_BYTES) {
          const u = readUnit(buf, i2);
          if (u === null) {
            bad = true;
            break;
          }
          if (u.kind === 1 && u.slot > seg.maxSlot) seg.maxSlot = u.slot;
          visit(base + at + i2, u);
        }
        at += i2;
        if (bad || i2 === 0) break;
      }
      if (at < fileBytes) {
        warn({ file: path, position: base + at, truncatedBytes: fileBytes - at }, 'timer log tail truncated');
        ftruncateSync(fd, at);
        fsyncSync(fd);
      }
      seg.length = seg.written = at;
      log.segments.push(seg);
      // Units after a bad one in an older segment would be out of order: the later segments are
      // still read (positions are absolute), as the commit log does.
    }
    if (log.segments.length === 0) log.newSegment(0);
    return log;
  }

  private newSegment(base: number): TimerSegment {
    const path = join(this.dir, String(base).padStart(20, '0') + SUFFIX);
    const fd = openSync(path, 'w+');
    const seg: TimerSegment = { base, path, fd, length: 0, written: 0, synced: 0, maxSlot: -Infinity };
    this.segments.push(seg);
    return seg;
  }

  private get active(): TimerSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** Position the next unit gets. */
  get endPosition(): number {
    const a = this.active;
    return a.base + a.length;
  }

  /** Appends one unit; `durable` resolves when written (and fsynced when `sync`). */
  append(u: TimerUnit, sync: boolean): { position: number; durable: Promise<void> } {
    if (this.failed) return { position: -1, durable: Promise.reject(this.failed) };
    if (this.closed) return { position: -1, durable: Promise.reject(new Error('timer log closed')) };
    let seg = this.active;
    if (seg.length + UNIT_BYTES > this.segmentBytes) seg = this.newSegment(seg.base + seg.length);
    const position = seg.base + seg.length;
    let run = this.pending.length > 0 ? this.pending[this.pending.length - 1]! : null;
    if (run === null || run.segment !== seg || run.used + UNIT_BYTES > run.buf.length) {
      run = { segment: seg, position, buf: Buffer.allocUnsafe(UNIT_BYTES * CHUNK_UNITS), used: 0 };
      this.pending.push(run);
    }
    writeUnit(run.buf, run.used, u);
    run.used += UNIT_BYTES;
    seg.length += UNIT_BYTES;
    if (u.kind === 1 && u.slot > seg.maxSlot) seg.maxSlot = u.slot;
    const cycle = this.cycle;
    if (sync) cycle.sync = true;
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.chain = this.chain.then(() => this.flush());
      });
    }
    return { position, durable: cycle.promise };
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    this.flushing = true;
    const runs = this.pending;
    const cycle = this.cycle;
    this.pending = [];
    this.cycle = newCycle();
    this.inflight = runs;
    try {
      if (this.failed) throw this.failed;
      for (let i = 0; i < runs.length; ) {
        const seg = runs[i]!.segment;
        const bufs: Buffer[] = [];
        const start = runs[i]!.position - seg.base;
        let bytes = 0;
        for (; i < runs.length && runs[i]!.segment === seg; i++) {
          bufs.push(runs[i]!.buf.subarray(0, runs[i]!.used));
          bytes += runs[i]!.used;
        }
        const { bytesWritten } = await writevAsync(seg.fd, bufs, start);
        if (bytesWritten !== bytes) throw new Error(`short write to timer log ${seg.path}`);
        seg.written = start + bytes;
      }
      // Every segment with unsynced bytes, oldest first: a unit synced in a later segment must
      // never outlive an earlier one lost with the page cache (recovery reads a prefix).
      if (cycle.sync) {
        for (const seg of this.segments) {
          if (seg.synced >= seg.written) continue;
          const upTo = seg.written;
          await fdatasyncAsync(seg.fd);
          seg.synced = upTo;
        }
      }
      this.inflight = [];
      this.flushing = false;
      if (this.reclaimBefore !== -Infinity) this.deleteBefore(this.reclaimBefore, this.reclaimEnd);
      cycle.resolve();
    } catch (err) {
      this.failed ??= err as Error;
      this.inflight = [];
      this.flushing = false;
      cycle.reject(err as Error);
    }
  }

  /** Resolves once everything appended so far is written and fsynced (off the event loop). */
  async sync(): Promise<void> {
    if (this.failed) throw this.failed;
    this.cycle.sync = true;
    const p = this.cycle.promise;
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.chain = this.chain.then(() => this.flush());
      });
    }
    await p;
  }

  /** The unit at `position` (written or not), or null when there is none. */
  read(position: number): TimerUnit | null {
    for (const runs of [this.pending, this.inflight]) {
      for (const r of runs) {
        if (position >= r.position && position < r.position + r.used) return readUnit(r.buf, position - r.position);
      }
    }
    const seg = this.segmentAt(position);
    if (seg === null) return null;
    const rel = position - seg.base;
    if (rel + UNIT_BYTES > seg.written) return null;
    const blockStart = rel - (rel % BLOCK_BYTES);
    const key = seg.base + blockStart;
    let block = this.blocks.get(key);
    if (block !== undefined && blockStart + block.length < rel + UNIT_BYTES) block = undefined;
    if (block === undefined) {
      const want = Math.min(BLOCK_BYTES, seg.written - blockStart);
      const b = Buffer.allocUnsafe(want);
      const n = readSync(seg.fd, b, 0, want, blockStart);
      block = b.subarray(0, n - (n % UNIT_BYTES));
      this.blocks.delete(key);
      this.blocks.set(key, block);
      if (this.blocks.size > BLOCK_CACHE) this.blocks.delete(this.blocks.keys().next().value!);
    }
    return readUnit(block, rel - blockStart);
  }

  private segmentAt(position: number): TimerSegment | null {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = segs[mid]!;
      if (position < s.base) hi = mid - 1;
      else if (position >= s.base + s.length) lo = mid + 1;
      else return s;
    }
    return null;
  }

  /**
   * Deletes the oldest segments (never the active one) while every timer unit in them is in
   * a slot below `doneSlot` and they end at or before position `end` (what the checkpoint's
   * marks cover). Prefix order keeps every done/cancel unit's timer deleted first.
   */
  deleteBefore(doneSlot: number, end: number): number {
    let removed = 0;
    // A write or fsync in flight may use a segment's fd: the flush's end calls this again.
    if (this.closed || this.flushing) return 0;
    while (this.segments.length > 1) {
      const s = this.segments[0]!;
      if (s.maxSlot >= doneSlot || s.written < s.length || s.base + s.length > end) break;
      closeSync(s.fd);
      rmSync(s.path, { force: true });
      for (const k of [...this.blocks.keys()]) if (k >= s.base && k < s.base + s.length) this.blocks.delete(k);
      this.segments.shift();
      removed++;
    }
    return removed;
  }

  /** Bytes of the timer log on disk. */
  get diskBytes(): number {
    let n = 0;
    for (const s of this.segments) n += s.written;
    return n;
  }

  /** Waits for the writes in flight and closes the files without syncing (TimerStore.halt). */
  async halt(): Promise<void> {
    if (this.closed) return;
    await this.chain;
    this.closed = true;
    for (const s of this.segments) closeSync(s.fd);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failed) await this.sync();
    this.closed = true;
    for (const s of this.segments) closeSync(s.fd);
  }
}
