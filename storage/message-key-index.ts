/**
 * The message-key index of the whole commit log (RocketMQ's IndexService): rolling key index
 * files in `<dir>/keys/`, the newest one kept in memory and written out whole at most once per
 * `saveIntervalMs` (and at segment seal and close); older ones are written once and read back
 * on lookups. It is derived data: on open, the log past the newest file's checkpoint is read
 * again and its keys re-added through the extractor the core gave (`setKeyExtractor`), since
 * only the core knows which record fields are lookup keys.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyIndexFile } from './key-index-file.js';

export const KEY_INDEX_DIR = 'keys';
const SLOTS = 1 << 14;
const CAPACITY = 1 << 16;
const SAVE_INTERVAL_MS = 1000;

export interface KeyHit {
  position: number;
  timestamp: number;
}

export class MessageKeyIndex {
  private readonly dir: string;
  /** Oldest first; the last one is the active one. */
  private files: KeyIndexFile[] = [];
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private saving: Promise<void> = Promise.resolve();

  constructor(storeDir: string, private readonly warn: (fields: Record<string, unknown>, msg: string) => void) {
    this.dir = join(storeDir, KEY_INDEX_DIR);
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((n) => /^\d{20}\.kix$/.test(n)).sort();
    for (const n of names) {
      const path = join(this.dir, n);
      const f = KeyIndexFile.fromBytes(path, await readFile(path));
      if (f === null) {
        this.warn({ file: path }, 'unreadable key index file dropped');
        await rm(path, { force: true });
        continue;
      }
      this.files.push(f);
    }
    for (const n of (await readdir(this.dir)).filter((x) => x.endsWith('.tmp'))) await rm(join(this.dir, n), { force: true });
  }

  /**
   * After recovery truncated the log at `logEnd`: nothing at or past it counts as indexed (its
   * positions will be reused by new entries; lookups confirm each hit on the stored entry).
   */
  clampTo(logEnd: number): void {
    for (const f of this.files) if (f.endPosition > logEnd) f.endPosition = Math.max(f.firstPosition, logEnd);
  }

  /** Log position from which entries must be (re)indexed on open. */
  get checkpoint(): number {
    return this.files.length === 0 ? 0 : this.files[this.files.length - 1]!.endPosition;
  }

  /** Indexes `keys` of the entry at `position` (`length` bytes). */
  add(keys: readonly string[], position: number, length: number, timestamp: number): void {
    let f = this.files[this.files.length - 1];
    if (f !== undefined && position + length <= f.endPosition) return; // already indexed (recovery overlap)
    for (const key of keys) {
      if (f === undefined || f.full) {
        if (f !== undefined) this.sealFile(f);
        f = KeyIndexFile.create(join(this.dir, `${String(position).padStart(20, '0')}.kix`), SLOTS, CAPACITY, position);
        this.files.push(f);
      }
      f.add(key, position, timestamp);
    }
    if (f !== undefined) f.endPosition = position + length;
    this.markDirty();
  }

  /** Notes that the log grew to `endPosition` without keys (keeps the checkpoint moving). */
  advance(endPosition: number): void {
    let f = this.files[this.files.length - 1];
    if (f === undefined && endPosition > 0) {
      // An empty file keeps the checkpoint: without it every open would read the whole log again.
      f = KeyIndexFile.create(join(this.dir, `${String(endPosition).padStart(20, '0')}.kix`), 1 << 10, 1 << 12, endPosition);
      this.files.push(f);
      this.markDirty();
      return;
    }
    if (f !== undefined && endPosition > f.endPosition) {
      f.endPosition = endPosition;
      this.markDirty();
    }
  }

  private markDirty(): void {
    this.dirty = true;
    if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.save();
      }, SAVE_INTERVAL_MS);
      this.timer.unref();
    }
  }

  private sealFile(f: KeyIndexFile): void {
    const copy = Buffer.from(f.buf);
    this.saving = this.saving.then(() => this.write(f.path, copy));
  }

  private async write(path: string, bytes: Buffer): Promise<void> {
    try {
      await writeFile(path + '.tmp', bytes);
      await rename(path + '.tmp', path);
    } catch (err) {
      this.warn({ file: path, err: String(err) }, 'key index file not written (rebuilt from the log on open)');
    }
  }

  /** Writes the active file out (whole; it is rebuilt past its checkpoint anyway). */
  save(): Promise<void> {
    if (!this.dirty) return this.saving;
    this.dirty = false;
    const f = this.files[this.files.length - 1];
    if (f !== undefined) {
      const copy = Buffer.from(f.buf);
      this.saving = this.saving.then(() => this.write(f.path, copy));
    }
    return this.saving;
  }

  async close(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.save();
  }

  /** Candidate positions for `key`, newest first, at most `limit`. */
  lookup(key: string, limit: number): KeyHit[] {
    const out: KeyHit[] = [];
    for (let i = this.files.length - 1; i >= 0 && out.length < limit; i--) this.files[i]!.lookup(key, out, limit);
    // One entry indexed under the same key twice (two fields with one value) is one hit.
    return out.filter((h, i) => i === 0 || out[i - 1]!.position !== h.position);
  }

  /** Drops files whose every entry lies before `logStart` (segments reclaimed). */
  async dropBefore(logStart: number): Promise<void> {
    while (this.files.length > 1 && this.files[1]!.firstPosition <= logStart) {
      const f = this.files.shift()!;
      await rm(f.path, { force: true });
    }
  }
}
