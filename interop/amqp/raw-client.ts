import { connect, type Socket } from 'node:net';
import { FrameParser, PROTOCOL_HEADER } from '../../protocols/amqp/codec/frame-parser.js';
import { decodeMethod, writeMethodFrame } from '../../protocols/amqp/codec/method-codec.js';
import { Writer } from '../../protocols/amqp/codec/writer.js';
import type { MethodArgs, MethodName } from '../../protocols/amqp/spec/methods.js';

/**
 * A bare AMQP peer for what no stock client will send: malformed frames, frames on unopened
 * channels, silence past the heartbeat. It does the ordinary handshake, then lets a scenario
 * write raw bytes and observe the broker's connection.close or the socket closing.
 */
export interface RawFrame { type: number; channel: number; method?: string; args?: Record<string, unknown> }

export class RawClient {
  readonly frames: RawFrame[] = [];
  readonly raw: Buffer[] = [];
  closed = false;
  private waiters: (() => void)[] = [];
  private readonly parser: FrameParser;

  private constructor(readonly socket: Socket) {
    this.parser = new FrameParser(
      (type, channel, payload) => {
        const f: RawFrame = { type, channel };
        if (type === 1) {
          try {
            const d = decodeMethod(payload);
            f.method = d.method.name;
            f.args = d.args as unknown as Record<string, unknown>;
          } catch {
            f.method = 'undecodable';
          }
        }
        this.frames.push(f);
        this.wake();
      },
      () => {},
      0,
      false,
    );
    socket.on('data', (chunk: Buffer) => {
      this.raw.push(chunk);
      try {
        this.parser.push(chunk);
      } catch {
        // a non-frame reply (a protocol header) stays in `raw`
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(host: string, port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, host, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `pred` holds (checked on every frame and on close), or rejects after timeoutMs. */
  until<T>(pred: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('raw client: timed out')), timeoutMs);
      const check = () => {
        const v = pred();
        if (v) {
          clearTimeout(timer);
          resolve(v);
        } else this.waiters.push(check);
      };
      check();
    });
  }

  waitMethod(name: string, timeoutMs = 5000): Promise<RawFrame> {
    return this.until(() => this.frames.find((f) => f.method === name && !(f as { seen?: boolean }).seen) ?? (this.closed ? ({ type: -1, channel: -1, method: 'socket-closed' } as RawFrame) : undefined), timeoutMs).then((f) => {
      (f as { seen?: boolean }).seen = true;
      return f;
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send<N extends MethodName>(channel: number, name: N, args: Partial<MethodArgs[N]>): void {
    const w = new Writer(256);
    writeMethodFrame(w, channel, name, args);
    this.socket.write(w.take());
  }

  /** Header, start-ok (PLAIN guest/guest), tune-ok with `heartbeat`, open '/'. */
  async handshake(heartbeat = 0, vhost = '/'): Promise<void> {
    this.write(PROTOCOL_HEADER);
    await this.waitMethod('connection.start');
    this.send(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' });
    const tune = await this.waitMethod('connection.tune');
    this.send(0, 'connection.tune-ok', { channelMax: tune.args!.channelMax as number, frameMax: tune.args!.frameMax as number, heartbeat });
    this.send(0, 'connection.open', { virtualHost: vhost });
    await this.waitMethod('connection.open-ok');
  }

  /** The connection.close the broker sent (code and text), or 'socket-closed'. */
  async closeReason(timeoutMs = 5000): Promise<unknown> {
    const f = await this.waitMethod('connection.close', timeoutMs);
    if (f.method === 'socket-closed') return 'socket-closed';
    return { code: f.args!.replyCode, text: f.args!.replyText, classId: f.args!.classId, methodId: f.args!.methodId };
  }

  end(): void {
    this.socket.destroy();
  }
}
