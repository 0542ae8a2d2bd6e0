import { connect, type Socket } from 'node:net';

/**
 * A bare TCP client that writes bytes as given and splits what comes back at NULs: for
 * malformed frames, pipelining and silence, which stock clients cannot produce. It reads frames
 * with its own tiny splitter (headers as text, body up to NUL or content-length), independent of
 * the parser under test.
 */
export interface RawFrame {
  command: string;
  headers: Record<string, string>;
  body: Buffer;
}

export class RawClient {
  private buffer = Buffer.alloc(0);
  readonly frames: RawFrame[] = [];
  heartbeats = 0;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.split();
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => socket.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
      resolve();
    }));
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(bytes: string | Buffer): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  }

  private split(): void {
    for (;;) {
      let start = 0;
      while (start < this.buffer.length && (this.buffer[start] === 0x0a || this.buffer[start] === 0x0d)) {
        start++;
        this.heartbeats++;
      }
      this.buffer = this.buffer.subarray(start);
      const headEnd = this.buffer.indexOf('\n\n');
      if (headEnd < 0) return;
      const lines = this.buffer.toString('utf8', 0, headEnd).split('\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        const name = line.slice(0, i);
        if (!(name in headers)) headers[name] = line.slice(i + 1);
      }
      const bodyStart = headEnd + 2;
      const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : this.buffer.indexOf(0, bodyStart) - bodyStart;
      if (length < 0 || this.buffer.length < bodyStart + length + 1) return;
      this.frames.push({ command: lines[0]!, headers, body: Buffer.from(this.buffer.subarray(bodyStart, bodyStart + length)) });
      this.buffer = this.buffer.subarray(bodyStart + length + 1);
    }
  }

  /** Resolves with the n-th frame (0-based) once it arrived; rejects if the socket closes first. */
  async frame(n: number): Promise<RawFrame> {
    while (this.frames.length <= n) {
      if (this.socket.destroyed || this.socket.readableEnded) throw new Error(`closed after ${this.frames.length} frames: ${JSON.stringify(this.frames.map((f) => f.command))}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.frames[n]!;
  }

  /** Resolves once `n` heart-beat EOLs arrived. */
  async beats(n: number): Promise<void> {
    while (this.heartbeats < n) {
      if (this.socket.destroyed) throw new Error('closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export const CONNECT_12 = 'CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0';
