/**
 * The codecs of a RecordBatch's attribute bits 0-2 (Kafka protocol guide, "Record Batch"):
 * 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. Synchronous on purpose: batches are small and
 * the callers (produce decode, cross-protocol conversion) are already off the append path.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import * as snappy from 'snappy';
import * as lz4 from 'lz4-napi';
import { createRequire } from 'node:module';

interface ZstdCodec {
  compress(data: Buffer): Buffer;
  decompress(data: Buffer): Buffer;
}

/**
 * zstd comes from the optional `zstd-napi` (compiled from its bundled sources at install);
 * where it did not build, codec 4 is reported as unsupported instead of failing the broker.
 */
let zstdCodec: ZstdCodec | null | undefined;
function zstd(): ZstdCodec | null {
  if (zstdCodec === undefined) {
    try {
      zstdCodec = createRequire(import.meta.url)('zstd-napi') as ZstdCodec;
    } catch {
      zstdCodec = null;
    }
  }
  return zstdCodec;
}

/** True when codec 4 (zstd) is available in this installation. */
export function zstdAvailable(): boolean {
  return zstd() !== null;
}

export const Compression = {
  None: 0,
  Gzip: 1,
  Snappy: 2,
  Lz4: 3,
  Zstd: 4,
} as const;
export type CompressionCodec = (typeof Compression)[keyof typeof Compression];

export const compressionNames = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

/** Raised for a codec this build cannot handle; Kafka's UNSUPPORTED_COMPRESSION_TYPE (76). */
export class UnsupportedCompressionError extends Error {
  readonly code = 'UNSUPPORTED_COMPRESSION_TYPE';
  constructor(readonly codec: number) {
    super(`unsupported compression codec ${compressionNames[codec] ?? codec}`);
    this.name = 'UnsupportedCompressionError';
  }
}

/**
 * xerial snappy-java stream framing, which the Java Kafka client uses for produce:
 *
 *   +------------------------------+----------------+----------------+
 *   | magic 0x82 'S''N''A''P''P''Y' 0x00 (8 bytes)  | version int32  | compat int32 |
 *   +------------------------------+----------------+----------------+
 *   then blocks: | length int32 BE | raw snappy chunk (length bytes) | ...
 */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_BLOCK_BYTES = 32 * 1024;

function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && data.subarray(0, 8).equals(XERIAL_MAGIC);
}

function snappyRaw(data: Buffer): Buffer {
  return snappy.uncompressSync(data, { asBuffer: true }) as Buffer;
}

function unsnappy(data: Buffer): Buffer {
  if (!isXerial(data)) return snappyRaw(data);
  const parts: Buffer[] = [];
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new Error('truncated xerial snappy block header');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) throw new Error('truncated xerial snappy block');
    parts.push(snappyRaw(data.subarray(pos, pos + len)));
    pos += len;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Encodes with xerial framing, which every Kafka client (Java, librdkafka, kafkajs) reads. */
function snappyXerial(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  parts.push(header);
  for (let pos = 0; pos < data.length || pos === 0; pos += XERIAL_BLOCK_BYTES) {
    const block = snappy.compressSync(data.subarray(pos, pos + XERIAL_BLOCK_BYTES));
    const len = Buffer.alloc(4);
    len.writeInt32BE(block.length, 0);
    parts.push(len, block);
    if (data.length === 0) break;
  }
  return Buffer.concat(parts);
}

export function compress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      return gzipSync(data);
    case Compression.Snappy:
      return snappyXerial(data);
    case Compression.Lz4:
      return lz4.compressFrameSync(data);
    case Compression.Zstd: {
      const z = zstd();
      if (z === null) throw new UnsupportedCompressionError(codec);
      return z.compress(data);
    }
    default:
      throw new UnsupportedCompressionError(codec);
  }
}

export function decompress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      return gunzipSync(data);
    case Compression.Snappy:
      return unsnappy(data);
    case Compression.Lz4:
      return lz4.decompressFrameSync(data);
    case Compression.Zstd: {
      const z = zstd();
      if (z === null) throw new UnsupportedCompressionError(codec);
      return z.decompress(data);
    }
    default:
      throw new UnsupportedCompressionError(codec);
  }
}
