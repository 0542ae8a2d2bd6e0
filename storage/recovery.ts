/**
 * The recovery loop (RocketMQ's `recoverAbnormally`, Kafka's `LogSegment.recover`): read a
 * segment from its start, check entry by entry (length, magic, CRC), hand each good entry
 * to the caller (which rebuilds the indexes), and stop at the first bad one. What follows
 * a bad entry is not trusted: in the last segment it is a torn tail and gets truncated; in
 * an older segment it is reported as corruption with the segment and position and skipped,
 * never a reason to refuse to start.
 *
 * The file is read in 8 MiB blocks with the next block's read in flight while the current
 * one is parsed, so a cold rebuild runs at the disk's read speed rather than read + parse.
 */
import { open } from 'node:fs/promises';
import { checkEntry, type EntryProblem } from './entry-format.js';

const BLOCK_BYTES = 8 * 1024 * 1024;

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
  blockBytes = BLOCK_BYTES,
): Promise<ScanResult> {
  const fh = await open(path, 'r');
  try {
    const fileLength = (await fh.stat()).size;
    const size = Math.max(1, Math.min(blockBytes, fileLength));
    const blocks = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    // The unparsed rest of the previous block (a cut entry), then the next block behind it.
    let work = Buffer.allocUnsafe(0);
    let carry = 0;
    let readPos = 0; // file position of the next block to read
    let dataPos = 0; // file position of the first unparsed byte
    let entries = 0;
    let which = 0;
    const readBlock = (pos: number) => fh.read(blocks[which]!, 0, size, pos);
    let inFlight = fileLength > 0 ? readBlock(0) : null;
    while (inFlight !== null) {
      const { bytesRead } = await inFlight;
      const block = blocks[which]!;
      readPos += bytesRead;
      which ^= 1;
      // The next read goes into the other block while this one is parsed.
      inFlight = bytesRead > 0 && readPos < fileLength ? readBlock(readPos) : null;
      let data = block;
      let dataEnd = bytesRead;
      if (carry > 0) {
        if (work.length < carry + bytesRead) {
          const bigger = Buffer.allocUnsafe(carry + bytesRead);
          work.copy(bigger, 0, 0, carry);
          work = bigger;
        }
        block.copy(work, carry, 0, bytesRead);
        data = work;
        dataEnd = carry + bytesRead;
      }
      let at = 0;
      for (;;) {
        const checked = checkEntry(data, at, dataEnd);
        if (checked === 'short') break;
        if (typeof checked !== 'number') {
          return { validLength: dataPos + at, fileLength, entries, problem: { position: dataPos + at, kind: checked } };
        }
        onEntry(data, at, dataPos + at, checked);
        entries++;
        at += checked;
      }
      carry = dataEnd - at;
      dataPos += at;
      if (carry > 0) {
        if (data === work) {
          work.copy(work, 0, at, dataEnd);
        } else {
          if (work.length < carry) work = Buffer.allocUnsafe(Math.max(carry, size) + size);
          data.copy(work, 0, at, dataEnd);
        }
      }
      if (bytesRead === 0) break;
    }
    if (carry > 0) return { validLength: dataPos, fileLength, entries, problem: { position: dataPos, kind: 'short' } };
    return { validLength: dataPos, fileLength, entries, problem: null };
  } finally {
    await fh.close();
  }
}
