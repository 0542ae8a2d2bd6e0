/**
 * Transaction markers: the one-record control batches (attributes transactional | control) that
 * end a producer's transaction on a partition, as the protocol guide's "Control Batches" lays
 * them out: key = version int16 (0) + type int16 (0 abort, 1 commit); value = version int16 (0)
 * + coordinator epoch int32.
 */
import { crc32c } from '@node-rs/crc32';

const ATTRIBUTES = 0x10 | 0x20;

export function encodeTransactionMarker(producerId: number, producerEpoch: number, commit: boolean, timestamp: number, coordinatorEpoch = 0): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(commit ? 1 : 0, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  // Record body: attributes, timestampDelta 0, offsetDelta 0, key length 4 (zigzag 8), key,
  // value length 6 (zigzag 12), value, header count 0. Every varint here is one byte.
  const body = Buffer.concat([Buffer.from([0, 0, 0, 8]), key, Buffer.from([12]), value, Buffer.from([0])]);
  const record = Buffer.concat([Buffer.from([body.length * 2]), body]);
  const batch = Buffer.alloc(61 + record.length);
  batch.writeBigInt64BE(0n, 0);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeInt32BE(0, 12);
  batch.writeInt8(2, 16);
  batch.writeInt16BE(ATTRIBUTES, 21);
  batch.writeInt32BE(0, 23);
  batch.writeBigInt64BE(BigInt(timestamp), 27);
  batch.writeBigInt64BE(BigInt(timestamp), 35);
  batch.writeBigInt64BE(BigInt(producerId), 43);
  batch.writeInt16BE(producerEpoch, 51);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(1, 57);
  record.copy(batch, 61);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

/** True for a commit marker, false for an abort (the control record's type). */
export function markerIsCommit(batch: Buffer): boolean {
  // First record starts at 61: length varint (1 byte), attributes, timestampDelta, offsetDelta, key length, key.
  return batch.readInt16BE(61 + 5 + 2) === 1;
}
