import { ReplyCode } from '../spec/reply-codes.js';
import { AmqpConnectionError } from './errors.js';
import { FRAME_END, FRAME_OVERHEAD, FrameType } from './method-codec.js';

/**
 * General frame format (spec §4.2.3):
 *
 *   type(1) channel(2) size(4) | payload(size) | frame-end(1) = 0xCE
 */
export interface RawFrame {
  type: number;
  channel: number;
  payload: Buffer;
  /** offset just past the frame-end octet */
  next: number;
}

/** The 8 octets a 0-9-1 peer sends first, and what we answer other versions with (§4.2.2). */
export const PROTOCOL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

const KNOWN_TYPES = new Set<number>([FrameType.METHOD, FrameType.HEADER, FrameType.BODY, FrameType.HEARTBEAT]);

/**
 * Reads one frame at `off`. Returns null when more bytes are needed; throws
 * AmqpConnectionError(FRAME_ERROR) for an unknown type, an oversized frame (checked from the
 * size field, before anything is buffered) or a missing frame-end.
 */
export function readFrame(buf: Buffer, off: number, frameMax: number): RawFrame | null {
  if (buf.length - off < 7) return null;
  const type = buf[off]!;
  if (!KNOWN_TYPES.has(type)) throw new AmqpConnectionError(ReplyCode.FRAME_ERROR, `unknown frame type ${type}`);
  const channel = buf.readUInt16BE(off + 1);
  const size = buf.readUInt32BE(off + 3);
  if (frameMax > 0 && size + FRAME_OVERHEAD > frameMax) {
    throw new AmqpConnectionError(ReplyCode.FRAME_ERROR, `type ${type}, ${size + FRAME_OVERHEAD} octets = frame larger than negotiated maximum of ${frameMax}`);
  }
  const end = off + 7 + size;
  if (buf.length <= end) return null;
  if (buf[end] !== FRAME_END) throw new AmqpConnectionError(ReplyCode.FRAME_ERROR, `type ${type}, ${size} octets: invalid frame end ${buf[end]} (expected ${FRAME_END})`);
  return { type, channel, payload: buf.subarray(off + 7, end), next: end + 1 };
}

export type FrameHandler = (type: number, channel: number, payload: Buffer) => void;

/**
 * Streaming parser. Frames inside one chunk are handed out as views of it; a frame that spans
 * chunks is assembled with one copy once all its bytes are there (no copy per chunk).
 * `frameMax` may change after tune-ok.
 */
export class FrameParser {
  frameMax: number;
  private buf: Buffer = Buffer.alloc(0);
  private off = 0;
  /** chunks held back while a known-size frame is incomplete */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private awaiting = 0;
  private headerSeen: boolean;
  /** set by a handler to stop parsing the rest of the chunk (e.g. after closing) */
  stopped = false;

  constructor(
    private readonly onFrame: FrameHandler,
    private readonly onProtocolHeader: (header: Buffer) => void,
    frameMax: number,
    expectProtocolHeader = true,
  ) {
    this.frameMax = frameMax;
    this.headerSeen = !expectProtocolHeader;
  }

  /** Bytes buffered but not yet parsed. */
  get buffered(): number {
    return this.buf.length - this.off + this.heldBytes;
  }

  push(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.awaiting > 0 && this.buf.length - this.off + this.heldBytes + chunk.length < this.awaiting) {
      this.held.push(chunk);
      this.heldBytes += chunk.length;
      return;
    }
    let start = 0;
    if (this.off < this.buf.length || this.heldBytes > 0) {
      if (this.headerSeen) {
        start = this.completeSplitFrame(chunk);
        if (start < 0 || this.stopped) return;
      } else {
        chunk = Buffer.concat([this.buf.subarray(this.off), ...this.held, chunk]);
        this.held = [];
        this.heldBytes = 0;
      }
    }
    this.buf = chunk;
    this.off = start;
    this.awaiting = 0;
    if (!this.headerSeen) {
      if (this.buf.length < 8) return;
      this.headerSeen = true;
      const header = this.buf.subarray(0, 8);
      this.off = 8;
      this.onProtocolHeader(header);
      if (this.stopped) return;
    }
    for (;;) {
      const f = readFrame(this.buf, this.off, this.frameMax);
      if (!f) {
        const left = this.buf.length - this.off;
        if (left >= 7) this.awaiting = this.buf.readUInt32BE(this.off + 3) + FRAME_OVERHEAD;
        return;
      }
      this.off = f.next;
      this.onFrame(f.type, f.channel, f.payload);
      if (this.stopped) return;
    }
  }

  /**
   * The frame begun in earlier chunks: copies only its own bytes out of `chunk` (TLS hands over
   * 16 KiB records, so most chunks start inside a frame; copying the whole chunk each time was
   * the parser's main cost over TLS). Returns where the rest of `chunk` starts, or -1 when
   * `chunk` ended inside the frame.
   */
  private completeSplitFrame(chunk: Buffer): number {
    let head = this.heldBytes === 0 ? this.buf.subarray(this.off) : Buffer.concat([this.buf.subarray(this.off), ...this.held]);
    this.held = [];
    this.heldBytes = 0;
    let used = 0;
    if (head.length < 7) {
      used = Math.min(7 - head.length, chunk.length);
      head = Buffer.concat([head, chunk.subarray(0, used)]);
      if (head.length < 7) return this.keep(head, 0);
    }
    readFrame(head, 0, this.frameMax); // checks the type and size before more is copied
    const need = head.readUInt32BE(3) + FRAME_OVERHEAD;
    const take = Math.min(Math.max(need - head.length, 0), chunk.length - used);
    if (take > 0) head = Buffer.concat([head, chunk.subarray(used, used + take)]);
    used += take;
    if (head.length < need) return this.keep(head, need);
    const f = readFrame(head, 0, this.frameMax)!;
    this.buf = head;
    this.off = f.next;
    this.onFrame(f.type, f.channel, f.payload);
    return used;
  }

  /** Keeps the start of a frame until more bytes come. */
  private keep(head: Buffer, awaiting: number): number {
    this.buf = head;
    this.off = 0;
    this.awaiting = awaiting;
    return -1;
  }
}
