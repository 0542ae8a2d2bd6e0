import { isUtf8 } from 'node:buffer';
import { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';

/**
 * A WebSocket as the byte stream adapters expect. Each write becomes one WebSocket message:
 * binary for MQTT ([MQTT-6.0.0-1]), and for STOMP text when the bytes are valid UTF-8
 * (what STOMP-over-WebSocket clients expect, as RabbitMQ's web-stomp sends) else binary.
 * Reading pauses the socket while the adapter does not read (backpressure).
 */
export function websocketDuplex(ws: WebSocket, frames: 'binary' | 'text-if-utf8'): Duplex {
  let resumeOnRead = false;
  const stream = new Duplex({
    allowHalfOpen: false,
    read() {
      if (resumeOnRead) {
        resumeOnRead = false;
        ws.resume();
      }
    },
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState !== ws.OPEN) {
        callback(new Error('WebSocket is not open'));
        return;
      }
      const binary = frames === 'binary' || !isUtf8(chunk);
      ws.send(chunk, { binary }, callback);
    },
    final(callback) {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1000);
      callback();
    },
    destroy(err, callback) {
      if (ws.readyState !== ws.CLOSED) ws.terminate();
      callback(err);
    },
  });
  ws.on('message', (data: RawData) => {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (!stream.push(chunk)) {
      resumeOnRead = true;
      ws.pause();
    }
  });
  // The peer closed: what it sent before closing is still read (a last DISCONNECT), then the
  // stream ends, and with allowHalfOpen false the writable side ends and the stream closes.
  ws.once('close', () => stream.push(null));
  ws.on('error', (err) => stream.destroy(err));
  return stream;
}
