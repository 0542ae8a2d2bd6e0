import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { ManagementContext } from '../management/context.js';
import { HttpError, toJson } from '../management/http-io.js';
import { runRoute } from '../management/management-http.js';
import type { Principal } from '../management/principal.js';
import { controlSocketPath, MAX_REQUEST_BYTES, type ControlReply, type ControlRequest } from './control-protocol.js';

/** Whoever can open the socket owns the data dir: they act as an administrator. */
const LOCAL_ADMIN: Principal = { name: 'ctl', tags: ['administrator'], mayAccessVhost: () => true };

/**
 * `polybroker ctl`'s server: a Unix socket in `<dataDir>/ctl/` (directory 0700, socket 0600)
 * answering the management API's routes plus status and reload.
 */
export class ControlServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  readonly path: string;

  constructor(
    private readonly ctx: ManagementContext,
    private readonly log: Logger,
    private readonly status: () => Record<string, unknown>,
  ) {
    this.path = controlSocketPath(ctx.dataDir);
    this.server = createServer((s) => this.accept(s));
  }

  async listen(): Promise<void> {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    // A socket file left by a killed broker: the data-dir lock says no broker runs here.
    rmSync(this.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    chmodSync(this.path, 0o600);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setEncoding('utf8');
    let buffer = '';
    let chain = Promise.resolve();
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) {
        socket.destroy();
        return;
      }
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        // One request at a time per connection, in order.
        chain = chain.then(() => this.handleLine(socket, line));
      }
    });
  }

  private send(socket: Socket, reply: ControlReply): void {
    if (!socket.destroyed) socket.write(toJson(reply) + '\n');
  }

  private async handleLine(socket: Socket, line: string): Promise<void> {
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
    } catch {
      this.send(socket, { id: 0, ok: false, error: 'request is not JSON' });
      return;
    }
    const id = typeof req.id === 'number' ? req.id : 0;
    try {
      switch (req.op) {
        case 'status':
          this.send(socket, { id, ok: true, result: this.status() });
          return;
        case 'reload': {
          const report = await this.ctx.reload();
          this.send(socket, report.ok ? { id, ok: true, result: report } : { id, ok: false, error: report.error ?? 'reload failed', status: 400 });
          return;
        }
        case 'api': {
          const progress = (done: number, total: number) => this.send(socket, { id, progress: { done, total } });
          const out = await runRoute(this.ctx, LOCAL_ADMIN, req.method, req.path, null, req.body ?? {}, progress);
          if (out.status >= 400) this.send(socket, { id, ok: false, status: out.status, error: errorText(out.body) });
          else this.send(socket, { id, ok: true, status: out.status, result: out.body ?? null });
          return;
        }
        case 'batch': {
          const results: unknown[] = [];
          const total = req.requests.length;
          for (let i = 0; i < total; i++) {
            const call = req.requests[i]!;
            const out = await runRoute(this.ctx, LOCAL_ADMIN, call.method, call.path, null, call.body ?? {});
            results.push(out.body ?? null);
            this.send(socket, { id, progress: { done: i + 1, total } });
          }
          this.send(socket, { id, ok: true, result: results });
          return;
        }
        default:
          this.send(socket, { id, ok: false, error: `unknown op '${(req as { op: string }).op}'` });
      }
    } catch (err) {
      if (err instanceof HttpError) this.send(socket, { id, ok: false, status: err.status, error: err.message });
      else {
        this.log.error({ err }, 'control request failed');
        this.send(socket, { id, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

function errorText(body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as { reason?: unknown; error?: unknown };
    return String(b.reason ?? b.error ?? JSON.stringify(body));
  }
  return String(body);
}
