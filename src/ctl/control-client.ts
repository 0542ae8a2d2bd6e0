import { connect, type Socket } from 'node:net';
import type { ApiCall, ControlReply } from './control-protocol.js';

/** The broker is not running (no socket, or nobody listening on it). */
export class BrokerNotRunningError extends Error {}

/** A failed request, with the broker's reason. */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** One connection to the control socket; requests are answered in order. */
export class ControlClient {
  private buffer = '';
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; progress?: (done: number, total: number) => void }>();

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new ControlError('the broker closed the control connection'));
      this.waiting.clear();
    });
  }

  static connect(path: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        socket.on('error', () => {});
        resolve(new ControlClient(socket));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new BrokerNotRunningError(`no broker is running with this data dir (no control socket at ${path})`));
        else if (err.code === 'EACCES') reject(new BrokerNotRunningError(`permission denied on ${path}: run ctl as the user that runs the broker`));
        else reject(err);
      });
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const reply = JSON.parse(this.buffer.slice(0, nl)) as ControlReply;
      this.buffer = this.buffer.slice(nl + 1);
      const w = this.waiting.get(reply.id);
      if (!w) continue;
      if ('progress' in reply) {
        w.progress?.(reply.progress.done, reply.progress.total);
        continue;
      }
      this.waiting.delete(reply.id);
      if (reply.ok) w.resolve(reply.result);
      else w.reject(new ControlError(reply.error, reply.status));
    }
  }

  private request(msg: Record<string, unknown>, progress?: (done: number, total: number) => void): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, progress });
      this.socket.write(JSON.stringify({ ...msg, id }) + '\n');
    });
  }

  /** One API call; `progress` hears a long operation's progress (definitions import). */
  api(method: ApiCall['method'], path: string, body?: unknown, progress?: (done: number, total: number) => void): Promise<unknown> {
    return this.request({ op: 'api', method, path, body }, progress);
  }

  batch(requests: ApiCall[], progress?: (done: number, total: number) => void): Promise<unknown[]> {
    return this.request({ op: 'batch', requests }, progress) as Promise<unknown[]>;
  }

  status(): Promise<Record<string, unknown>> {
    return this.request({ op: 'status' }) as Promise<Record<string, unknown>>;
  }

  reload(): Promise<{ ok: boolean; changes: string[] }> {
    return this.request({ op: 'reload' }) as Promise<{ ok: boolean; changes: string[] }>;
  }

  close(): void {
    this.socket.end();
  }
}
