/**
 * An internal log of small records with atomic snapshots (definitions, acks, committed
 * offsets, sessions). Two files per log, tied together by a generation number so that a
 * crash at any point leaves either the old history or the new snapshot, never a mix:
 *
 *  <name>.snap  (replaced atomically: write <name>.snap.tmp, fsync, rename, fsync dir)
 *   0 magic      uint32 'PBMS'
 *   4 generation uint32   the log file that continues this snapshot
 *   8 length     uint32   state bytes
 *  12 crc        uint32   CRC32C of the state
 *  16 state
 *
 *  <name>.<generation>.log  records appended after that snapshot:
 *   0 length uint32 | 4 crc uint32 (CRC32C of the record) | 8 record
 *
 * Appends of one tick are written with one writev and fsynced once (group commit, as in
 * the commit log). A torn tail is truncated when the log is opened.
 */
import { crc32c } from '@node-rs/crc32';
import { closeSync, existsSync, fdatasync, ftruncateSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync, writev } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DurabilityMode, MetaLog } from './types.js';

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);
const SNAP_MAGIC = 0x50424d53; // 'PBMS'
const RECORD_HEADER_BYTES = 8;

interface Cycle {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
  wantsSync: boolean;
}

function newCycle(): Cycle {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject, wantsSync: false };
}

/** File-name safe form of a log name. */
function fileStem(name: string): string {
  return /^[A-Za-z0-9._-]+$/.test(name) ? name : encodeURIComponent(name).replace(/%/g, '_');
}

function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Parses framed records; returns them and the length of the good prefix. */
function parseRecords(buf: Buffer): { records: Buffer[]; validLength: number } {
  const records: Buffer[] = [];
  let pos = 0;
  while (buf.length - pos >= RECORD_HEADER_BYTES) {
    const len = buf.readUInt32BE(pos);
    if (pos + RECORD_HEADER_BYTES + len > buf.length) break;
    const rec = buf.subarray(pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + len);
    if (crc32c(rec) !== buf.readUInt32BE(pos + 4)) break;
    records.push(rec);
    pos += RECORD_HEADER_BYTES + len;
  }
  return { records, validLength: pos };
}

export class MetaLogFile implements MetaLog {
  private generation = 0;
  private fd = -1;
  private writtenLength = 0;
  private pending: Buffer[] = [];
  private cycle: Cycle = newCycle();
  private chain: Promise<void> = Promise.resolve();
  private flushQueued = false;
  private sinceSnapshot = 0;
  private snapshotState: Buffer | null = null;
  closed = false;

  private constructor(
    private readonly dir: string,
    private readonly stem: string,
    private readonly durability: DurabilityMode,
    private readonly warn: (fields: Record<string, unknown>, msg: string) => void,
  ) {}

  private get snapPath(): string {
    return join(this.dir, this.stem + '.snap');
  }

  private logPath(gen: number): string {
    return join(this.dir, `${this.stem}.${gen}.log`);
  }

  static open(
    dir: string,
    name: string,
    durability: DurabilityMode,
    warn: (fields: Record<string, unknown>, msg: string) => void,
  ): MetaLogFile {
    const log = new MetaLogFile(dir, fileStem(name), durability, warn);
    log.load(name);
    return log;
  }

  private load(name: string): void {
    rmSync(this.snapPath + '.tmp', { force: true });
    if (existsSync(this.snapPath)) {
      const snap = readFileSync(this.snapPath);
      const len = snap.length >= 16 ? snap.readUInt32BE(8) : -1;
      if (snap.readUInt32BE(0) !== SNAP_MAGIC || snap.length !== 16 + len || crc32c(snap.subarray(16)) !== snap.readUInt32BE(12)) {
        // Renamed into place only after fsync, so this is media corruption: say so loudly.
        throw new Error(`meta log ${name}: snapshot ${this.snapPath} is corrupt`);
      }
      this.generation = snap.readUInt32BE(4);
      this.snapshotState = snap.subarray(16);
    }
    // Logs of other generations are leftovers of an interrupted snapshot.
    const prefix = this.stem + '.';
    for (const f of readdirSync(this.dir)) {
      const m = f.startsWith(prefix) && /^(\d+)\.log$/.exec(f.slice(prefix.length));
      if (m && Number(m[1]) !== this.generation) rmSync(join(this.dir, f), { force: true });
    }
    const path = this.logPath(this.generation);
    this.fd = openSync(path, existsSync(path) ? 'r+' : 'w+');
    const buf = readFileSync(path);
    const { records, validLength } = parseRecords(buf);
    if (validLength < buf.length) {
      this.warn({ metaLog: name, file: path, position: validLength, truncatedBytes: buf.length - validLength }, 'meta log torn tail truncated');
      // ftruncate through the open fd, then make the truncation durable.
      ftruncateSync(this.fd, validLength);
      fsyncSync(this.fd);
    }
    this.writtenLength = validLength;
    this.sinceSnapshot = records.length;
  }

  get recordsSinceSnapshot(): number {
    return this.sinceSnapshot;
  }

  append(record: Buffer, durability?: DurabilityMode): Promise<void> {
    if (this.closed) return Promise.reject(new Error('meta log closed'));
    const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
    header.writeUInt32BE(record.length, 0);
    header.writeUInt32BE(crc32c(record), 4);
    this.pending.push(header, record);
    this.sinceSnapshot++;
    const cycle = this.cycle;
    if ((durability ?? this.durability) !== 'none') cycle.wantsSync = true;
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.chain = this.chain.then(() => this.flushPending());
      });
    }
    return cycle.promise;
  }

  private async flushPending(): Promise<void> {
    this.flushQueued = false;
    const bufs = this.pending;
    const cycle = this.cycle;
    this.pending = [];
    this.cycle = newCycle();
    if (bufs.length === 0) {
      cycle.resolve();
      return;
    }
    try {
      // writev of at most IOV_MAX buffers per call.
      for (let i = 0; i < bufs.length; i += 1024) {
        const part = bufs.slice(i, i + 1024);
        let n = 0;
        for (const b of part) n += b.length;
        const { bytesWritten: w } = await writevAsync(this.fd, part, this.writtenLength);
        if (w !== n) throw new Error(`short write to meta log ${this.logPath(this.generation)}`);
        this.writtenLength += n;
      }
      // Interval mode: the meta log is small and rare; fsync it with the write (`interval`
      // bounds loss at most, it never forbids syncing sooner).
      if (cycle.wantsSync) await fdatasyncAsync(this.fd);
      cycle.resolve();
    } catch (err) {
      cycle.reject(err as Error);
    }
  }

  snapshot(state: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new Error('meta log closed'));
    // Records appended before this call are covered by the snapshot: drop them from the
    // queue, and resolve their promises when the snapshot is durable.
    const superseded = this.cycle;
    this.pending = [];
    this.cycle = newCycle();
    this.flushQueued = false;
    this.sinceSnapshot = 0;
    const p = (this.chain = this.chain.then(() => this.writeSnapshot(state)));
    p.then(
      () => superseded.resolve(),
      (e: Error) => superseded.reject(e),
    );
    // Records appended after this call are flushed after the snapshot, into the new log.
    return p;
  }

  private writeSnapshot(state: Buffer): void {
    const gen = this.generation + 1;
    const newLog = this.logPath(gen);
    const newFd = openSync(newLog, 'w+');
    fsyncSync(newFd);
    const head = Buffer.alloc(16);
    head.writeUInt32BE(SNAP_MAGIC, 0);
    head.writeUInt32BE(gen, 4);
    head.writeUInt32BE(state.length, 8);
    head.writeUInt32BE(crc32c(state), 12);
    const tmp = this.snapPath + '.tmp';
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, head);
      writeSync(fd, state);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.snapPath);
    fsyncDirSync(this.dir);
    const oldFd = this.fd;
    const oldLog = this.logPath(this.generation);
    this.fd = newFd;
    this.generation = gen;
    this.writtenLength = 0;
    this.snapshotState = Buffer.from(state);
    closeSync(oldFd);
    rmSync(oldLog, { force: true });
    if (this.pending.length > 0 && !this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.chain = this.chain.then(() => this.flushPending());
      });
    }
  }

  replay(): { snapshot: Buffer | null; records: Buffer[] } {
    const buf = readFileSync(this.logPath(this.generation)).subarray(0, this.writtenLength);
    const { records } = parseRecords(buf);
    for (let i = 1; i < this.pending.length; i += 2) records.push(this.pending[i]!);
    return { snapshot: this.snapshotState, records };
  }

  /** Waits for queued writes, fsyncs and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.chain = this.chain.then(() => this.flushPending());
    await this.chain;
    this.closed = true;
    fsyncSync(this.fd);
    closeSync(this.fd);
  }
}
