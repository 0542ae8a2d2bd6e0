/**
 * One file of the message-key index (`keys/<20-digit first position>.kix`): a hash table on
 * disk from a lookup key (message id, correlation id, Kafka key) to the commit-log positions of
 * the entries that carry it — RocketMQ's IndexFile: a fixed slot array whose slots hold the
 * newest entry of their chain, and entries that point to the previous one in the same slot.
 *
 *  header (48 bytes)
 *   0 magic          uint32 'PBKX'
 *   4 version        uint16 = 1 | reserved uint16
 *   8 slotCount      uint32
 *  12 entryCount     uint32
 *  16 firstPosition  int64   log position of the first entry indexed here
 *  24 endPosition    int64   log position after the last entry indexed here (the checkpoint)
 *  32 firstTimestamp int64
 *  40 lastTimestamp  int64
 *  slot (4 bytes) x slotCount: entry number + 1 of the chain head, 0 = empty
 *  entry (24 bytes) x capacity
 *   0 keyHash   uint32  crc32c of the key's UTF-8 bytes
 *   4 prev      uint32  entry number + 1 of the previous entry in the slot, 0 = none
 *   8 position  int64   commit-log position of the entry holding the message
 *  16 timestamp int64   ms
 *
 * Derived data like the segment indexes: no checksum; an entry past `endPosition` is ignored
 * and the log from `endPosition` on is indexed again on open. Hashes collide: a hit is a
 * candidate that the reader confirms on the stored message.
 */
import { crc32c } from '@node-rs/crc32';
import { readInt64, writeInt64 } from './entry-format.js';

const MAGIC = 0x50424b58; // 'PBKX'
const VERSION = 1;
const HEADER_BYTES = 48;
const SLOT_BYTES = 4;
const ENTRY_BYTES = 24;

export function keyHash(key: string): number {
  return crc32c(Buffer.from(key, 'utf8')) >>> 0;
}

export class KeyIndexFile {
  private constructor(
    readonly path: string,
    readonly buf: Buffer,
    readonly slotCount: number,
    readonly capacity: number,
  ) {}

  static create(path: string, slotCount: number, capacity: number, firstPosition: number): KeyIndexFile {
    const buf = Buffer.alloc(HEADER_BYTES + slotCount * SLOT_BYTES + capacity * ENTRY_BYTES);
    buf.writeUInt32BE(MAGIC, 0);
    buf.writeUInt16BE(VERSION, 4);
    buf.writeUInt32BE(slotCount, 8);
    writeInt64(buf, 16, firstPosition);
    writeInt64(buf, 24, firstPosition);
    return new KeyIndexFile(path, buf, slotCount, capacity);
  }

  /** A file's bytes as read from disk, or null when they are not a key index file. */
  static fromBytes(path: string, buf: Buffer): KeyIndexFile | null {
    if (buf.length < HEADER_BYTES || buf.readUInt32BE(0) !== MAGIC || buf.readUInt16BE(4) !== VERSION) return null;
    const slotCount = buf.readUInt32BE(8);
    const capacity = Math.floor((buf.length - HEADER_BYTES - slotCount * SLOT_BYTES) / ENTRY_BYTES);
    if (slotCount === 0 || capacity < buf.readUInt32BE(12)) return null;
    return new KeyIndexFile(path, buf, slotCount, capacity);
  }

  get entryCount(): number {
    return this.buf.readUInt32BE(12);
  }
  get full(): boolean {
    return this.entryCount >= this.capacity;
  }
  get firstPosition(): number {
    return readInt64(this.buf, 16);
  }
  get endPosition(): number {
    return readInt64(this.buf, 24);
  }
  set endPosition(p: number) {
    writeInt64(this.buf, 24, p);
  }
  get lastTimestamp(): number {
    return readInt64(this.buf, 40);
  }

  /** Adds one key of the entry at `position` (the caller rolls to a new file when full). */
  add(key: string, position: number, timestamp: number): void {
    const n = this.entryCount;
    const h = keyHash(key);
    const slotAt = HEADER_BYTES + (h % this.slotCount) * SLOT_BYTES;
    const at = HEADER_BYTES + this.slotCount * SLOT_BYTES + n * ENTRY_BYTES;
    const b = this.buf;
    b.writeUInt32BE(h, at);
    b.writeUInt32BE(b.readUInt32BE(slotAt), at + 4);
    writeInt64(b, at + 8, position);
    writeInt64(b, at + 16, timestamp);
    b.writeUInt32BE(n + 1, slotAt);
    b.writeUInt32BE(n + 1, 12);
    if (n === 0) writeInt64(b, 32, timestamp);
    writeInt64(b, 40, timestamp);
  }

  /** Positions (newest first) of entries whose key hashes like `key`, below `endPosition`. */
  lookup(key: string, out: { position: number; timestamp: number }[], limit: number): void {
    const h = keyHash(key);
    const b = this.buf;
    const end = this.endPosition;
    const entries = HEADER_BYTES + this.slotCount * SLOT_BYTES;
    let e = b.readUInt32BE(HEADER_BYTES + (h % this.slotCount) * SLOT_BYTES);
    // The chain is bounded by the entry count: a damaged link cannot loop forever.
    for (let steps = 0; e !== 0 && steps < this.entryCount && out.length < limit; steps++) {
      const at = entries + (e - 1) * ENTRY_BYTES;
      const position = readInt64(b, at + 8);
      if (b.readUInt32BE(at) === h && position < end) out.push({ position, timestamp: readInt64(b, at + 16) });
      const prev = b.readUInt32BE(at + 4);
      if (prev >= e) break;
      e = prev;
    }
  }
}
