/**
 * One unit of the timer log (RocketMQ 5's TimerLog unit, simplified): fixed 48 bytes, so a
 * position is enough to read one and a torn tail is found by length and CRC.
 *
 * ```
 *  0 dueAt     float64  ms since the epoch the timer fires (an integer)
 *  8 slot      float64  timer: the wheel slot number it is linked into (slot = floor(ms / slotMs))
 * 16 link      float64  timer: position of the previous unit of the same slot, -1 = none
 *                       done:  position of the timer unit that is finished
 * 24 offset    float64  the reference: offset of the message in `partition`
 * 32 partition uint32   the reference: store partition holding the message
 * 36 kind      uint8    1 timer, 2 done, 3 cancel
 * 37 flags     uint8    bit 0: rolled (a far timer re-linked into a later slot)
 * 38 reserved  uint16
 * 40 crc       uint32   CRC32C of bytes [0, 40)
 * 44 reserved  uint32
 * ```
 * Big-endian. The numbers are doubles holding integers (< 2^53), as the commit log's
 * in-memory index units are.
 */
import { crc32c } from '@node-rs/crc32';

export const UNIT_BYTES = 48;

export const enum UnitKind {
  Timer = 1,
  Done = 2,
  Cancel = 3,
}

export const FLAG_ROLLED = 1;

export interface TimerUnit {
  dueAt: number;
  slot: number;
  link: number;
  offset: number;
  partition: number;
  kind: UnitKind;
  flags: number;
}

export function writeUnit(buf: Buffer, at: number, u: TimerUnit): void {
  buf.writeDoubleBE(u.dueAt, at);
  buf.writeDoubleBE(u.slot, at + 8);
  buf.writeDoubleBE(u.link, at + 16);
  buf.writeDoubleBE(u.offset, at + 24);
  buf.writeUInt32BE(u.partition >>> 0, at + 32);
  buf.writeUInt8(u.kind, at + 36);
  buf.writeUInt8(u.flags, at + 37);
  buf.writeUInt16BE(0, at + 38);
  buf.writeUInt32BE(crc32c(buf.subarray(at, at + 40)), at + 40);
  buf.writeUInt32BE(0, at + 44);
}

/** The unit at `at`, or null when its CRC or kind is wrong (torn or zero-filled tail). */
export function readUnit(buf: Buffer, at: number): TimerUnit | null {
  if (at + UNIT_BYTES > buf.length) return null;
  const kind = buf.readUInt8(at + 36);
  if (kind < UnitKind.Timer || kind > UnitKind.Cancel) return null;
  if (crc32c(buf.subarray(at, at + 40)) !== buf.readUInt32BE(at + 40)) return null;
  return {
    dueAt: buf.readDoubleBE(at),
    slot: buf.readDoubleBE(at + 8),
    link: buf.readDoubleBE(at + 16),
    offset: buf.readDoubleBE(at + 24),
    partition: buf.readUInt32BE(at + 32),
    kind: kind as UnitKind,
    flags: buf.readUInt8(at + 37),
  };
}
