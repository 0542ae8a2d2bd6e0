import { MqttProtocolError, malformed } from './errors.js';
import { ReasonCode } from './reason-codes.js';

/** One MQTT control packet as framed on the wire: first header byte and the remaining bytes. */
export interface Frame {
  /** Packet type (high nibble of byte 1). */
  type: number;
  /** Flags (low nibble of byte 1). */
  flags: number;
  /** Variable header + payload; a view into the received chunk when it fit in one. */
  body: Buffer;
  /** Total size on the wire (fixed header included), as compared with Maximum Packet Size. */
  size: number;
}

/**
 * Splits a byte stream into MQTT frames (MQTT 5.0 §2.1). The packet size is checked as soon
 * as the Remaining Length is known, before the body is buffered, so an oversized packet
 * never costs memory ([MQTT-3.2.2-15] server side: Maximum Packet Size).
 *
 * Frames are views into the chunk they arrived in; bytes are copied only when a frame spans
 * chunks (one concat, once the frame is complete).
 */
const EMPTY = Buffer.alloc(0);

export class FrameReader {
  private buf: Buffer = EMPTY;
  private off = 0;
  /** Chunks after `buf` while a frame spans chunks; made only then. */
  private parts: Buffer[] | null = null;
  private partsLen = 0;
  /** Size of the frame we are waiting for, once its header has been read (0 = unknown). */
  private want = 0;

  constructor(public maxPacketSize: number) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.off >= this.buf.length && this.partsLen === 0) {
      this.buf = chunk;
      this.off = 0;
    } else {
      (this.parts ??= []).push(chunk);
      this.partsLen += chunk.length;
    }
  }

  /** Bytes received and not yet returned as frames. */
  get buffered(): number {
    return this.buf.length - this.off + this.partsLen;
  }

  /** The next complete frame, or null when more bytes are needed. Throws MqttProtocolError. */
  next(): Frame | null {
    let avail = this.buf.length - this.off;
    if (this.want > 0) {
      if (avail + this.partsLen < this.want) return null;
      if (avail < this.want) this.merge();
    } else if (avail < 5 && this.partsLen > 0) {
      this.merge();
    }
    avail = this.buf.length - this.off;
    if (avail < 2) return null;
    const buf = this.buf;
    const start = this.off;
    const first = buf[start]!;
    // Remaining Length: variable byte integer of at most 4 bytes (§1.5.5).
    let remaining = 0;
    let mul = 1;
    let i = start + 1;
    for (;;) {
      if (i >= buf.length) return null;
      const b = buf[i++]!;
      remaining += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      if (i - start - 1 >= 4) throw malformed('remaining length longer than 4 bytes');
    }
    const size = i - start + remaining;
    if (size > this.maxPacketSize) {
      throw new MqttProtocolError(ReasonCode.PacketTooLarge, `packet of ${size} bytes exceeds maximum ${this.maxPacketSize}`);
    }
    if (avail < size) {
      this.want = size;
      if (avail + this.partsLen >= size) return this.next();
      return null;
    }
    this.want = 0;
    this.off = start + size;
    const frame = { type: first >> 4, flags: first & 0x0f, body: buf.subarray(i, start + size), size };
    if (this.off === buf.length && this.partsLen === 0) {
      // Everything consumed: do not keep the chunk alive while the connection idles.
      this.buf = EMPTY;
      this.off = 0;
    }
    return frame;
  }

  private merge(): void {
    const head = this.buf.subarray(this.off);
    this.buf = Buffer.concat([head, ...(this.parts ?? [])], head.length + this.partsLen);
    this.off = 0;
    this.parts = null;
    this.partsLen = 0;
  }
}
