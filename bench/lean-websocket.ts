import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A minimal RFC 6455 client for load generation: the upgrade by hand on a raw socket, then
 * frames built and parsed without a library, so a generator spends its CPU on the workload
 * rather than on a general-purpose WebSocket client (`ws` costs more per message than a fast
 * broker does, which made the generator the bottleneck of the WebSocket rows).
 *
 * Client frames must be masked; this client uses the all-zero masking key, which makes
 * masking the identity, so a payload encoded once is sent as it is (the key's randomness
 * protects intermediaries from cache poisoning; a load generator on loopback has none, and
 * servers cannot tell). Server frames are unmasked; their payloads are handed on as a byte
 * stream (message boundaries are not needed by a STOMP reader), one callback per socket read.
 */
export interface LeanWebSocket {
  /** Sends `payload` as one text message; false when the socket wants a 'drain'. */
  send(payload: Buffer): boolean;
  /** Like send, for a payload sent many times: its frame header is built once. */
  sendCached(payload: Buffer): boolean;
  onData(cb: (bytes: Buffer) => void): void;
  onDrain(cb: () => void): void;
  close(): void;
}

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

/** The header of a masked client frame (FIN, opcode, length, zero masking key). */
function frameHeader(opcode: number, length: number): Buffer {
  if (length < 126) return Buffer.from([0x80 | opcode, 0x80 | length, 0, 0, 0, 0]);
  if (length < 65536) return Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff, 0, 0, 0, 0]);
  const h = Buffer.alloc(14);
  h[0] = 0x80 | opcode;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(length), 2);
  return h;
}

export async function openLeanWebSocket(url: string, protocol: string): Promise<LeanWebSocket> {
  const u = new URL(url);
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(Number(u.port || 80), u.hostname, () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  // The response head, then whatever frames came in the same read.
  const rest: Buffer = await new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const status = head.toString('latin1', 0, head.indexOf('\r\n'));
      if (!/^HTTP\/1\.1 101 /.test(status)) reject(new Error(`WebSocket upgrade refused: ${status}`));
      else resolve(head.subarray(end + 4));
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });

  let dataCb: (bytes: Buffer) => void = () => {};
  // Reader state: bytes of an unfinished frame header, and payload bytes still to come.
  let headerBytes = Buffer.alloc(0);
  let payloadLeft = 0;
  let payloadOpcode = OP_TEXT;
  let control: Buffer[] = [];
  const headers = new WeakMap<Buffer, Buffer>();

  const sendControl = (opcode: number, payload: Buffer) => {
    socket.write(Buffer.concat([frameHeader(opcode, payload.length), payload]));
  };

  const feed = (chunk: Buffer) => {
    let b = headerBytes.length > 0 ? Buffer.concat([headerBytes, chunk]) : chunk;
    headerBytes = Buffer.alloc(0);
    let pos = 0;
    const out: Buffer[] = [];
    while (pos < b.length) {
      if (payloadLeft > 0) {
        const n = Math.min(payloadLeft, b.length - pos);
        const piece = b.subarray(pos, pos + n);
        if (payloadOpcode === OP_TEXT || payloadOpcode === OP_BINARY) out.push(piece);
        else control.push(piece);
        payloadLeft -= n;
        pos += n;
        if (payloadLeft === 0 && payloadOpcode >= OP_CLOSE) handleControl();
        continue;
      }
      if (b.length - pos < 2) break;
      const len7 = b[pos + 1]! & 0x7f;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
      if (b.length - pos < need) break;
      const opcode = b[pos]! & 0x0f;
      const length = len7 === 126 ? b.readUInt16BE(pos + 2) : len7 === 127 ? Number(b.readBigUInt64BE(pos + 2)) : len7;
      pos += need;
      // A continuation carries on the data message it belongs to.
      if (opcode !== OP_CONTINUATION) payloadOpcode = opcode;
      payloadLeft = length;
      if (length === 0 && opcode >= OP_CLOSE) handleControl();
    }
    if (pos < b.length) headerBytes = Buffer.from(b.subarray(pos));
    if (out.length === 1) dataCb(out[0]!);
    else if (out.length > 1) dataCb(Buffer.concat(out));
  };

  const handleControl = () => {
    const payload = Buffer.concat(control);
    control = [];
    if (payloadOpcode === OP_PING) sendControl(0xa, payload);
    else if (payloadOpcode === OP_CLOSE) socket.end();
    payloadOpcode = OP_TEXT;
  };

  socket.on('data', feed);
  return {
    send(payload) {
      socket.cork();
      socket.write(frameHeader(OP_TEXT, payload.length));
      const ok = socket.write(payload);
      socket.uncork();
      return ok;
    },
    sendCached(payload) {
      let framed = headers.get(payload);
      if (framed === undefined) headers.set(payload, (framed = Buffer.concat([frameHeader(OP_TEXT, payload.length), payload])));
      return socket.write(framed);
    },
    onData(cb) {
      dataCb = cb;
      if (rest.length > 0) feed(rest);
    },
    onDrain(cb) {
      socket.on('drain', cb);
    },
    close() {
      socket.destroy();
    },
  };
}
