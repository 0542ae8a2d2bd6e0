import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * An exclusive lock on a data dir: a file created with O_EXCL that holds the owner's pid and
 * its start time. A lock whose process is gone, or whose pid now belongs to another process
 * (pid reuse, common in containers), is stale and taken over.
 */

export const LOCK_FILE = 'polybroker.lock';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(`data dir ${dataDir} is locked by another polybroker (pid ${pid}); stop it or use another --data-dir`);
    this.name = 'DataDirLockedError';
  }
}

interface LockContent {
  pid: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22); 0 when unknown. */
  startTime: number;
  host: string;
  since: string;
}

/** Start time of a process in clock ticks since boot, or undefined when it does not exist. */
function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: field 3 first.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(path: string): LockContent | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number') return undefined;
    return { pid: parsed.pid, startTime: parsed.startTime ?? 0, host: parsed.host ?? '', since: parsed.since ?? '' };
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote `lock` still runs (same pid and same start time). */
function holderRuns(lock: LockContent): boolean {
  if (lock.host && lock.host !== hostname()) return true; // another machine's lock (shared disk): never steal it
  if (!isAlive(lock.pid)) return false;
  const started = processStartTime(lock.pid);
  return lock.startTime === 0 || started === undefined || started === lock.startTime;
}

export class DataDirLock {
  private constructor(
    readonly dataDir: string,
    readonly path: string,
  ) {}

  /** Creates the data dir if needed and locks it; throws DataDirLockedError naming the holder. */
  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    const path = join(dataDir, LOCK_FILE);
    const content: LockContent = {
      pid: process.pid,
      startTime: processStartTime(process.pid) ?? 0,
      host: hostname(),
      since: new Date().toISOString(),
    };
    // Write the content to a private file first and hard-link it into place: link() is atomic
    // and fails if the lock exists, so nobody ever sees a lock file without its pid.
    const draft = `${path}.${process.pid}`;
    const fd = openSync(draft, 'w', 0o644);
    try {
      writeSync(fd, JSON.stringify(content) + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(draft, path);
          return new DataDirLock(dataDir, path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
        const holder = readLock(path);
        if (holder && holder.pid !== process.pid && holderRuns(holder)) throw new DataDirLockedError(dataDir, holder.pid);
        // Stale (its process is gone) or unreadable (damaged). Move it aside atomically, so of
        // two brokers taking over the same stale lock only one removes it, then retry.
        const aside = `${path}.stale-${process.pid}`;
        try {
          renameSync(path, aside);
          unlinkSync(aside);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
      const holder = readLock(path);
      throw new DataDirLockedError(dataDir, holder?.pid ?? -1);
    } finally {
      unlinkSync(draft);
    }
  }

  /** Removes the lock file if it is still ours. */
  release(): void {
    const holder = readLock(this.path);
    if (holder && holder.pid !== process.pid) return;
    try {
      unlinkSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}
