import { Client, type IMessage, type IFrame } from '@stomp/stompjs';
import WebSocket from 'ws';
import { deferred, unique, within, type StompTarget } from '../lib/target.js';
import type { Scenario } from './stompit.js';

/**
 * Client scripts with @stomp/stompjs over WebSocket (`ws` in Node), the way web dashboards
 * talk to RabbitMQ's web-stomp: `/ws` with subprotocols v10/v11/v12.stomp.
 */
interface Session {
  client: Client;
  errors: string[];
  closed: Promise<void>;
}

async function connect(target: StompTarget, heartbeat = 0): Promise<Session> {
  if (target.wsUrl === undefined) throw new Error(`${target.name} has no STOMP WebSocket endpoint here`);
  const connected = deferred<void>();
  const closed = deferred<void>();
  const errors: string[] = [];
  const client = new Client({
    webSocketFactory: () => new WebSocket(target.wsUrl!, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders: { host: target.vhost, login: target.login, passcode: target.passcode },
    heartbeatIncoming: heartbeat,
    heartbeatOutgoing: heartbeat,
    reconnectDelay: 0,
    onConnect: () => connected.resolve(),
    onStompError: (frame: IFrame) => {
      errors.push(frame.headers.message ?? '');
      connected.reject(new Error(frame.headers.message));
    },
    onWebSocketClose: () => {
      closed.resolve();
      connected.reject(new Error('closed'));
    },
  });
  client.activate();
  await within(connected.promise, 10_000, 'CONNECTED over WebSocket');
  return { client, errors, closed: closed.promise };
}

async function withSession<T>(target: StompTarget, fn: (s: Session) => Promise<T>, heartbeat?: number): Promise<T> {
  const s = await connect(target, heartbeat);
  try {
    return await fn(s);
  } finally {
    await s.client.deactivate();
  }
}

function receipt(client: Client): { headers: { receipt: string }; done: Promise<void> } {
  const id = unique('r');
  const d = deferred<void>();
  client.watchForReceipt(id, () => d.resolve());
  return { headers: { receipt: id }, done: within(d.promise, 10_000, `RECEIPT ${id}`) };
}

function collector() {
  const got: IMessage[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  return {
    got,
    push(m: IMessage) {
      got.push(m);
      for (const w of waiters.filter((x) => got.length >= x.n)) w.resolve();
    },
    next(n: number): Promise<IMessage[]> {
      if (got.length >= n) return Promise.resolve(got.slice(0, n));
      const d = deferred<void>();
      waiters.push({ n, resolve: () => d.resolve() });
      return within(d.promise, 10_000, `${n} messages`).then(() => got.slice(0, n));
    },
  };
}

export const STOMPJS_SCENARIOS: Record<string, Scenario> = {
  async 'queue send and receive (client-individual)'(t) {
    const q = `/queue/${unique('wsq')}`;
    return withSession(t, async ({ client }) => {
      const c = collector();
      const r0 = receipt(client);
      client.subscribe(q, (m) => {
        m.ack();
        c.push(m);
      }, { ack: 'client-individual', ...r0.headers });
      await r0.done;
      for (const n of [1, 2]) {
        const r = receipt(client);
        client.publish({ destination: q, body: `m${n}`, headers: { 'content-type': 'text/plain', 'x-n': String(n), ...r.headers } });
        await r.done;
      }
      const got = await c.next(2);
      return got.map((m) => ({ body: m.body, xn: m.headers['x-n'], contentType: m.headers['content-type'] }));
    });
  },

  async 'topic to two subscribers'(t) {
    const topic = `/topic/${unique('wst')}`;
    return withSession(t, async ({ client }) => {
      const a = collector();
      const b = collector();
      client.subscribe(topic, (m) => a.push(m));
      const r0 = receipt(client);
      client.subscribe(topic, (m) => b.push(m), r0.headers);
      await r0.done;
      client.publish({ destination: topic, body: 'hello' });
      const [ma] = await a.next(1);
      const [mb] = await b.next(1);
      return [ma!.body, mb!.body];
    });
  },

  async 'binary body over WebSocket'(t) {
    const q = `/queue/${unique('wsbin')}`;
    const body = new Uint8Array(512);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 256;
    return withSession(t, async ({ client }) => {
      const c = collector();
      const r0 = receipt(client);
      client.subscribe(q, (m) => c.push(m), r0.headers);
      await r0.done;
      client.publish({ destination: q, binaryBody: body, headers: { 'content-type': 'application/octet-stream' } });
      const [m] = await c.next(1);
      return { equal: Buffer.from(m!.binaryBody).equals(Buffer.from(body)), length: m!.binaryBody.length };
    });
  },

  async 'transaction over WebSocket'(t) {
    const q = `/queue/${unique('wstx')}`;
    return withSession(t, async ({ client }) => {
      const c = collector();
      const r0 = receipt(client);
      client.subscribe(q, (m) => c.push(m), r0.headers);
      await r0.done;
      const aborted = client.begin();
      client.publish({ destination: q, body: 'aborted', headers: { transaction: aborted.id } });
      aborted.abort();
      const tx = client.begin();
      client.publish({ destination: q, body: 'committed', headers: { transaction: tx.id } });
      tx.commit();
      client.publish({ destination: q, body: 'after' });
      const got = await c.next(2);
      return got.map((m) => m.body);
    });
  },

  async 'nack and client ack'(t) {
    const q = `/queue/${unique('wsnack')}`;
    return withSession(t, async ({ client }) => {
      const c = collector();
      const r0 = receipt(client);
      client.subscribe(q, (m) => {
        if (c.got.length === 0) m.nack();
        else m.ack();
        c.push(m);
      }, { ack: 'client', ...r0.headers });
      await r0.done;
      client.publish({ destination: q, body: 'x' });
      const got = await c.next(2);
      return got.map((m) => ({ body: m.body, redelivered: m.headers.redelivered }));
    });
  },

  async 'heart-beats both ways keep the connection'(t) {
    return withSession(t, async ({ client, errors }) => {
      // Idle across several 200 ms beat periods: both sides must beat or stompjs/the server would close.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      return { connected: client.connected, errors };
    }, 200);
  },

  async 'invalid destination over WebSocket'(t) {
    const s = await connect(t);
    s.client.publish({ destination: '/nonsense/x', body: 'x' });
    await within(s.closed, 10_000, 'close after ERROR');
    await s.client.deactivate();
    return s.errors;
  },
};
