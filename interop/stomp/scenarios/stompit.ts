import { collect, connectStompit, disconnect, frameWithReceipt, sendWithReceipt, type Connected } from '../lib/stompit-client.js';
import { unique, within, type StompTarget } from '../lib/target.js';

/**
 * Client scripts with stompit (STOMP over TCP), written once and run against polybroker (the
 * interop tests assert their observations) and against RabbitMQ and ActiveMQ (the differential
 * check prints where the observations differ). Each returns plain JSON-able observations.
 */
export type Scenario = (target: StompTarget) => Promise<unknown>;

async function withClient<T>(target: StompTarget, fn: (c: Connected) => Promise<T>, headers?: Record<string, string>, version?: string): Promise<T> {
  const c = await connectStompit(target, headers, version);
  try {
    return await fn(c);
  } finally {
    c.client.destroy();
  }
}

/** The headers of a MESSAGE that scenarios compare (broker-specific ids left out). */
function shape(headers: Record<string, string>, keep: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const k of keep) if (headers[k] !== undefined) out[k] = headers[k]!;
  out['has message-id'] = headers['message-id'] !== undefined;
  return out;
}

export const STOMPIT_SCENARIOS: Record<string, Scenario> = {
  /** /queue: send 3 with user headers and content-type, receive with client-individual acks. */
  async 'queue send and receive'(t) {
    const q = `/queue/${unique('q')}`;
    return withClient(t, async (c) => {
      const sub = collect(c.client, { destination: q, ack: 'client-individual' }, (m) => c.client.ack(m));
      for (const n of [1, 2, 3]) await sendWithReceipt(c.client, { destination: q, 'content-type': 'text/plain', 'x-n': String(n), custom: 'a:b' }, `m${n}`);
      const got = await sub.next(3);
      const result = got.map((m) => ({ body: m.body.toString(), ...shape(m.headers, ['content-type', 'x-n', 'custom', 'subscription', 'redelivered']), destinationOk: m.headers.destination === q }));
      await disconnect(c);
      return result;
    });
  },

  /** /topic with wildcards: each subscriber gets its own copy of what matches. */
  async 'topic fan-out with wildcards'(t) {
    const base = unique('t');
    return withClient(t, async (c) => {
      const star = collect(c.client, { destination: `/topic/${base}.*`, id: 's1' });
      const exact = collect(c.client, { destination: `/topic/${base}.x`, id: 's2' });
      await frameWithReceipt(c.client, 'SUBSCRIBE', { destination: `/topic/${base}.barrier`, id: 'barrier' });
      await sendWithReceipt(c.client, { destination: `/topic/${base}.x` }, 'to-x');
      await sendWithReceipt(c.client, { destination: `/topic/${base}.y` }, 'to-y');
      await sendWithReceipt(c.client, { destination: `/topic/other.${base}` }, 'nobody');
      const s = await star.next(2);
      const e = await exact.next(1);
      return { star: s.map((m) => m.body.toString()), exact: e.map((m) => m.body.toString()), exactDestination: e[0]!.headers.destination === `/topic/${base}.x` };
    });
  },

  /** /exchange/<ex>/<rk> on both ends (RabbitMQ's destination; amq.direct exists in both peers' terms). */
  async 'exchange destination'(t) {
    const rk = unique('rk');
    return withClient(t, async (c) => {
      const sub = collect(c.client, { destination: `/exchange/amq.direct/${rk}`, id: 'e1' });
      await frameWithReceipt(c.client, 'SUBSCRIBE', { destination: `/exchange/amq.direct/${rk}-barrier`, id: 'e2' });
      await sendWithReceipt(c.client, { destination: `/exchange/amq.direct/${rk}` }, 'via-exchange');
      const [m] = await sub.next(1);
      return { body: m!.body.toString(), destination: m!.headers.destination === `/exchange/amq.direct/${rk}` };
    });
  },

  /** Binary body with NULs and every byte value, framed by content-length. */
  async 'binary body'(t) {
    const q = `/queue/${unique('bin')}`;
    const body = Buffer.alloc(3000);
    for (let i = 0; i < body.length; i++) body[i] = i % 256;
    return withClient(t, async (c) => {
      const sub = collect(c.client, { destination: q });
      await sendWithReceipt(c.client, { destination: q, 'content-length': String(body.length), 'content-type': 'application/octet-stream' }, body);
      const [m] = await sub.next(1);
      return { equal: m!.body.equals(body), length: m!.body.length, contentLength: m!.headers['content-length'] };
    });
  },

  /** client mode: ACK of the 2nd of 3 acks 1 and 2 (cumulative); the 3rd comes back, redelivered. */
  async 'client ack is cumulative'(t) {
    const q = `/queue/${unique('cum')}`;
    const first = await withClient(t, async (c) => {
      for (const n of [1, 2, 3]) await sendWithReceipt(c.client, { destination: q }, `m${n}`);
      const msgs: Parameters<Parameters<typeof collect>[2] & {}>[0][] = [];
      const sub = collect(c.client, { destination: q, ack: 'client' }, (m) => msgs.push(m));
      const got = await sub.next(3);
      await new Promise<void>((resolve) => c.client.ack(msgs[1]!, {}, { onReceipt: resolve }));
      await disconnect(c);
      return got.map((m) => m.body.toString());
    });
    const again = await withClient(t, async (c) => {
      const sub = collect(c.client, { destination: q, ack: 'auto' });
      const got = await sub.next(1);
      return got.map((m) => ({ body: m.body.toString(), redelivered: m.headers.redelivered }));
    });
    return { first, again };
  },

  /** NACK requeues (RabbitMQ's default): the message comes back marked redelivered. */
  async 'nack requeues'(t) {
    const q = `/queue/${unique('nack')}`;
    return withClient(t, async (c) => {
      await sendWithReceipt(c.client, { destination: q }, 'once');
      let nacked = false;
      const sub = collect(c.client, { destination: q, ack: 'client-individual' }, (m) => {
        if (!nacked) {
          nacked = true;
          c.client.nack(m);
        } else {
          c.client.ack(m);
        }
      });
      const got = await sub.next(2);
      return got.map((m) => ({ body: m.body.toString(), redelivered: m.headers.redelivered }));
    });
  },

  /** Transactions: ABORT discards sends, COMMIT applies them in order. */
  async 'transactions commit and abort'(t) {
    const q = `/queue/${unique('tx')}`;
    return withClient(t, async (c) => {
      const sub = collect(c.client, { destination: q });
      const aborted = c.client.begin();
      aborted.send({ destination: q }).end('aborted-1');
      aborted.send({ destination: q }).end('aborted-2');
      await new Promise<void>((resolve) => aborted.abort({ onReceipt: resolve }));
      const tx = c.client.begin();
      tx.send({ destination: q }).end('committed-1');
      tx.send({ destination: q }).end('committed-2');
      await new Promise<void>((resolve) => tx.commit({ onReceipt: resolve }));
      await sendWithReceipt(c.client, { destination: q }, 'after');
      const got = await sub.next(3);
      return got.map((m) => m.body.toString());
    });
  },

  /** An ACK inside an aborted transaction is void: the message stays unacked and is redelivered. */
  async 'ack in aborted transaction'(t) {
    const q = `/queue/${unique('txack')}`;
    await withClient(t, async (c) => {
      await sendWithReceipt(c.client, { destination: q }, 'keep-me');
      const msgs: Parameters<Parameters<typeof collect>[2] & {}>[0][] = [];
      const sub = collect(c.client, { destination: q, ack: 'client-individual' }, (m) => msgs.push(m));
      await sub.next(1);
      const tx = c.client.begin();
      c.client.ack(msgs[0]!, { transaction: String(tx.id) });
      await new Promise<void>((resolve) => tx.abort({ onReceipt: resolve }));
      await disconnect(c);
    });
    return withClient(t, async (c) => {
      const sub = collect(c.client, { destination: q });
      const [m] = await sub.next(1);
      return { body: m!.body.toString(), redelivered: m!.headers.redelivered };
    });
  },

  /** Receipts for SEND (persistent), SUBSCRIBE, UNSUBSCRIBE, BEGIN/COMMIT and DISCONNECT: which arrive. */
  async receipts(t) {
    const q = `/queue/${unique('rcpt')}`;
    return withClient(t, async (c) => {
      const seen: Record<string, boolean> = {};
      const check = async (name: string, p: Promise<void>) => {
        seen[name] = await within(p, 3000, name).then(() => true, () => false);
      };
      await check('SEND', sendWithReceipt(c.client, { destination: q, persistent: 'true' }, 'p'));
      await check('SUBSCRIBE', frameWithReceipt(c.client, 'SUBSCRIBE', { destination: `${q}-empty`, id: 'r1' }));
      await check('UNSUBSCRIBE', frameWithReceipt(c.client, 'UNSUBSCRIBE', { id: 'r1' }));
      await check('BEGIN', frameWithReceipt(c.client, 'BEGIN', { transaction: 't1' }));
      await check('COMMIT', frameWithReceipt(c.client, 'COMMIT', { transaction: 't1' }));
      await check('DISCONNECT', disconnect(c));
      return seen;
    });
  },

  /**
   * A temp-queue reply-to: the requester is subscribed to a private queue automatically
   * (subscription id = the /temp-queue/ name) and the responder replies to the rewritten reply-to.
   */
  async 'temp-queue request/reply'(t) {
    const q = `/queue/${unique('rpc')}`;
    const responder = await connectStompit(t);
    const requester = await connectStompit(t);
    try {
      const served = collect(responder.client, { destination: q }, (_m, r) => {
        const w = responder.client.send({ destination: r.headers['reply-to']! });
        w.write(`re:${r.body.toString()}`);
        w.end();
      });
      await frameWithReceipt(responder.client, 'SUBSCRIBE', { destination: `${q}-barrier`, id: 'b' });
      const replies: string[] = [];
      const got = new Promise<{ subscription: string }>((resolve) => {
        (requester.client as unknown as { setImplicitSubscription(id: string, ack: string, cb: (e: Error | null, m: { headers: Record<string, string>; readString(e: string, cb: (err: Error | null, s?: string) => void): void }) => void): void }).setImplicitSubscription(
          '/temp-queue/answers',
          'auto',
          (_e, m) => m.readString('utf8', (_err, s) => {
            replies.push(s ?? '');
            resolve({ subscription: m.headers.subscription! });
          }),
        );
      });
      await sendWithReceipt(requester.client, { destination: q, 'reply-to': '/temp-queue/answers' }, 'ping');
      const [asked] = await served.next(1);
      const reply = await within(got, 10_000, 'reply');
      return { replies, subscription: reply.subscription, replyTo: asked!.headers['reply-to']!.replace(/[^/]+$/, '<name>') };
    } finally {
      responder.client.destroy();
      requester.client.destroy();
    }
  },

  /** prefetch-count:1 — an unacked message holds back the rest, which go to another subscriber. */
  async 'prefetch-count'(t) {
    const q = `/queue/${unique('pf')}`;
    return withClient(t, async (c) => {
      const slow = collect(c.client, { destination: q, ack: 'client-individual', 'prefetch-count': '1', id: 'slow' });
      await frameWithReceipt(c.client, 'SUBSCRIBE', { destination: `${q}-barrier`, id: 'barrier' });
      await sendWithReceipt(c.client, { destination: q }, 'm1');
      await slow.next(1);
      for (const n of [2, 3]) await sendWithReceipt(c.client, { destination: q }, `m${n}`);
      const other = collect(c.client, { destination: q, ack: 'auto', id: 'other' });
      const got = await other.next(2);
      return { slow: slow.received.map((m) => m.body.toString()), other: got.map((m) => m.body.toString()) };
    });
  },

  /** x- queue arguments on the SEND that creates a /queue: x-max-length 1 keeps the newest. */
  async 'x-max-length queue argument'(t) {
    const q = `/queue/${unique('len')}`;
    return withClient(t, async (c) => {
      for (const n of [1, 2, 3]) await sendWithReceipt(c.client, { destination: q, 'x-max-length': '1' }, `m${n}`);
      const sub = collect(c.client, { destination: q, 'x-max-length': '1' });
      const got = await sub.next(1);
      await frameWithReceipt(c.client, 'BEGIN', { transaction: 'barrier' });
      return { got: got.map((m) => m.body.toString()), extra: sub.received.length - 1 };
    });
  },

  /**
   * Durable topic subscription (RabbitMQ `durable:true` + `auto-delete:false` + `id`, ActiveMQ
   * `activemq.subscriptionName` + `client-id`; both header sets at once so one script fits all):
   * messages published while the subscriber is away wait for it.
   */
  async 'durable topic subscription across reconnect'(t) {
    const topic = `/topic/${unique('dur')}`;
    const clientId = unique('cid');
    const subHeaders = { destination: topic, id: 'durable-1', durable: 'true', 'auto-delete': 'false', 'activemq.subscriptionName': 'durable-1', ack: 'client-individual' };
    await withClient(t, async (c) => {
      await frameWithReceipt(c.client, 'SUBSCRIBE', { ...subHeaders, receipt: 'x' }).catch(() => undefined);
      await disconnect(c);
    }, { 'client-id': clientId });
    await withClient(t, async (c) => {
      await sendWithReceipt(c.client, { destination: topic, persistent: 'true' }, 'while-away');
      await disconnect(c);
    });
    const got = await withClient(t, async (c) => {
      const sub = collect(c.client, { ...subHeaders }, (m) => c.client.ack(m));
      const msgs = await sub.next(1);
      // Forget the subscription so reruns against peers leave nothing behind.
      await frameWithReceipt(c.client, 'UNSUBSCRIBE', { id: 'durable-1', durable: 'true', 'auto-delete': 'false', 'activemq.subscriptionName': 'durable-1' });
      await disconnect(c);
      return msgs.map((m) => m.body.toString());
    }, { 'client-id': clientId });
    return got;
  },
};

/** Error cases a stock client can produce: each returns the ERROR `message` the client reported. */
export const STOMPIT_ERROR_SCENARIOS: Record<string, Scenario> = {
  async 'wrong passcode'(t) {
    try {
      const c = await connectStompit({ ...t, passcode: 'wrong' });
      c.client.destroy();
      return 'connected';
    } catch (e) {
      return (e as Error).message;
    }
  },
  async 'invalid destination'(t) {
    return withClient(t, async (c) => {
      c.client.send({ destination: '/nonsense/x' }).end('x');
      return within(c.closed, 10_000, 'ERROR');
    });
  },
  async 'subscribe to a missing /amq/queue'(t) {
    return withClient(t, async (c) => {
      c.client.sendFrame('SUBSCRIBE', { destination: `/amq/queue/${unique('missing')}`, id: '1' }).end();
      return within(c.closed, 10_000, 'ERROR');
    });
  },
  async 'SEND without destination'(t) {
    return withClient(t, async (c) => {
      c.client.sendFrame('SEND', {}).end('x');
      return within(c.closed, 10_000, 'ERROR');
    });
  },
  async 'COMMIT of an unknown transaction'(t) {
    return withClient(t, async (c) => {
      c.client.sendFrame('COMMIT', { transaction: 'never-begun' }).end();
      return within(c.closed, 10_000, 'ERROR');
    });
  },
  async 'ACK of an unknown message'(t) {
    return withClient(t, async (c) => {
      c.client.sendFrame('ACK', { id: '99-99', 'message-id': '99-99', subscription: 'nope' }).end();
      return within(c.closed, 10_000, 'ERROR');
    });
  },
};
