import amqp from 'amqplib';
import type { Channel, ConfirmChannel, ChannelModel, ConsumeMessage, GetMessage } from 'amqplib';

/**
 * What a scenario needs: where the broker is, a unique suffix for its names, and a log of what
 * the client observed. The same scenario code runs against RabbitMQ and polybroker; the logs
 * are compared (interop:diff) or checked against RabbitMQ's recorded log (interop tests).
 */
export interface ScenarioContext {
  url: string;
  host: string;
  port: number;
  /** unique per run; replaced by '<id>' in the log */
  id: string;
  log(event: string, data?: unknown): void;
  /** connections opened through `connect` are closed after the scenario */
  connect(url?: string, socketOptions?: Record<string, unknown>): Promise<ChannelModel>;
}

export interface Scenario {
  name: string;
  run(ctx: ScenarioContext): Promise<void>;
}

export type Observation = [string, unknown?];

export async function runScenario(s: Scenario, host: string, port: number, id = Math.random().toString(36).slice(2, 8)): Promise<Observation[]> {
  const observations: Observation[] = [];
  const opened: ChannelModel[] = [];
  const url = `amqp://guest:guest@${host}:${port}`;
  const ctx: ScenarioContext = {
    url,
    host,
    port,
    id,
    log: (event, data) => observations.push(data === undefined ? [normalize(event, id) as string] : [normalize(event, id) as string, normalize(data, id)]),
    connect: async (u = url, opts) => {
      const c = await amqp.connect(u, opts);
      c.on('error', () => {});
      // A channel closed by the server emits 'error'; without a listener amqplib tears the
      // whole connection down, which is not what a real application sees.
      for (const k of ['createChannel', 'createConfirmChannel'] as const) {
        const orig = c[k].bind(c) as () => Promise<Channel>;
        (c as unknown as Record<string, unknown>)[k] = async () => {
          const ch = await orig();
          ch.on('error', () => {});
          return ch;
        };
      }
      opened.push(c);
      return c;
    },
  };
  try {
    await s.run(ctx);
  } catch (e) {
    observations.push(['scenario-error', normalize(describeError(e), id)]);
  } finally {
    for (const c of opened) await c.close().catch(() => {});
  }
  return observations;
}

function normalize(v: unknown, id: string): unknown {
  if (typeof v === 'string') return v.split(id).join('<id>');
  if (Buffer.isBuffer(v)) return v.toString('utf8').split(id).join('<id>');
  if (Array.isArray(v)) return v.map((e) => normalize(e, id));
  if (v && typeof v === 'object') {
    if (v instanceof Date) return `date:${v.getTime()}`;
    const out: Record<string, unknown> = {};
    for (const [k, e] of Object.entries(v)) if (e !== undefined) out[k] = normalize(e, id);
    return out;
  }
  if (typeof v === 'bigint') return Number(v);
  return v;
}

/** An error as a client sees it: reply code and the server's text. */
export function describeError(e: unknown): { code: unknown; text: string } {
  const err = e as { code?: unknown; message?: string };
  const m = /with message "(.*)"$/.exec(err.message ?? '');
  return { code: err.code, text: m ? m[1]! : (err.message ?? String(e)) };
}

/** Runs `op` expecting the server to close the channel or connection; logs the code and text. */
export async function expectError(ctx: ScenarioContext, label: string, op: () => Promise<unknown>): Promise<void> {
  try {
    await op();
    ctx.log(`${label}: no error`);
  } catch (e) {
    ctx.log(label, describeError(e));
  }
}

/** Waits for a channel's 'close' after an asynchronous error (publish to a missing exchange...). */
export function channelClosed(ch: Channel): Promise<{ code: unknown; text: string }> {
  return new Promise((resolve) => {
    let err: unknown = null;
    ch.on('error', (e) => (err = e));
    ch.on('close', () => resolve(err ? describeError(err) : { code: null, text: 'closed' }));
  });
}

export function connectionClosed(c: ChannelModel): Promise<{ code: unknown; text: string }> {
  return new Promise((resolve) => {
    let err: unknown = null;
    c.on('error', (e) => (err = e));
    c.on('close', () => resolve(err ? describeError(err) : { code: null, text: 'closed' }));
  });
}

/** The fields of a delivery that both brokers must agree on. */
export function seen(m: ConsumeMessage | GetMessage): Record<string, unknown> {
  const p = m.properties;
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined && k !== 'headers') props[k] = v;
  const headers = p.headers ? stripTimes(p.headers) : undefined;
  return {
    body: m.content.toString(),
    exchange: m.fields.exchange,
    routingKey: m.fields.routingKey,
    redelivered: m.fields.redelivered,
    ...(headers && Object.keys(headers).length ? { headers } : {}),
    ...(Object.keys(props).length ? { props } : {}),
  };
}

/** x-death `time` differs per run: keep its type only. */
function stripTimes(h: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k === 'x-death' && Array.isArray(v)) out[k] = v.map((d: Record<string, unknown>) => ({ ...d, time: d.time instanceof Date ? 'date' : typeof d.time }));
    else out[k] = v;
  }
  return out;
}

/** Collects `n` deliveries from a consumer (or fails after `timeoutMs`). */
export function collect(ch: Channel, queue: string, n: number, options: { noAck?: boolean; ack?: boolean; arguments?: Record<string, unknown>; timeoutMs?: number; onConsumeOk?: () => void } = {}): Promise<ConsumeMessage[]> {
  return new Promise((resolve, reject) => {
    const got: ConsumeMessage[] = [];
    let tag = '';
    const timer = setTimeout(() => {
      void ch.cancel(tag).catch(() => {});
      reject(new Error(`timed out after ${got.length}/${n} deliveries from ${queue}`));
    }, options.timeoutMs ?? 5000);
    ch.consume(queue, (m) => {
      if (!m) return;
      got.push(m);
      if (options.ack) ch.ack(m);
      if (got.length === n) {
        clearTimeout(timer);
        void ch.cancel(tag).then(() => resolve(got), reject);
      }
    }, { noAck: options.noAck ?? false, arguments: options.arguments }).then((ok) => {
      tag = ok.consumerTag;
      options.onConsumeOk?.();
    }, reject);
  });
}

/** A basic.get result that must be a message. */
export function must<T>(v: T | false | null | undefined): T {
  if (!v) throw new Error('expected a message, got none');
  return v;
}

/** Polls basic.get until a message arrives (TTL and dead-lettering happen on the broker's clock). */
export async function getEventually(ch: Channel, queue: string, timeoutMs = 5000): Promise<GetMessage> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = await ch.get(queue, { noAck: true });
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`nothing arrived in ${queue}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export type { Channel, ConfirmChannel, ChannelModel };
