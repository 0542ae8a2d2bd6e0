/**
 * The AMQP load generator for `npm run bench -- amqp`, run as its own process so its CPU is
 * measured apart from the broker's. Lean: raw sockets, publish frames encoded once (method +
 * header + 1 KiB body) and written in batches per tick, consumers that count deliveries from
 * the frame headers and ack with `multiple` once per read. `--client amqplib` drives the same
 * workload with the stock amqplib client instead.
 *
 *   node dist/bench/amqp-load.js '{"port":5672,"workload":"confirms","seconds":5}'
 *   -> {"published":..,"delivered":..,"seconds":..}
 *
 * Workloads (issue 5): confirms = persistent + publisher confirms (<= 1,000 unconfirmed), durable
 * queue, manual acks, prefetch 1,000; transient = no confirms, auto-ack; fanout = fanout exchange
 * to 10 queues with 10 consumers (auto-ack). Publishing is closed-loop (a bounded number of
 * messages ahead of the consumers) so both brokers are measured at a rate they sustain.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { writeBodyFrames, writeHeaderFrame } from '../protocols/amqp/codec/content-header.js';
import { FrameParser, PROTOCOL_HEADER } from '../protocols/amqp/codec/frame-parser.js';
import { decodeMethod, writeMethodFrame } from '../protocols/amqp/codec/method-codec.js';
import { Writer } from '../protocols/amqp/codec/writer.js';
import type { MethodArgs, MethodName } from '../protocols/amqp/spec/methods.js';
import { MethodId } from '../protocols/amqp/spec/methods.js';

export type Workload = 'confirms' | 'transient' | 'fanout';
interface Options { host?: string; port: number; workload: Workload; seconds?: number; warmupSeconds?: number; client?: 'raw' | 'amqplib'; bodyBytes?: number; /** messages the publisher may run ahead of the consumers (b, c) */ ahead?: number; /** connect with TLS (bench/tls.ts; the certificate is not verified) */ tls?: boolean }
interface Result { published: number; delivered: number; seconds: number }

const FANOUT_QUEUES = 10;

/** One raw AMQP connection: handshake, request/reply for setup, then a hot frame callback. */
class RawConnection {
  private readonly parser: FrameParser;
  private waiting: { name: string; resolve: (args: Record<string, unknown>) => void } | null = null;
  onHot: ((type: number, channel: number, payload: Buffer) => void) | null = null;
  onChunkEnd: (() => void) | null = null;

  private constructor(readonly socket: Socket) {
    this.parser = new FrameParser((type, channel, payload) => this.onFrame(type, channel, payload), () => {}, 0, false);
    socket.on('data', (chunk: Buffer) => {
      this.parser.push(chunk);
      this.onChunkEnd?.();
    });
    socket.setNoDelay(true);
  }

  static async open(host: string, port: number, tls = false): Promise<RawConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket = tls ? tlsConnect({ host, port, rejectUnauthorized: false }, () => resolve(s)) : connect(port, host, () => resolve(s));
      s.once('error', reject);
    });
    const c = new RawConnection(socket);
    const start = c.expect('connection.start');
    socket.write(PROTOCOL_HEADER);
    await start;
    const tune = c.expect('connection.tune');
    c.send(0, 'connection.start-ok', { clientProperties: new Map(), mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' });
    const t = await tune;
    c.send(0, 'connection.tune-ok', { channelMax: t.channelMax as number, frameMax: t.frameMax as number, heartbeat: 0 });
    await c.rpc(0, 'connection.open', { virtualHost: '/' }, 'connection.open-ok');
    return c;
  }

  private onFrame(type: number, channel: number, payload: Buffer): void {
    if (this.onHot && !this.waiting) return this.onHot(type, channel, payload);
    if (type !== 1) return this.onHot?.(type, channel, payload);
    const id = payload.readUInt32BE(0);
    if (this.waiting && (id === MethodId.connectionClose || id === MethodId.channelClose)) {
      const d = decodeMethod(payload);
      throw new Error(`broker closed: ${JSON.stringify((d.args as { replyText: string }).replyText)}`);
    }
    if (this.waiting) {
      const d = decodeMethod(payload);
      if (d.method.name === this.waiting.name) {
        const w = this.waiting;
        this.waiting = null;
        w.resolve(d.args as unknown as Record<string, unknown>);
        return;
      }
    }
    this.onHot?.(type, channel, payload);
  }

  expect(name: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => (this.waiting = { name, resolve }));
  }

  send<N extends MethodName>(channel: number, name: N, args: Partial<MethodArgs[N]>): void {
    const w = new Writer(512);
    writeMethodFrame(w, channel, name, args);
    this.socket.write(w.take());
  }

  rpc<N extends MethodName>(channel: number, name: N, args: Partial<MethodArgs[N]>, reply: string): Promise<Record<string, unknown>> {
    const p = this.expect(reply);
    this.send(channel, name, args);
    return p;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** `count` publishes (method + header + body frames) encoded once, back to back. */
function publishBlock(channel: number, exchange: string, routingKey: string, body: Buffer, persistent: boolean, count: number): Buffer {
  const w = new Writer(count * (body.length + 200));
  // flags: delivery-mode only (bit 12), value 2 or 1
  const props = Buffer.from([0x10, 0x00, persistent ? 2 : 1]);
  for (let i = 0; i < count; i++) {
    writeMethodFrame(w, channel, 'basic.publish', { exchange, routingKey });
    writeHeaderFrame(w, channel, 60, body.length, props);
    writeBodyFrames(w, channel, body, 131072);
  }
  return w.take();
}

function ackFrame(channel: number, tag: number): Buffer {
  const w = new Writer(32);
  writeMethodFrame(w, channel, 'basic.ack', { deliveryTag: tag, multiple: true });
  return w.take();
}

async function runRaw(o: Required<Options>): Promise<Result> {
  const run = Math.random().toString(36).slice(2, 8);
  const pub = await RawConnection.open(o.host, o.port, o.tls);
  await pub.rpc(1, 'channel.open', {}, 'channel.open-ok');
  const queues: string[] = [];
  let exchange = '';
  let routingKey = '';
  const durable = o.workload === 'confirms';
  if (o.workload === 'fanout') {
    exchange = `bench-fanout-${run}`;
    await pub.rpc(1, 'exchange.declare', { exchange, type: 'fanout', autoDelete: false, durable: false }, 'exchange.declare-ok');
    for (let i = 0; i < FANOUT_QUEUES; i++) {
      const q = `bench-fan-${run}-${i}`;
      await pub.rpc(1, 'queue.declare', { queue: q, durable: false, autoDelete: false }, 'queue.declare-ok');
      await pub.rpc(1, 'queue.bind', { queue: q, exchange, routingKey: '' }, 'queue.bind-ok');
      queues.push(q);
    }
  } else {
    const q = `bench-${o.workload}-${run}`;
    await pub.rpc(1, 'queue.declare', { queue: q, durable, autoDelete: false }, 'queue.declare-ok');
    queues.push(q);
    routingKey = q;
  }
  if (o.workload === 'confirms') await pub.rpc(1, 'confirm.select', {}, 'confirm.select-ok');

  // consumers: one connection each (as RabbitMQ PerfTest does), so a broker can spread them
  const noAck = o.workload !== 'confirms';
  let delivered = 0;
  const subs: RawConnection[] = [];
  for (const q of queues) {
    const sub = await RawConnection.open(o.host, o.port, o.tls);
    subs.push(sub);
    await sub.rpc(1, 'channel.open', {}, 'channel.open-ok');
    if (!noAck) await sub.rpc(1, 'basic.qos', { prefetchCount: 1000 }, 'basic.qos-ok');
    await sub.rpc(1, 'basic.consume', { queue: q, noAck }, 'basic.consume-ok');
    let lastTag = 0;
    let ackedTag = 0;
    sub.onHot = (type, _channel, payload) => {
      if (type !== 1 || payload.readUInt32BE(0) !== MethodId.basicDeliver) return;
      delivered++;
      if (!noAck) {
        // delivery-tag follows the consumer-tag shortstr
        const off = 5 + payload[4]!;
        lastTag = payload.readUInt32BE(off) * 0x1_0000_0000 + payload.readUInt32BE(off + 4);
      }
    };
    sub.onChunkEnd = () => {
      if (!noAck && lastTag > ackedTag) {
        ackedTag = lastTag;
        sub.socket.write(ackFrame(1, lastTag));
      }
      schedule();
    };
  }

  // publisher
  const body = Buffer.alloc(o.bodyBytes, 0x61);
  const BLOCK = 64;
  const block = publishBlock(1, exchange, routingKey, body, durable, BLOCK);
  const unitBytes = block.length / BLOCK;
  let published = 0;
  let confirmed = 0;
  const fan = o.workload === 'fanout' ? FANOUT_QUEUES : 1;
  // closed loop: how far the publisher may run ahead
  const ahead = () => (o.workload === 'confirms' ? published - confirmed : published - Math.floor(delivered / fan));
  const limit = o.workload === 'confirms' ? 1000 : o.ahead;
  let writable = true;
  pub.socket.on('drain', () => {
    writable = true;
    schedule();
  });
  pub.onHot = (type, _ch, payload) => {
    if (type !== 1) return;
    const id = payload.readUInt32BE(0);
    if (id === MethodId.basicAck || id === MethodId.basicNack) {
      const tag = payload.readUInt32BE(4) * 0x1_0000_0000 + payload.readUInt32BE(8);
      const multiple = (payload[12]! & 1) !== 0;
      confirmed = multiple ? Math.max(confirmed, tag) : confirmed + 1;
    }
  };
  let scheduled = false;
  const pump = () => {
    scheduled = false;
    if (stop) return;
    let room = limit - ahead();
    while (writable && room > 0) {
      const n = Math.min(BLOCK, room);
      writable = pub.socket.write(block.subarray(0, n * unitBytes));
      published += n;
      room -= n;
    }
  };
  const schedule = () => {
    if (!scheduled && !stop) {
      scheduled = true;
      setImmediate(pump);
    }
  };
  pub.onChunkEnd = schedule;
  let stop = false;
  schedule();

  await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
  const d0 = delivered;
  const p0 = published;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const result = { published: published - p0, delivered: delivered - d0, seconds };
  stop = true;
  // cleanup: delete what we declared (fresh connection state not needed)
  for (const sub of subs) sub.close();
  try {
    for (const q of queues) await pub.rpc(1, 'queue.delete', { queue: q }, 'queue.delete-ok');
    if (exchange) await pub.rpc(1, 'exchange.delete', { exchange }, 'exchange.delete-ok');
  } catch {
    // cleanup is best effort
  }
  pub.close();
  return result;
}

async function runAmqplib(o: Required<Options>): Promise<Result> {
  const amqp = (await import('amqplib')).default;
  const run = Math.random().toString(36).slice(2, 8);
  const url = `amqp://guest:guest@${o.host}:${o.port}`;
  const pc = await amqp.connect(url);
  const sc = await amqp.connect(url);
  const durable = o.workload === 'confirms';
  const pch = durable ? await pc.createConfirmChannel() : await pc.createChannel();
  const queues: string[] = [];
  let exchange = '';
  if (o.workload === 'fanout') {
    exchange = `bench-fanout-${run}`;
    await pch.assertExchange(exchange, 'fanout', { durable: false });
    for (let i = 0; i < FANOUT_QUEUES; i++) {
      const q = (await pch.assertQueue(`bench-fan-${run}-${i}`, { durable: false })).queue;
      await pch.bindQueue(q, exchange, '');
      queues.push(q);
    }
  } else {
    queues.push((await pch.assertQueue(`bench-${o.workload}-${run}`, { durable })).queue);
  }
  let delivered = 0;
  const noAck = !durable;
  for (const q of queues) {
    const ch = await sc.createChannel();
    if (!noAck) await ch.prefetch(1000);
    await ch.consume(q, (m) => {
      if (!m) return;
      delivered++;
      if (!noAck && delivered % 100 === 0) ch.ack(m, true);
    }, { noAck });
  }
  const body = Buffer.alloc(o.bodyBytes, 0x61);
  let published = 0;
  let confirmed = 0;
  let stop = false;
  const fan = queues.length;
  const limit = durable ? 1000 : o.ahead;
  const pump = () => {
    if (stop) return;
    while (published - (durable ? confirmed : Math.floor(delivered / fan)) < limit) {
      published++;
      if (durable) (pch as import('amqplib').ConfirmChannel).publish(exchange, exchange ? '' : queues[0]!, body, { persistent: true }, () => confirmed++);
      else pch.publish(exchange, exchange ? '' : queues[0]!, body);
    }
    setImmediate(pump);
  };
  pump();
  await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));
  const d0 = delivered;
  const p0 = published;
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, o.seconds * 1000));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  stop = true;
  const result = { published: published - p0, delivered: delivered - d0, seconds };
  await sc.close().catch(() => {});
  for (const q of queues) await pch.deleteQueue(q).catch(() => {});
  if (exchange) await pch.deleteExchange(exchange).catch(() => {});
  await pc.close().catch(() => {});
  return result;
}

export async function generate(options: Options): Promise<Result> {
  const o: Required<Options> = { host: '127.0.0.1', seconds: 5, warmupSeconds: 1, client: 'raw', bodyBytes: 1024, tls: false, ahead: options.workload === 'fanout' ? 5000 : 20000, ...options };
  return o.client === 'amqplib' ? runAmqplib(o) : runRaw(o);
}

if (process.argv[1] && /amqp-load\.[jt]s$/.test(process.argv[1])) {
  const options = JSON.parse(process.argv[2] ?? '{}') as Options;
  generate(options).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`${String((e as Error)?.stack ?? e)}\n`);
      process.exit(1);
    },
  );
}
