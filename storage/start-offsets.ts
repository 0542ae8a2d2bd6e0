/**
 * What the log alone cannot tell after segments are deleted: each partition's log start
 * offset (DeleteRecords, retention, dropPartition) and the floor of its next offset (so a
 * fully consumed queue whose segments are gone does not hand out old offsets again). Kept
 * in an internal meta log, like Kafka's log-start-offset checkpoint file.
 *
 *  record (13 bytes): partition uint32 | kind uint8 (0 start, 1 next floor) | offset int64
 *  snapshot: the same records, one per (partition, kind) with a value
 */
import { readInt64, writeInt64 } from './entry-format.js';
import type { MetaLogFile } from './meta-log.js';

const RECORD_BYTES = 13;
export const START = 0;
export const NEXT_FLOOR = 1;

export class StartOffsets {
  readonly start = new Map<number, number>();
  readonly nextFloor = new Map<number, number>();

  constructor(private readonly log: MetaLogFile) {
    const { snapshot, records } = log.replay();
    if (snapshot !== null) this.apply(snapshot);
    for (const r of records) this.apply(r);
  }

  private apply(buf: Buffer): void {
    for (let p = 0; p + RECORD_BYTES <= buf.length; p += RECORD_BYTES) {
      const map = buf[p + 4] === START ? this.start : this.nextFloor;
      const id = buf.readUInt32BE(p);
      map.set(id, Math.max(map.get(id) ?? 0, readInt64(buf, p + 5)));
    }
  }

  private static encode(rows: [number, number, number][]): Buffer {
    const buf = Buffer.allocUnsafe(rows.length * RECORD_BYTES);
    rows.forEach(([id, kind, offset], i) => {
      const p = i * RECORD_BYTES;
      buf.writeUInt32BE(id, p);
      buf[p + 4] = kind;
      writeInt64(buf, p + 5, offset);
    });
    return buf;
  }

  /** Records new values; resolves when durable. Several rows go in one record. */
  async record(rows: [partition: number, kind: number, offset: number][]): Promise<void> {
    if (rows.length === 0) return;
    for (const [id, kind, offset] of rows) {
      const map = kind === START ? this.start : this.nextFloor;
      map.set(id, Math.max(map.get(id) ?? 0, offset));
    }
    await this.log.append(StartOffsets.encode(rows), 'sync');
    if (this.log.recordsSinceSnapshot > 10_000) {
      const all: [number, number, number][] = [];
      for (const [id, o] of this.start) all.push([id, START, o]);
      for (const [id, o] of this.nextFloor) all.push([id, NEXT_FLOOR, o]);
      await this.log.snapshot(StartOffsets.encode(all));
    }
  }
}
