/**
 * Read-only file descriptors opened on demand and closed least-recently-used first, so the
 * number of open files stays under a bound however many segments and index files exist.
 * Synchronous opens: index lookups are synchronous (page-cache reads, like an mmap'd index).
 * An fd used by an asynchronous read is pinned so it is never closed (and its number reused
 * by another file) while the read is in flight.
 */
import { closeSync, openSync, constants } from 'node:fs';

interface OpenFile {
  fd: number;
  pins: number;
  /** Forgotten while pinned: close on the last unpin. */
  doomed: boolean;
}

export class FdCache {
  /** path -> file, in least- to most-recently-used order (Map keeps insertion order). */
  private readonly files = new Map<string, OpenFile>();

  constructor(private readonly maxOpen: number) {}

  private open(path: string): OpenFile {
    let file = this.files.get(path);
    if (file !== undefined) {
      this.files.delete(path);
      this.files.set(path, file);
      return file;
    }
    if (this.files.size >= this.maxOpen) {
      for (const [oldPath, old] of this.files) {
        if (old.pins > 0) continue;
        this.files.delete(oldPath);
        closeSync(old.fd);
        break;
      }
    }
    file = { fd: openSync(path, constants.O_RDONLY), pins: 0, doomed: false };
    this.files.set(path, file);
    return file;
  }

  /** An fd for a synchronous read (valid until the next call into this cache). */
  get(path: string): number {
    return this.open(path).fd;
  }

  /** An fd that stays open until `unpin(path, fd)`. */
  pin(path: string): number {
    const file = this.open(path);
    file.pins++;
    return file.fd;
  }

  unpin(path: string, fd: number): void {
    const file = this.files.get(path);
    if (file !== undefined && file.fd === fd) {
      file.pins--;
      return;
    }
    const doomed = this.doomed.get(fd);
    if (doomed !== undefined && --doomed.pins === 0) {
      this.doomed.delete(fd);
      closeSync(fd);
    }
  }

  private readonly doomed = new Map<number, OpenFile>();

  /** Closes the fd of `path` (before the file is deleted or replaced); deferred while pinned. */
  forget(path: string): void {
    const file = this.files.get(path);
    if (file === undefined) return;
    this.files.delete(path);
    if (file.pins > 0) {
      file.doomed = true;
      this.doomed.set(file.fd, file);
    } else {
      closeSync(file.fd);
    }
  }

  get size(): number {
    return this.files.size + this.doomed.size;
  }

  closeAll(): void {
    for (const file of this.files.values()) closeSync(file.fd);
    for (const file of this.doomed.values()) closeSync(file.fd);
    this.files.clear();
    this.doomed.clear();
  }
}
