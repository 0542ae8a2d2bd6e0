/**
 * The recovery loop (RocketMQ's `recoverAbnormally`, Kafka's `LogSegment.recover`): read a
 * segment from its start, check entry by entry (length, magic, CRC), hand each good entry
 * to the caller (which rebuilds the indexes), and stop at the first bad one. What follows
 * a bad entry is not trusted: in the last segment it is a torn tail and gets truncated; in
 * an older segment it is reported as corruption with the segment and position and skipped,
 * never a reason to refuse to start.
 */
import { open } from 'node:fs/promises';
import { checkEntry, ENTRY_FIXED_BYTES, type EntryProblem } from './entry-format.js';

const READ_CHUNK_BYTES = 8 * 1024 * 1024;

export interface ScanResult {
  /** Bytes from the file start that hold good entries. */
  validLength: number;
  fileLength: number;
  entries: number;
  /** The first bad entry, or null when the file ends cleanly. */
  problem: { position: number; kind: EntryProblem } | null;
}

/**
 * Calls `onEntry(buf, at, filePosition, length)` for every good entry of the file; `buf`
 * is only valid during the call.
 */
export async function scanSegmentFile(
  path: string,
  onEntry: (buf: Buffer, at: number, filePosition: number, length: number) => void,
): Promise<ScanResult> {
  const fh = await open(path, 'r');
  try {
    const fileLength = (await fh.stat()).size;
    let buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(fileLength, ENTRY_FIXED_BYTES)));
    let bufStart = 0; // file position of buf[0]
    let bufEnd = 0; // bytes of buf holding data
    let at = 0; // next entry within buf
    let entries = 0;
    for (;;) {
      const filePos = bufStart + at;
      const checked = checkEntry(buf, at, bufEnd);
      if (typeof checked === 'number') {
        onEntry(buf, at, filePos, checked);
        entries++;
        at += checked;
        continue;
      }
      if (checked === 'short' && bufStart + bufEnd < fileLength) {
        // Move the partial entry to the front and read more, growing for a large entry.
        const need = bufEnd - at >= 4 ? buf.readUInt32BE(at) : 0;
        if (need > buf.length) {
          const bigger = Buffer.allocUnsafe(need);
          buf.copy(bigger, 0, at, bufEnd);
          buf = bigger;
        } else {
          buf.copy(buf, 0, at, bufEnd);
        }
        bufStart += at;
        bufEnd -= at;
        at = 0;
        const { bytesRead } = await fh.read(buf, bufEnd, buf.length - bufEnd, bufStart + bufEnd);
        bufEnd += bytesRead;
        if (bytesRead === 0) return { validLength: filePos, fileLength, entries, problem: { position: filePos, kind: 'short' } };
        continue;
      }
      if (filePos === fileLength) return { validLength: filePos, fileLength, entries, problem: null };
      return { validLength: filePos, fileLength, entries, problem: { position: filePos, kind: checked } };
    }
  } finally {
    await fh.close();
  }
}
