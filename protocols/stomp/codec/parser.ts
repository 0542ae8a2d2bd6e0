import { commandAt, MAX_COMMAND_LENGTH, type StompCommand } from './commands.js';
import { escapeModeFor, unescapeValue } from './escaping.js';
import type { StompFrame } from './frame.js';
import { StompFrameError } from './frame-error.js';
import { commonHeaderNameAt } from './header-names.js';
import type { StompVersion } from '../spec/versions.js';

/**
 * Wire grammar (STOMP 1.2 "Augmented BNF"), as this parser reads it:
 *
 *   frame   = command EOL *(header EOL) EOL *OCTET NULL *(EOL)
 *   command = client-command | server-command
 *   header  = header-name ":" header-value
 *   EOL     = [CR] LF        (CR accepted on every version: 1.0/1.1 clients send CRLF too)
 *
 * The body ends at the first NUL unless `content-length` says how many octets it has (then it
 * may hold NULs). EOLs between frames are heart-beats and are skipped; so are stray NULs
 * there (a frame terminated twice), which RabbitMQ tolerates and some clients send.
 */
export interface StompParserLimits {
  /** Command line plus header lines plus the blank line, in bytes. */
  maxHeaderBytes: number;
  /** Header lines per frame. */
  maxHeaders: number;
  /** Body bytes per frame. */
  maxBodyBytes: number;
}

export const DEFAULT_PARSER_LIMITS: StompParserLimits = {
  maxHeaderBytes: 64 * 1024,
  maxHeaders: 1000,
  maxBodyBytes: 16 * 1024 * 1024,
};

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const NUL = 0x00;

/**
 * States, as in nats-server's parser and ws's Receiver:
 *
 *   FRAME_START ──command byte──► HEAD ──blank line──► BODY_LENGTH (content-length) ──► FRAME_END ─NUL─┐
 *        ▲   (EOLs skipped)              └───────────► BODY_NUL (no content-length) ──NUL─────────────┤
 *        └───────────────────────────────────────────────────────────────────────────────────────────┘
 *
 * A frame that arrives in one chunk is decoded into views of that chunk. A frame that spans
 * chunks is copied once: its head when the blank line arrives (bounded by maxHeaderBytes), its
 * body into one buffer of `content-length` bytes, or by one concat at the NUL.
 */
const enum State {
  FRAME_START,
  HEAD,
  BODY_LENGTH,
  BODY_NUL,
  FRAME_END,
}

export class StompParser {
  /** The negotiated version; the session sets it after CONNECT, before the next frame is decoded. */
  version: StompVersion = '1.0';

  private state = State.FRAME_START;

  // HEAD spanning chunks: the parts seen so far and a line tracker to find the blank line.
  private headParts: Buffer[] = [];
  private headBytes = 0;
  /** Bytes in the current (unterminated) line, and whether all of them are CR. */
  private lineBytes = 0;
  private lineIsCr = true;
  private sawFirstLf = false;

  // The frame being decoded once its head is known.
  private command: StompCommand = 'SEND';
  private headers: string[] = [];
  private rawHeaders: Buffer = Buffer.alloc(0);
  private contentLength = -1;

  // BODY_LENGTH: the destination buffer; BODY_NUL: the parts seen so far.
  private body: Buffer = Buffer.alloc(0);
  private bodyFilled = 0;
  private bodyParts: Buffer[] = [];
  private bodyBytes = 0;

  constructor(
    private readonly onFrame: (frame: StompFrame) => void,
    private readonly limits: StompParserLimits = DEFAULT_PARSER_LIMITS,
  ) {}

  /** Whether the parser sits between frames (nothing of a frame buffered). */
  get idle(): boolean {
    return this.state === State.FRAME_START;
  }

  /**
   * Decodes every complete frame in `chunk`, calling onFrame for each in order, and keeps the
   * rest for the next call. Throws StompFrameError on malformed input; the parser is then
   * unusable (the connection is closed after an ERROR frame).
   */
  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      switch (this.state) {
        case State.FRAME_START: {
          const b = chunk[pos]!;
          if (b === LF || b === CR || b === NUL) {
            pos++;
            break;
          }
          const headEnd = this.parseHead(chunk, pos, end);
          if (headEnd < 0) {
            this.startSpanningHead(chunk, pos, end);
            return;
          }
          pos = this.startBody(chunk, headEnd, end);
          break;
        }
        case State.HEAD: {
          const blankEnd = this.scanHead(chunk, pos, end);
          if (blankEnd < 0) return;
          this.headParts.push(chunk.subarray(pos, blankEnd));
          const head = Buffer.concat(this.headParts, this.headBytes + (blankEnd - pos));
          this.headParts = [];
          this.headBytes = 0;
          if (this.parseHead(head, 0, head.length) !== head.length) {
            throw new StompFrameError('malformed-header', 'frame head could not be decoded');
          }
          pos = this.startBody(chunk, blankEnd, end);
          break;
        }
        case State.BODY_LENGTH: {
          const n = Math.min(end - pos, this.body.length - this.bodyFilled);
          chunk.copy(this.body, this.bodyFilled, pos, pos + n);
          this.bodyFilled += n;
          pos += n;
          if (this.bodyFilled === this.body.length) this.state = State.FRAME_END;
          break;
        }
        case State.FRAME_END: {
          if (chunk[pos] !== NUL) throw missingNul();
          pos++;
          this.emit(this.body);
          break;
        }
        case State.BODY_NUL: {
          const nul = chunk.indexOf(NUL, pos);
          const stop = nul < 0 ? end : nul;
          this.bodyBytes += stop - pos;
          if (this.bodyBytes > this.limits.maxBodyBytes) throw bodyTooLarge(this.limits.maxBodyBytes);
          this.bodyParts.push(chunk.subarray(pos, stop));
          if (nul < 0) return;
          const body = Buffer.concat(this.bodyParts, this.bodyBytes);
          this.bodyParts = [];
          this.bodyBytes = 0;
          pos = nul + 1;
          this.emit(body);
          break;
        }
      }
    }
  }

  /**
   * Decodes the command line and header lines starting at `start`. Returns the index just past
   * the blank line, or -1 when the head is not complete in `buf[start, end)`.
   */
  private parseHead(buf: Buffer, start: number, end: number): number {
    let lf = buf.indexOf(LF, start);
    if (lf < 0 || lf >= end) {
      if (end - start > MAX_COMMAND_LENGTH + 1) throw badCommandLine(buf, start, end);
      return -1;
    }
    let lineEnd = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    const command = commandAt(buf, start, lineEnd);
    if (command === undefined) throw badCommandLine(buf, start, lineEnd);
    const mode = escapeModeFor(this.version, command);
    const headers: string[] = [];
    const rawStart = lf + 1;
    let lineStart = rawStart;
    let contentLength = -1;
    for (;;) {
      if (lineStart - start > this.limits.maxHeaderBytes) throw headersTooLarge(this.limits.maxHeaderBytes);
      // One pass over the line for its first colon and its LF: header lines are short, and a
      // JS loop over a few dozen bytes is cheaper than two native indexOf calls.
      let colon = -1;
      lf = lineStart;
      while (lf < end) {
        const b = buf[lf]!;
        if (b === LF) break;
        if (b === COLON && colon < 0) colon = lf;
        lf++;
      }
      if (lf >= end) {
        if (end - start > this.limits.maxHeaderBytes) throw headersTooLarge(this.limits.maxHeaderBytes);
        return -1;
      }
      lineEnd = lf > lineStart && buf[lf - 1] === CR ? lf - 1 : lf;
      if (lineEnd === lineStart) break; // the blank line
      if (headers.length >= 2 * this.limits.maxHeaders) {
        throw new StompFrameError('too-many-headers', `more than ${this.limits.maxHeaders} headers in one frame`);
      }
      if (colon < 0 || colon >= lineEnd || colon === lineStart) {
        throw new StompFrameError('malformed-header', 'header line without a name and a colon');
      }
      const name = commonHeaderNameAt(buf, lineStart, colon) ?? unescapeValue(buf, lineStart, colon, mode);
      const value = unescapeValue(buf, colon + 1, lineEnd, mode);
      if (name === 'content-length' && contentLength < 0) contentLength = parseContentLength(value);
      headers.push(name, value);
      lineStart = lf + 1;
    }
    const headEnd = lf + 1;
    if (headEnd - start > this.limits.maxHeaderBytes) throw headersTooLarge(this.limits.maxHeaderBytes);
    this.command = command;
    this.headers = headers;
    this.rawHeaders = buf.subarray(rawStart, lineStart);
    this.contentLength = contentLength;
    return headEnd;
  }

  /** Keeps an incomplete head and sets the line tracker to the state at its end. */
  private startSpanningHead(chunk: Buffer, start: number, end: number): void {
    this.state = State.HEAD;
    this.headParts = [chunk.subarray(start, end)];
    this.headBytes = end - start;
    const lastLf = chunk.lastIndexOf(LF, end - 1);
    this.sawFirstLf = lastLf >= start;
    const lineStart = this.sawFirstLf ? lastLf + 1 : start;
    this.lineBytes = end - lineStart;
    this.lineIsCr = this.lineBytes === 0 || (this.lineBytes === 1 && chunk[lineStart] === CR);
  }

  /**
   * Scans a later chunk of a spanning head for the blank line. Returns the index just past it,
   * or -1 (having kept the chunk) when it is not there yet.
   */
  private scanHead(chunk: Buffer, start: number, end: number): number {
    for (let i = start; i < end; i++) {
      const b = chunk[i]!;
      if (b === LF) {
        if (this.sawFirstLf && (this.lineBytes === 0 || (this.lineBytes === 1 && this.lineIsCr))) return i + 1;
        this.sawFirstLf = true;
        this.lineBytes = 0;
        this.lineIsCr = true;
      } else {
        this.lineBytes++;
        if (b !== CR) this.lineIsCr = false;
        if (!this.sawFirstLf && this.headBytes + (i - start) + 1 > MAX_COMMAND_LENGTH + 1) {
          const partial = Buffer.concat([...this.headParts, chunk.subarray(start, i + 1)]);
          throw badCommandLine(partial, 0, partial.length);
        }
      }
      if (this.headBytes + (i - start) + 1 > this.limits.maxHeaderBytes) {
        throw headersTooLarge(this.limits.maxHeaderBytes);
      }
    }
    this.headParts.push(chunk.subarray(start, end));
    this.headBytes += end - start;
    return -1;
  }

  /** Starts the body at `pos` (just past the blank line); returns the next position to decode. */
  private startBody(chunk: Buffer, pos: number, end: number): number {
    const length = this.contentLength;
    if (length >= 0) {
      if (length > this.limits.maxBodyBytes) throw bodyTooLarge(this.limits.maxBodyBytes);
      if (pos + length < end) {
        if (chunk[pos + length] !== NUL) throw missingNul();
        this.emit(chunk.subarray(pos, pos + length));
        return pos + length + 1;
      }
      if (pos + length === end) {
        this.body = chunk.subarray(pos, end);
        this.bodyFilled = length;
        this.state = State.FRAME_END;
        return end;
      }
      this.body = Buffer.allocUnsafe(length);
      this.bodyFilled = chunk.copy(this.body, 0, pos, end);
      this.state = State.BODY_LENGTH;
      return end;
    }
    const nul = chunk.indexOf(NUL, pos);
    if (nul >= 0) {
      if (nul - pos > this.limits.maxBodyBytes) throw bodyTooLarge(this.limits.maxBodyBytes);
      this.emit(chunk.subarray(pos, nul));
      return nul + 1;
    }
    if (end - pos > this.limits.maxBodyBytes) throw bodyTooLarge(this.limits.maxBodyBytes);
    this.bodyParts = [chunk.subarray(pos, end)];
    this.bodyBytes = end - pos;
    this.state = State.BODY_NUL;
    return end;
  }

  private emit(body: Buffer): void {
    this.state = State.FRAME_START;
    const frame: StompFrame = { command: this.command, headers: this.headers, body, rawHeaders: this.rawHeaders };
    this.body = EMPTY;
    this.headers = [];
    this.onFrame(frame);
  }
}

const EMPTY = Buffer.alloc(0);

function parseContentLength(value: string): number {
  // Digits only: a sign, a fraction or spaces would make the frame's end ambiguous.
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) {
      n = -1;
      break;
    }
    n = n * 10 + d;
  }
  if (value.length === 0 || value.length > 15 || n < 0) {
    throw new StompFrameError('bad-content-length', `content-length "${value.slice(0, 32)}" is not a byte count`);
  }
  return n;
}

function badCommandLine(buf: Buffer, start: number, end: number): StompFrameError {
  const shown = buf.toString('latin1', start, Math.min(end, start + MAX_COMMAND_LENGTH + 1)).replace(/[^\x20-\x7e]/g, '?');
  return new StompFrameError('unknown-command', `Could not interpret command "${shown}"\n`);
}

function headersTooLarge(max: number): StompFrameError {
  return new StompFrameError('headers-too-large', `frame headers exceed ${max} bytes`);
}

function bodyTooLarge(max: number): StompFrameError {
  return new StompFrameError('body-too-large', `frame body exceeds ${max} bytes`);
}

function missingNul(): StompFrameError {
  return new StompFrameError('missing-nul', 'frame body is not followed by a NUL octet (content-length wrong?)');
}
