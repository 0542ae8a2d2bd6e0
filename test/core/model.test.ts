/**
 * Model-based test of queue semantics (STYLE.md "Model-based tests for the core"): random
 * sequences of publish, get, consume, cancel, ack, nack, reject, channel close, purge, time
 * advance (TTL sweep) and restart/crash run against the core (in-memory store) and against a
 * small reference model. After every step the queue depths, unacked counts and dead-letter
 * depths must agree, and every delivery the core makes must be the message the model says is
 * next (FIFO, never expired, within the consumer's credit). Replay a failure with the printed
 * seed and path: FC_SEED=<seed> FC_PATH=<path> npx vitest run test/core/model.test.ts
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Channel, Delivery, HeaderTable } from '../../src/core/index.js';
import { msg, openCore, session, settle, type Fixture } from './fixture.js';

// Queue configurations (durable; dead-letters go through fanout 'dlx' to 'dlq').
const QUEUES = [
  { name: 'plain', args: {} },
  { name: 'short', args: { 'x-max-length': 3, 'x-dead-letter-exchange': 'dlx' } },
  { name: 'ttl', args: { 'x-message-ttl': 1000, 'x-dead-letter-exchange': 'dlx' } },
  { name: 'poison', args: { 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'dlx' } },
  { name: 'prio', args: { 'x-max-priority': 3 } },
] as const;
const MAX_PRIORITY: Record<string, number> = { prio: 3 };
const TTL: Record<string, number> = { ttl: 1000 };
const MAX_LEN: Record<string, number> = { short: 3 };
const LIMIT: Record<string, number> = { poison: 1 };

interface MMsg {
  id: string;
  seq: number;
  /** Effective priority in its queue (0 outside priority queues). */
  priority: number;
  persistent: boolean;
  expiresAt: number;
  deliveries: number;
  redelivered: boolean;
}
interface MUnacked {
  tag: number;
  queue: string;
  m: MMsg;
  consumer: string | null;
}
interface MConsumer {
  tag: string;
  queue: string;
  prefetch: number;
  unacked: number;
}

class Model {
  now = 0;
  seq = 0;
  ready = new Map<string, MMsg[]>(QUEUES.map((q) => [q.name, []]));
  unacked: MUnacked[] = [];
  consumers: MConsumer[] = [];
  /**
   * Highest publish sequence delivered per queue: after a restart the core flags as redelivered
   * every recovered message at or below it (its "delivered up to" mark), which for priority
   * queues includes older messages overtaken by higher priorities (a redelivered hint, allowed).
   */
  maxDelivered = new Map<string, number>();
  delivered(queue: string, m: MMsg): void {
    m.deliveries++;
    m.redelivered = true;
    if (m.seq > (this.maxDelivered.get(queue) ?? -1)) this.maxDelivered.set(queue, m.seq);
  }
  /** Dead-lettered copies in dlq: [id, reason, persistent]. */
  dlq: [string, string, boolean][] = [];
  tags = 0;

  deadLetter(queue: string, ms: MMsg[], reason: string): void {
    if (!QUEUES.some((q) => q.name === queue && 'x-dead-letter-exchange' in q.args)) return; // no DLX: dropped
    for (const m of ms) this.dlq.push([m.id, reason, m.persistent]);
  }
  /** Removes expired messages at the head of `queue` (what a get/delivery does on its way). */
  expireHead(queue: string): void {
    const r = this.ready.get(queue)!;
    const dead: MMsg[] = [];
    while (r.length > 0 && r[0]!.expiresAt <= this.now) dead.push(r.shift()!);
    this.deadLetter(queue, dead, 'expired');
  }
  takeHead(queue: string): MMsg | undefined {
    this.expireHead(queue);
    return this.ready.get(queue)!.shift();
  }
  /** Ready order: higher priority first, then publish order. */
  insert(queue: string, m: MMsg): void {
    const r = this.ready.get(queue)!;
    let i = 0;
    while (i < r.length && (r[i]!.priority > m.priority || (r[i]!.priority === m.priority && r[i]!.seq < m.seq))) i++;
    r.splice(i, 0, m);
  }
  returnToQueue(u: MUnacked[], requeue: boolean): void {
    const byQueue = new Map<string, MMsg[]>();
    for (const x of u) {
      const c = this.consumers.find((k) => k.tag === x.consumer);
      if (c) c.unacked--;
      byQueue.set(x.queue, [...(byQueue.get(x.queue) ?? []), x.m]);
    }
    for (const [q, ms] of byQueue) {
      if (!requeue) {
        this.deadLetter(q, ms, 'rejected');
        continue;
      }
      ms.sort((a, b) => a.seq - b.seq);
      const poison: MMsg[] = [];
      for (const m of ms) {
        if (LIMIT[q] !== undefined && m.deliveries > LIMIT[q]!) poison.push(m);
        else {
          m.redelivered = true;
          this.insert(q, m);
        }
      }
      this.deadLetter(q, poison, 'delivery_limit');
      this.dropOverflow(q);
    }
  }
  /** drop-head after a requeue or recovery, as RabbitMQ's maybe_drop_head does. */
  dropOverflow(q: string): void {
    const max = MAX_LEN[q];
    const r = this.ready.get(q)!;
    if (max !== undefined && r.length > max) this.deadLetter(q, r.splice(0, r.length - max), 'maxlen');
  }
  takeUnacked(tag: number, multiple: boolean): MUnacked[] {
    const out = this.unacked.filter((u) => (multiple ? u.tag <= tag : u.tag === tag));
    this.unacked = this.unacked.filter((u) => !out.includes(u));
    return out;
  }
}

interface Real {
  f: Fixture;
  ch: Channel;
  /** Deliveries pushed to consumers, not yet checked against the model. */
  pushed: Delivery[];
  consumerSeq: number;
}

/** Checks pushed deliveries against the model, then compares depths. */
function reconcile(m: Model, r: Real): void {
  for (const d of r.pushed.splice(0)) {
    const c = m.consumers.find((k) => k.tag === d.consumerTag);
    expect(c, `delivery to unknown consumer ${d.consumerTag}`).toBeDefined();
    const want = m.takeHead(d.queue);
    expect(d.message.body.toString(), `queue ${d.queue} delivered out of order`).toBe(want?.id);
    expect(d.redelivered).toBe(want!.redelivered);
    m.delivered(d.queue, want!);
    c!.unacked++;
    expect(c!.unacked, `consumer ${c!.tag} over its prefetch`).toBeLessThanOrEqual(c!.prefetch);
    m.unacked.push({ tag: d.deliveryTag, queue: d.queue, m: want!, consumer: c!.tag });
  }
  const vh = r.f.core.vhost('/');
  for (const q of QUEUES) {
    const info = vh.queue(q.name)!;
    // A dispatch with a consumer that has credit drops expired messages from the head.
    const hungry = m.consumers.some((c) => c.queue === q.name && c.unacked < c.prefetch);
    if (hungry) m.expireHead(q.name);
    const ready = m.ready.get(q.name)!;
    expect(info.messageCount, `depth of ${q.name}`).toBe(ready.length);
    expect(info.unackedCount, `unacked of ${q.name}`).toBe(m.unacked.filter((u) => u.queue === q.name).length);
    // No idle credit while deliverable messages wait.
    const live = ready.some((x) => x.expiresAt > m.now);
    expect(live && hungry, `queue ${q.name} holds messages while a consumer has credit`).toBe(false);
  }
  expect(vh.queue('dlq')!.messageCount, 'dead-letter depth').toBe(m.dlq.length);
}

type Cmd = fc.AsyncCommand<Model, Real>;

function cmd(name: string, run: (m: Model, r: Real) => void | Promise<void>, check: (m: Model) => boolean = () => true): Cmd {
  return {
    check,
    async run(m, r) {
      await run(m, r);
      await settle();
      reconcile(m, r);
    },
    toString: () => name,
  };
}

const queueName = fc.constantFrom(...QUEUES.map((q) => q.name));

/** The model side of a message entering queue `q` (one copy per queue; ids are shared by fan-out copies). */
function enqueueModel(m: Model, q: string, id: string, seq: number, persistent: boolean, priority: number): void {
  const ttl = TTL[q];
  const max = MAX_PRIORITY[q];
  const p = max === undefined ? 0 : Math.min(priority, max);
  m.insert(q, { id, seq, priority: p, persistent, expiresAt: ttl === undefined ? Infinity : m.now + ttl, deliveries: 0, redelivered: false });
  const maxLen = MAX_LEN[q];
  const r2 = m.ready.get(q)!;
  if (maxLen !== undefined && r2.length > maxLen) m.deadLetter(q, r2.splice(0, r2.length - maxLen), 'maxlen');
}

const commands = [
  fc.tuple(queueName, fc.boolean(), fc.integer({ min: 0, max: 5 })).map(([q, persistent, priority]) =>
    cmd(`publish(${q},${persistent},p${priority})`, (m, r) => {
      const id = `m${++m.seq}`;
      const res = r.ch.publish('', q, msg(id, { persistent, priority }));
      expect(res.status).toBe('routed');
      enqueueModel(m, q, id, m.seq, persistent, priority);
    }),
  ),
  // Fan-out to every queue: stored once, one entry per queue.
  fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 })).map(([persistent, priority]) =>
    cmd(`publish-fanout(${persistent},p${priority})`, (m, r) => {
      const id = `m${++m.seq}`;
      const res = r.ch.publish('amq.fanout', '', msg(id, { persistent, priority }));
      expect(res).toMatchObject({ status: 'routed', destinations: QUEUES.length });
      for (const q of QUEUES) enqueueModel(m, q.name, id, m.seq, persistent, priority);
    }),
  ),
  fc.tuple(queueName, fc.boolean()).map(([q, noAck]) =>
    cmd(`get(${q},${noAck})`, (m, r) => {
      const d = r.ch.get(q, { noAck });
      const want = m.takeHead(q);
      expect(d?.message.body.toString()).toBe(want?.id);
      if (!d || !want) return;
      expect(d.redelivered).toBe(want.redelivered);
      m.delivered(q, want);
      if (!noAck) m.unacked.push({ tag: d.deliveryTag, queue: q, m: want, consumer: null });
    }),
  ),
  fc.tuple(queueName, fc.integer({ min: 1, max: 3 })).map(([q, prefetch]) =>
    cmd(
      `consume(${q},${prefetch})`,
      (m, r) => {
        const tag = `c${++r.consumerSeq}`;
        r.ch.consume(q, { consumerTag: tag, prefetch, onDelivery: (d) => r.pushed.push(d) });
        m.consumers.push({ tag, queue: q, prefetch, unacked: 0 });
      },
      (m) => m.consumers.length < 3,
    ),
  ),
  fc.nat().map((i) =>
    cmd(
      `cancel(${i})`,
      (m, r) => {
        const c = m.consumers[i % m.consumers.length]!;
        r.ch.cancel(c.tag);
        m.consumers = m.consumers.filter((k) => k !== c);
        // Its unacked deliveries stay on the channel, no longer counted against a consumer.
        for (const u of m.unacked) if (u.consumer === c.tag) u.consumer = null;
      },
      (m) => m.consumers.length > 0,
    ),
  ),
  fc.tuple(fc.nat(), fc.constantFrom('ack', 'ack-multiple', 'nack-requeue', 'nack-drop', 'reject-requeue', 'reject-drop', 'nack-multiple-requeue')).map(([i, op]) =>
    cmd(
      `${op}(${i})`,
      (m, r) => {
        const sorted = [...m.unacked].sort((a, b) => a.tag - b.tag);
        const tag = sorted[i % sorted.length]!.tag;
        const multiple = op === 'ack-multiple' || op === 'nack-multiple-requeue';
        const taken = m.takeUnacked(tag, multiple);
        if (op.startsWith('ack')) {
          r.ch.ack(tag, multiple);
          for (const u of taken) {
            const c = m.consumers.find((k) => k.tag === u.consumer);
            if (c) c.unacked--;
          }
        } else {
          const requeue = op.endsWith('requeue');
          if (op.startsWith('reject')) r.ch.reject(tag, requeue);
          else r.ch.nack(tag, multiple, requeue);
          m.returnToQueue(taken, requeue);
        }
      },
      (m) => m.unacked.length > 0,
    ),
  ),
  fc.constant(
    cmd('close-channel', (m, r) => {
      r.ch.close();
      r.ch = session(r.f.core).ch;
      const consumers = m.consumers;
      m.consumers = [];
      const all = m.unacked.sort((a, b) => a.tag - b.tag);
      m.unacked = [];
      void consumers;
      m.returnToQueue(all, true);
    }),
  ),
  queueName.map((q) =>
    cmd(`purge(${q})`, async (m, r) => {
      const n = await r.f.core.vhost('/').purgeQueue(q);
      expect(n).toBe(m.ready.get(q)!.length);
      m.ready.set(q, []);
    }),
  ),
  fc.integer({ min: 1, max: 1500 }).map((ms) =>
    cmd(`advance(${ms})+sweep`, async (m, r) => {
      r.f.clock.advance(ms);
      m.now += ms;
      await r.f.core.sweep();
      for (const q of QUEUES) {
        const ready = m.ready.get(q.name)!;
        const dead = ready.filter((x) => x.expiresAt <= m.now);
        m.ready.set(q.name, ready.filter((x) => x.expiresAt > m.now));
        m.deadLetter(q.name, dead, 'expired');
      }
    }),
  ),
  fc.constantFrom('restart', 'crash').map((how) =>
    cmd(how, async (m, r) => {
      // Let in-flight work (dead-letter copies awaiting fsync, tick records) land first: the
      // model does not model at-least-once duplicates of a crash in that window.
      await r.f.core.flush();
      if (how === 'restart') await r.f.restart();
      else await r.f.crash();
      r.ch = session(r.f.core).ch;
      r.pushed = [];
      // Unacked deliveries come back, in order, as redelivered (no limit check: nothing was returned).
      for (const u of m.unacked.sort((a, b) => a.m.seq - b.m.seq)) m.insert(u.queue, u.m);
      m.unacked = [];
      m.consumers = [];
      m.dlq = m.dlq.filter((x) => x[2]);
      for (const [q, ready] of m.ready) {
        // Transient messages do not survive; recovered ones at or below the delivered mark count one delivery.
        m.ready.set(
          q,
          ready.filter((x) => x.persistent),
        );
        for (const x of m.ready.get(q)!) {
          x.redelivered = x.seq <= (m.maxDelivered.get(q) ?? -1);
          x.deliveries = x.redelivered ? 1 : 0;
        }
        m.dropOverflow(q);
      }
    }),
  ),
];

async function setupReal(kind: 'memory' | 'log'): Promise<Real> {
  const f = await openCore({}, kind);
  const vh = f.core.vhost('/');
  await vh.declareExchange('dlx', { type: 'fanout' });
  await vh.declareQueue('dlq', { durable: true });
  await vh.bindQueue('dlq', 'dlx', '');
  for (const q of QUEUES) {
    await vh.declareQueue(q.name, { durable: true, arguments: q.args });
    await vh.bindQueue(q.name, 'amq.fanout', '');
  }
  return { f, ch: session(f.core).ch, pushed: [], consumerSeq: 0 };
}

/** Drains dlq and compares ids and death reasons in order. */
function checkDeadLetters(m: Model, r: Real): void {
  const got: [string, string][] = [];
  for (let d = r.ch.get('dlq', { noAck: true }); d; d = r.ch.get('dlq', { noAck: true })) {
    const xd = d.message.headers.find((h) => h.name === 'x-death')!.value as HeaderTable[];
    const reason = xd[0]!.entries.find((e) => e.name === 'reason')!.value as string;
    got.push([d.message.body.toString(), reason]);
  }
  expect(got).toEqual(m.dlq.map(([id, reason]) => [id, reason]));
}

describe('core queues against a reference model', () => {
  // Thousands of sequences on the in-memory store; fewer on the real LogStore (disk, fsync).
  it.each([
    ['memory', Number(process.env.MODEL_RUNS ?? 1500)],
    ['log', Number(process.env.MODEL_LOG_RUNS ?? 30)],
  ] as const)('agree on deliveries, depths and dead-letters for random command sequences (%s store)', async (kind, runs) => {
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'large' }), async (cmds) => {
        const r = await setupReal(kind);
        const m = new Model();
        try {
          await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
          checkDeadLetters(m, r);
        } finally {
          await r.f.close();
        }
      }),
      { numRuns: runs, seed, path: process.env.FC_PATH, verbose: 1 },
    );
  }, 300_000);
});
