/**
 * A lean MQTT load generator, run as its own process by bench/mqtt.ts so its CPU is measured
 * apart from the broker's (../shared/peers/README.md: a stock Node client saturates a core
 * first). Raw sockets, frames encoded once with only the packet id patched, acks batched per
 * read, writes batched per tick. It prints one JSON line with its results.
 *
 *   node dist/bench/mqtt-load.js '{"mode":"pubsub","port":1883,...}'
 */
import net from 'node:net';
import tls from 'node:tls';

export interface PubSubSpec {
  mode: 'pubsub';
  host: string;
  port: number;
  qos: 0 | 1;
  publishers: number;
  subscribers: number;
  /** Messages per publisher. */
  messages: number;
  payloadBytes: number;
  /** Subscribers keep a persistent session (clean session 0). */
  persistent: boolean;
  /** QoS 1 PUBLISHes in flight per publisher. */
  window: number;
  topic: string;
  /** Connect with TLS (bench/tls.ts; the certificate is not verified). */
  tls?: boolean;
  /** Print `phase measuring` / `phase measured` lines before the JSON result (bench/mqtt.ts). */
  phases?: boolean;
}

export interface IdleSpec {
  mode: 'idle';
  host: string;
  port: number;
  connections: number;
  /** Hold the connections open until stdin closes. */
}

export interface PubSubResult {
  delivered: number;
  expected: number;
  seconds: number;
  deliveriesPerSecond: number;
  publishedPerSecond: number;
  genCpuPercent: number;
}

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function connectFrame(clientId: string, clean: boolean): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, clean ? 0x02 : 0x00, 0x02, 0x58]), str(clientId)]);
  return Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body]);
}

function subscribeFrame(topic: string, qos: number): Buffer {
  const body = Buffer.concat([Buffer.from([0, 1]), str(topic), Buffer.from([qos])]);
  return Buffer.concat([Buffer.from([0x82, ...varint(body.length)]), body]);
}

/** PUBLISH with the packet id at a known offset, so only those two bytes change per message. */
function publishTemplate(topic: string, qos: number, payload: Buffer): { frame: Buffer; idOffset: number } {
  const t = str(topic);
  const remaining = t.length + (qos > 0 ? 2 : 0) + payload.length;
  const head = Buffer.from([0x30 | (qos << 1), ...varint(remaining)]);
  const frame = Buffer.concat([head, t, qos > 0 ? Buffer.from([0, 1]) : Buffer.alloc(0), payload]);
  return { frame, idOffset: head.length + t.length };
}

const EMPTY = Buffer.alloc(0);

/** Walks complete frames in a buffer; returns the unconsumed tail. */
function frames(buf: Buffer, onFrame: (type: number, body: Buffer, start: number) => void): Buffer {
  let pos = 0;
  while (pos + 2 <= buf.length) {
    let len = 0;
    let mul = 1;
    let i = pos + 1;
    let complete = false;
    while (i < buf.length) {
      const b = buf[i++]!;
      len += (b & 0x7f) * mul;
      mul *= 128;
      if ((b & 0x80) === 0) {
        complete = true;
        break;
      }
    }
    if (!complete || i + len > buf.length) break;
    onFrame(buf[pos]! >> 4, buf.subarray(i, i + len), pos);
    pos = i + len;
  }
  return pos === buf.length ? EMPTY : buf.subarray(pos);
}

interface RawConn {
  socket: net.Socket;
  onFrame: (type: number, body: Buffer) => void;
}

function open(host: string, port: number, onFrame: (type: number, body: Buffer) => void, secure = false): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = secure ? tls.connect({ host, port, rejectUnauthorized: false }, () => resolve(conn)).setNoDelay(true) : net.connect({ host, port, noDelay: true }, () => resolve(conn));
    const conn: RawConn = { socket, onFrame };
    let tail: Buffer = EMPTY;
    socket.on('data', (chunk: Buffer) => {
      const buf = tail.length ? Buffer.concat([tail, chunk]) : chunk;
      const rest = frames(buf, (type, body) => conn.onFrame(type, body));
      // Copy a partial frame only (it must not pin the whole chunk); nothing left costs nothing.
      tail = rest.length ? Buffer.from(rest) : rest;
    });
    socket.once('error', reject);
  });
}

async function handshake(c: RawConn, frame: Buffer, expectType: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const prev = c.onFrame;
    c.onFrame = (type, body) => {
      if (type === expectType) {
        c.onFrame = prev;
        if (type === 2 && body[1] !== 0) reject(new Error(`CONNACK ${body[1]}`));
        else resolve();
      } else prev(type, body);
    };
    c.socket.write(frame);
  });
}

export async function runPubSub(spec: PubSubSpec): Promise<PubSubResult> {
  const expected = spec.publishers * spec.messages * spec.subscribers;
  let delivered = 0;
  let lastDelivery = 0;
  let done!: () => void;
  const allDelivered = new Promise<void>((r) => { done = r; });
  const run = Date.now().toString(36);
  const subs: RawConn[] = [];
  for (let s = 0; s < spec.subscribers; s++) {
    const c = await open(spec.host, spec.port, () => undefined, spec.tls);
    await handshake(c, connectFrame(`bsub-${run}-${s}`, !spec.persistent), 2);
    c.onFrame = () => undefined;
    const acks: Buffer[] = [];
    c.onFrame = (type, body) => {
      if (type !== 3) return;
      delivered++;
      if (spec.qos > 0) {
        const topicLen = body.readUInt16BE(0);
        acks.push(Buffer.from([0x40, 0x02, body[2 + topicLen]!, body[3 + topicLen]!]));
      }
      if (delivered === expected) {
        lastDelivery = performance.now();
        done();
      }
    };
    // PUBACKs go out once per event-loop turn, not once per read: a broker that writes every
    // packet on its own (Mosquitto) makes many small reads, and a write per read would make the
    // generator, not the broker, the bottleneck.
    let ackFlushQueued = false;
    const flushAcks = () => {
      ackFlushQueued = false;
      if (acks.length) c.socket.write(acks.length === 1 ? acks[0]! : Buffer.concat(acks));
      acks.length = 0;
    };
    c.socket.on('data', () => {
      if (acks.length && !ackFlushQueued) {
        ackFlushQueued = true;
        setImmediate(flushAcks);
      }
    });
    await handshake(c, subscribeFrame(spec.topic, spec.qos), 9);
    subs.push(c);
  }
  const template = publishTemplate(spec.topic, spec.qos, Buffer.alloc(spec.payloadBytes, 0x61));
  const pubs: RawConn[] = [];
  for (let p = 0; p < spec.publishers; p++) {
    const c = await open(spec.host, spec.port, () => undefined, spec.tls);
    await handshake(c, connectFrame(`bpub-${run}-${p}`, true), 2);
    pubs.push(c);
  }
  // Phase lines let bench/mqtt.ts meter the broker's CPU over the measured part only (not
  // over this process's start and the connects, when a short row leaves the broker idle).
  if (spec.phases) process.stdout.write('phase measuring\n');
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let publishedAll = 0;
  // A broker that stalls or drops a publisher must not hang the bench: 60 s at most for publishing.
  const deadline = new Promise<void>((r) => setTimeout(r, 60_000).unref());
  await Promise.race([Promise.all(pubs.map((c) => publishLoop(c, spec, template))), deadline]);
  publishedAll = performance.now();
  const timeout = setTimeout(() => done(), 30_000);
  await allDelivered;
  clearTimeout(timeout);
  const end = lastDelivery || performance.now();
  const cpu = process.cpuUsage(cpuStart);
  if (spec.phases) process.stdout.write('phase measured\n');
  const seconds = (end - start) / 1000;
  for (const c of [...subs, ...pubs]) c.socket.destroy();
  return {
    delivered,
    expected,
    seconds,
    deliveriesPerSecond: delivered / seconds,
    publishedPerSecond: (spec.publishers * spec.messages) / ((publishedAll - start) / 1000),
    genCpuPercent: ((cpu.user + cpu.system) / 1000 / (end - start)) * 100,
  };
}

/** Sends `messages` PUBLISHes: QoS 0 in batches bounded by socket backpressure, QoS 1 within a window of unacked ids. */
function publishLoop(c: RawConn, spec: PubSubSpec, template: { frame: Buffer; idOffset: number }): Promise<void> {
  return new Promise((resolve) => {
    let sent = 0;
    let acked = 0;
    const batch = 64;
    const frameLen = template.frame.length;
    const send = () => {
      while (sent < spec.messages) {
        const limit = spec.qos === 0 ? batch : Math.min(batch, spec.window - (sent - acked));
        if (limit <= 0) return;
        const n = Math.min(limit, spec.messages - sent);
        const buf = Buffer.allocUnsafe(frameLen * n);
        for (let i = 0; i < n; i++) {
          template.frame.copy(buf, i * frameLen);
          if (spec.qos > 0) buf.writeUInt16BE(((sent + i) % 65535) + 1, i * frameLen + template.idOffset);
        }
        sent += n;
        if (!c.socket.write(buf)) {
          c.socket.once('drain', send);
          return;
        }
        if (spec.qos === 0 && sent % (batch * 16) === 0) {
          setImmediate(send);
          return;
        }
      }
      if (spec.qos === 0) resolve();
    };
    c.socket.once('close', () => resolve());
    if (spec.qos > 0) {
      c.onFrame = (type) => {
        if (type !== 4) return;
        acked++;
        if (acked === spec.messages) resolve();
        else if (sent - acked < spec.window / 2) send();
      };
    }
    send();
  });
}

/**
 * Opens idle connections in two halves and holds them until stdin ends. After each half it
 * prints `{"connected":n}` and waits for a line on stdin, so the bench can read the broker's
 * memory between the halves: the second half's growth is the marginal cost per connection,
 * free of start-up allocations and garbage.
 */
export async function runIdle(spec: IdleSpec): Promise<void> {
  const conns: RawConn[] = [];
  const run = Date.now().toString(36);
  const parallel = 200;
  const lines: string[] = [];
  let waiting: (() => void) | null = null;
  let ended = false;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    lines.push(...d.split('\n').filter(Boolean));
    waiting?.();
  });
  process.stdin.on('end', () => {
    ended = true;
    waiting?.();
  });
  const nextLine = async () => {
    while (lines.length === 0 && !ended) await new Promise<void>((r) => { waiting = r; });
    waiting = null;
    lines.shift();
  };
  const half = Math.floor(spec.connections / 2);
  for (const target of [half, spec.connections]) {
    for (let i = conns.length; i < target; i += parallel) {
      const batch = [];
      for (let j = i; j < Math.min(target, i + parallel); j++) {
        batch.push((async () => {
          const c = await open(spec.host, spec.port, () => undefined);
          await handshake(c, connectFrame(`idle-${run}-${j}`, true), 2);
          conns.push(c);
        })());
      }
      await Promise.all(batch);
    }
    process.stdout.write(JSON.stringify({ connected: conns.length }) + '\n');
    await nextLine();
  }
  for (const c of conns) c.socket.destroy();
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as PubSubSpec | IdleSpec;
  if (spec.mode === 'idle') {
    await runIdle(spec);
    process.exit(0);
  } else {
    const r = await runPubSub(spec);
    // Exit only once the line is out: a pipe write is asynchronous.
    process.stdout.write(JSON.stringify(r) + '\n', () => process.exit(0));
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  main().catch((e) => {
    process.stderr.write(String((e as Error).stack ?? e) + '\n');
    process.exit(1);
  });
}
