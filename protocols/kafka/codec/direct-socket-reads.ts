/**
 * Reads a TCP or TLS socket into memory we choose instead of a fresh Buffer per read.
 *
 * Why: a producer at a few hundred MB/s means thousands of fresh socket Buffers a second. Their
 * memory is external to the V8 heap, and external allocation is what starts V8's major
 * collections ("external memory pressure"): in a kcat produce profile (perf, every thread of the
 * broker) concurrent marking and sweeping of those collections cost 1.4 ms of CPU per MB, ~30 %
 * of the broker's CPU, more than the CRC and every user-space copy together. Over TLS it is
 * worse: Node hands each decrypted TLS record (at most 16 KiB) to JS as a fresh Buffer through
 * the stream machinery, which the FrameSplitter then copies again (V8 profile of kcat over SSL:
 * garbage collection 1.08 ms/MB against 0.18 plain, the 'data' path and the copy 0.8 ms/MB).
 *
 * How: Node's own `onread` socket option (net.Socket: a buffer, a callback per read, and a
 * function naming the next read's buffer), which Node offers only for sockets it creates, not for
 * accepted ones. It is applied here to an accepted socket the way the Socket constructor does it:
 * the same three per-socket fields, then `useUserBuffer` on the socket's handle: the TCP handle,
 * or for a TLS socket the TLS handle (a stream like the TCP one), which then copies each
 * decrypted record into our buffer and calls back, in a loop, as many times as the records it
 * decrypted from one TCP read. Reads go into one staging buffer shared by every connection (each
 * read is consumed before the next one can happen), or, for the rest of a large request,
 * straight into the request's own buffer (FrameAssembler.directTarget). When the fields are not
 * there (another Node version) or the stream is not a socket (WebSocket), the caller keeps
 * reading 'data' events; so it does when the socket has already buffered bytes (a TLS socket
 * that decrypted some before it was handed over): they would come as 'data' events while Node
 * reads the next bytes into a buffer named before them.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FrameAssembler } from './frame-assembler.js';

const STAGING_BYTES = 64 * 1024;
let staging: Buffer | null = null;

interface OnreadFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

function onreadFields(socket: Socket): OnreadFields | null {
  const byName = new Map(Object.getOwnPropertySymbols(socket).map((s) => [s.description, s]));
  const buffer = byName.get('kBuffer');
  const callback = byName.get('kBufferCb');
  const generator = byName.get('kBufferGen');
  if (!buffer || !callback || !generator) return null;
  const fields = socket as unknown as Record<symbol, unknown>;
  // Already reading into a user buffer: leave it alone.
  if (fields[buffer] !== null || fields[callback] !== null) return null;
  return { buffer, callback, generator };
}

/**
 * Switches `stream` to direct reads: `onFrames` gets each read's completed frames, `onError` a
 * framing error or whatever `onFrames` threw (after which reading stops). False when `stream`
 * cannot be read this way.
 */
export function readFramesDirectly(stream: Duplex, assembler: FrameAssembler, onFrames: (frames: Buffer[]) => void, onError: (err: unknown) => void): boolean {
  // (A TLSSocket is a Socket whose handle is the TLS stream over the TCP one.)
  if (!(stream instanceof Socket)) return false;
  const handle = (stream as unknown as { _handle?: { useUserBuffer?: (buf: Buffer) => void } | null })._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function') return false;
  if (stream.readableLength > 0) return false;
  const f = onreadFields(stream);
  if (f === null) return false;
  const shared = (staging ??= Buffer.allocUnsafeSlow(STAGING_BYTES));
  const fields = stream as unknown as Record<symbol, unknown>;
  let failed = false;
  fields[f.buffer] = shared;
  // Called by Node with the buffer the read went into (the last one the generator returned).
  fields[f.callback] = (nread: number, buf: Buffer): boolean => {
    if (failed) return false;
    try {
      const frames = buf === shared ? assembler.push(shared.subarray(0, nread)) : assembler.directFilled(nread);
      if (frames.length > 0) onFrames(frames);
      return true;
    } catch (err) {
      // Nothing may escape: Node would not learn the next read's buffer (see the generator).
      failed = true;
      onError(err);
      return false;
    }
  };
  fields[f.generator] = (): Buffer => assembler.directTarget() ?? shared;
  handle.useUserBuffer(shared);
  return true;
}
