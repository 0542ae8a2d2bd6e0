/**
 * The STOMP load generator for `npm run bench -- stomp`, run as its own process so its CPU is
 * measured apart from the broker's. Lean: raw sockets (or raw WebSocket messages), SEND frames
 * encoded once and written many per write, consumers that find `ack:` and `content-length:` in
 * each MESSAGE head, skip the body, and answer with pre-encoded ACK frames, one write per read.
 * `"client":"stompit"` drives the queue workloads with the stock stompit client instead.
 *
 *   node dist/bench/stomp-load.js '{"port":61613,"workload":"queue-client-individual","seconds":5}'
 *   -> {"published":..,"delivered":..,"seconds":..,"cpu":..}
 *
 * Workloads (issue 7), 1 KiB bodies: queue-client-individual and queue-auto = 1 producer → 1
 * consumer on /queue (no prefetch-count: unlimited, RabbitMQ's STOMP default); topic-fanout = 1 producer → 10 /topic
 * subscribers (auto). Publishing is closed-loop: at most WINDOW messages ahead of the slowest
 * consumer, so each broker is measured at a rate it sustains rather than at how much it buffers.
 */
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { openLeanWebSocket } from './lean-websocket.js';

export type Workload = 'queue-client-individual' | 'queue-auto' | 'topic-fanout';
interface Options {
  host?: string;
  port: number;
  /** ws://host:port/ws: run over WebSocket instead of TCP. */
  wsUrl?: string;
  workload: Workload;
  seconds?: number;
  warmupSeconds?: number;
  client?: 'raw' | 'stompit';
  /** Raw client over TLS (bench/tls.ts; the test certificate is not verified). */
  tls?: boolean;
  bodyBytes?: number;
  vhost?: string;
}
interface Result {
  published: number;
  delivered: number;
  seconds: number;
  /** This process's CPU over the measured interval, percent of one core. */
  cpu: number;
}

const WINDOW = Number(process.env.STOMP_BENCH_WINDOW ?? 2000);
const BATCH = 50;
const TOPIC_SUBSCRIBERS = 10;

/** A byte pipe to the broker: a TCP socket, or a WebSocket whose messages carry the bytes. */
interface Pipe {
  write(b: Buffer): boolean;
  /** write() of a buffer sent many times (the SEND batch): a WebSocket frames it once. */
  writeCached(b: Buffer): boolean;
  onData(cb: (chunk: Buffer) => void): void;
  onDrain(cb: () => void): void;
  close(): void;
}

async function openPipe(o: Options): Promise<Pipe> {
  if (o.wsUrl !== undefined) {
    // A lean client (bench/lean-websocket.ts), not `ws`: per message, `ws` costs the generator
    // more CPU than a fast broker spends, which made the WebSocket rows measure the generator.
    const ws = await openLeanWebSocket(o.wsUrl, 'v12.stomp');
    return {
      write: (b) => ws.send(b),
      writeCached: (b) => ws.sendCached(b),
      onData: (cb) => ws.onData(cb),
      onDrain: (cb) => ws.onDrain(cb),
      close: () => ws.close(),
    };
  }
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = o.tls
      ? tlsConnect({ port: o.port, host: o.host ?? '127.0.0.1', rejectUnauthorized: false }, () => resolve(s))
      : connect(o.port, o.host ?? '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  socket.setNoDelay(true);
  return {
    write: (b) => socket.write(b),
    writeCached: (b) => socket.write(b),
    onData: (cb) => socket.on('data', cb),
    onDrain: (cb) => socket.on('drain', cb),
    close: () => socket.destroy(),
  };
}

/**
 * One STOMP connection. Frames are split with indexOf on the head and content-length on the
 * body (bench frames always carry it); MESSAGE frames go to `onMessage` with the `ack` value's
 * byte range, everything else to the waiter of a setup step.
 */
class Conn {
  private buf = Buffer.alloc(0);
  private waiters: Array<{ match: (head: string) => boolean; resolve: () => void }> = [];
  onMessage: ((chunk: Buffer, ackStart: number, ackEnd: number) => void) | null = null;
  /** MESSAGE frames carry `ack:` (client acknowledgement modes) and onMessage needs it. */
  wantAck = false;
  onChunkEnd: (() => void) | null = null;

  private constructor(readonly pipe: Pipe) {
    pipe.onData((chunk) => this.feed(chunk));
  }

  static async open(o: Options): Promise<Conn> {
    const c = new Conn(await openPipe(o));
    const connected = c.expect((h) => h.startsWith('CONNECTED'));
    c.pipe.write(Buffer.from(`CONNECT\naccept-version:1.2\nhost:${o.vhost ?? '/'}\nlogin:guest\npasscode:guest\nheart-beat:0,0\n\n\0`));
    await connected;
    return c;
  }

  expect(match: (head: string) => boolean): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  /** Sends a frame with a receipt and waits for it. */
  async call(frame: string, receipt: string): Promise<void> {
    const got = this.expect((h) => h.startsWith('RECEIPT') && h.includes(`receipt-id:${receipt}\n`));
    this.pipe.write(Buffer.from(frame.replace('\n\n', `\nreceipt:${receipt}\n\n`)));
    await got;
  }

  private feed(chunk: Buffer): void {
    let b = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    for (;;) {
      while (pos < b.length && (b[pos] === 0x0a || b[pos] === 0x0d)) pos++;
      const headEnd = b.indexOf('\n\n', pos);
      if (headEnd < 0) break;
      const cl = b.indexOf('content-length:', pos);
      let bodyLen: number;
      if (cl >= 0 && cl < headEnd) {
        bodyLen = 0;
        for (let i = cl + 15; b[i] !== 0x0a; i++) bodyLen = bodyLen * 10 + (b[i]! - 0x30);
      } else {
        const nul = b.indexOf(0, headEnd);
        if (nul < 0) break;
        bodyLen = nul - headEnd - 2;
      }
      const end = headEnd + 2 + bodyLen + 1;
      if (end > b.length) break;
      if (b[pos] === 0x4d /* M */) {
        // Only consumers that ACK look for `ack:`; searching a head without one would scan
        // the rest of the chunk (every later frame) once per frame.
        const a = this.wantAck ? b.indexOf('\nack:', pos) : -1;
        if (a >= 0 && a < headEnd) {
          const start = a + 5;
          this.onMessage?.(b, start, b.indexOf(0x0a, start));
        } else {
          this.onMessage?.(b, -1, -1);
        }
      } else {
        const head = b.toString('latin1', pos, headEnd + 1);
        if (head.startsWith('ERROR')) throw new Error(`broker sent ${head}${b.toString('latin1', headEnd + 2, end - 1)}`);
        const i = this.waiters.findIndex((w) => w.match(head));
        if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve();
      }
      pos = end;
    }
    this.buf = pos >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(pos));
    this.onChunkEnd?.();
  }
}

function sendFrames(destination: string, bodyBytes: number, count: number): Buffer {
  const body = Buffer.alloc(bodyBytes, 0x61);
  const one = Buffer.concat([Buffer.from(`SEND\ndestination:${destination}\ncontent-length:${bodyBytes}\n\n`), body, Buffer.from([0])]);
  return Buffer.concat(Array.from({ length: count }, () => one));
}

async function runRaw(o: Options): Promise<Result> {
  const bodyBytes = o.bodyBytes ?? 1024;
  const tag = Math.random().toString(36).slice(2, 8);
  const topic = o.workload === 'topic-fanout';
  const destination = topic ? `/topic/bench.${tag}` : `/queue/bench-${tag}`;
  const consumers: Conn[] = [];
  const delivered: number[] = [];
  const n = topic ? TOPIC_SUBSCRIBERS : 1;
  const ackMode = o.workload === 'queue-client-individual' ? 'client-individual' : 'auto';
  let producer: Conn | null = null;
  let published = 0;
  let blocked = false;
  let running = true;
  const batch = sendFrames(destination, bodyBytes, BATCH);
  const minDelivered = (): number => {
    let m = Infinity;
    for (const d of delivered) if (d < m) m = d;
    return m;
  };
  function pump(): void {
    if (!running || blocked || producer === null) return;
    while (published - minDelivered() < WINDOW) {
      published += BATCH;
      if (!producer.pipe.writeCached(batch)) {
        blocked = true;
        return;
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const c = await Conn.open(o);
    delivered.push(0);
    const idx = i;
    if (ackMode === 'client-individual') {
      // ACK frames collected per read and written once: "ACK\nid:<ack>\n\n\0" each.
      let acks: Buffer[] = [];
      c.wantAck = true;
      const prefix = Buffer.from('ACK\nid:');
      const suffix = Buffer.from('\n\n\0');
      c.onMessage = (chunk, s, e) => {
        delivered[idx]!++;
        acks.push(prefix, chunk.subarray(s, e), suffix);
      };
      c.onChunkEnd = () => {
        if (acks.length > 0) {
          c.pipe.write(Buffer.concat(acks));
          acks = [];
        }
        pump();
      };
    } else {
      c.onMessage = () => {
        delivered[idx]!++;
      };
      c.onChunkEnd = () => pump();
    }
    const prefetch = ackMode === "client-individual" && process.env.STOMP_BENCH_PREFETCH !== undefined ? `prefetch-count:${process.env.STOMP_BENCH_PREFETCH}\n` : "";
    await c.call(`SUBSCRIBE\nid:s${i}\ndestination:${destination}\nack:${ackMode}\n${prefetch}\n\0`, `sub${i}`);
    consumers.push(c);
  }
  const p = await Conn.open(o);
  producer = p;
  p.pipe.onDrain(() => {
    blocked = false;
    pump();
  });
  pump();

  const warmupMs = (o.warmupSeconds ?? 1) * 1000;
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const startDelivered = delivered.reduce((a, b) => a + b, 0);
  const startPublished = published;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, (o.seconds ?? 5) * 1000));
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = process.cpuUsage(cpu0);
  const result: Result = {
    published: published - startPublished,
    delivered: delivered.reduce((a, b) => a + b, 0) - startDelivered,
    seconds,
    cpu: ((cpu1.user + cpu1.system) / 1e6 / seconds) * 100,
  };
  running = false;
  for (const c of [p, ...consumers]) c.pipe.close();
  return result;
}

/** The same queue workloads with stompit, the stock Node client (one process, as users run it). */
async function runStompit(o: Options): Promise<Result> {
  const require = createRequire(import.meta.url);
  const stompit = require('stompit') as { connect(opts: unknown, cb: (e: Error | null, c: any) => void): void };
  const connectOne = () =>
    new Promise<any>((resolve, reject) =>
      stompit.connect({ host: o.host ?? '127.0.0.1', port: o.port, connectHeaders: { host: o.vhost ?? '/', login: 'guest', passcode: 'guest', 'heart-beat': '0,0' } }, (e, c) => (e ? reject(e) : resolve(c))),
    );
  const tag = Math.random().toString(36).slice(2, 8);
  const destination = `/queue/bench-${tag}`;
  const ackMode = o.workload === 'queue-client-individual' ? 'client-individual' : 'auto';
  const consumer = await connectOne();
  const producer = await connectOne();
  const body = Buffer.alloc(o.bodyBytes ?? 1024, 0x61);
  let delivered = 0;
  let published = 0;
  let running = true;
  let waiting = false;
  const pump = () => {
    if (!running) return;
    waiting = false;
    while (published - delivered < WINDOW) {
      const w = producer.send({ destination, 'content-length': String(body.length) });
      w.end(body);
      published++;
    }
    waiting = true;
  };
  consumer.subscribe({ destination, ack: ackMode, ...(ackMode === 'auto' ? {} : { 'prefetch-count': '1000' }) }, (err: Error | null, m: any) => {
    if (err) return;
    m.on('data', () => {});
    m.on('end', () => {
      delivered++;
      if (ackMode !== 'auto') consumer.ack(m);
      if (waiting && published - delivered < WINDOW / 2) setImmediate(pump);
    });
  });
  pump();
  await new Promise((resolve) => setTimeout(resolve, (o.warmupSeconds ?? 1) * 1000));
  const d0 = delivered;
  const p0 = published;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, (o.seconds ?? 5) * 1000));
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = process.cpuUsage(cpu0);
  running = false;
  consumer.destroy();
  producer.destroy();
  return { published: published - p0, delivered: delivered - d0, seconds, cpu: ((cpu1.user + cpu1.system) / 1e6 / seconds) * 100 };
}

const options = JSON.parse(process.argv[2] ?? '{}') as Options;
(options.client === 'stompit' ? runStompit(options) : runRaw(options)).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
