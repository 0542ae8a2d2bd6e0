/**
 * The four stock JS clients as matrix endpoints: a publisher that sends `Outgoing` messages to a
 * pair's address and waits until the broker has them (confirm, PUBACK, RECEIPT, acks=all), and
 * a consumer that subscribes to it and turns what arrives into `Incoming`.
 *
 * Addresses: a pair's name T is dotted (`mx.amqp.mqtt`). AMQP publishes to `amq.topic` with
 * routing key T, STOMP to `/topic/T`, Kafka produces to topic T, and MQTT publishes to T's MQTT
 * form plus one level (`mx/mqtt/amqp/eu`), as a device would. Consumers take T and everything
 * below it: AMQP binds `T.#`, MQTT subscribes `T/#`, STOMP `/topic/T.#`, Kafka reads stream T
 * (bound to `amq.topic` with `T.#` by the broker).
 */
import { createRequire } from 'node:module';
import amqplib from 'amqplib';
import mqtt from 'mqtt';
import { Kafka, logLevel, type IHeaders } from 'kafkajs';
import { KAFKA_HEADERS, KEY_HEADER, P, SPOOF, publisherId, type Incoming, type Outgoing, type Protocol } from './probe.js';

const require = createRequire(import.meta.url);
const stompit = require('stompit') as { connect(options: unknown, cb: (err: Error | null, client: StompitClient) => void): StompitClient };

interface StompitMessage {
  headers: Record<string, string>;
  on(event: 'data', cb: (chunk: Buffer) => void): void;
  on(event: 'end' | 'error', cb: (arg?: unknown) => void): void;
}
interface StompitClient {
  send(headers: Record<string, string>, options?: { onReceipt?: () => void }): { write(b: Buffer): void; end(): void };
  subscribe(headers: Record<string, string>, listener: (err: Error | null, message: StompitMessage) => void): unknown;
  sendFrame(command: string, headers: Record<string, string>, options?: { onReceipt?: () => void }): { end(): void };
  disconnect(cb?: (err: Error | null) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
}

export interface Ports {
  amqp: number;
  mqtt: number;
  stomp: number;
  kafka: number;
}

export interface Publisher {
  publish(messages: Outgoing[]): Promise<void>;
  close(): Promise<void>;
}

export interface Consumer {
  /** Resolves with the first n messages once n arrived (in arrival order). */
  next(n: number): Promise<Incoming[]>;
  close(): Promise<void>;
}

/** Collects messages in arrival order; bodies may complete asynchronously (STOMP streams). */
class Inbox {
  private readonly items: Promise<Incoming>[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  push(m: Promise<Incoming> | Incoming): void {
    this.items.push(Promise.resolve(m));
    this.waiters = this.waiters.filter((w) => (this.items.length >= w.n ? (w.resolve(), false) : true));
  }
  async next(n: number): Promise<Incoming[]> {
    if (this.items.length < n) await new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
    return Promise.all(this.items.slice(0, n));
  }
}

/** The Kafka key an AMQP, MQTT or STOMP consumer sees: its `x-kafka-key` header, taken out of the user headers. */
function takeKey(headers: Record<string, string>): Buffer | undefined {
  const k = headers[KEY_HEADER];
  delete headers[KEY_HEADER];
  return k === undefined ? undefined : Buffer.from(k, 'utf8');
}

export function mqttTopic(t: string): string {
  return t.replaceAll('.', '/');
}

// ---------------------------------------------------------------- AMQP (amqplib)

export async function amqpPublisher(ports: Ports, t: string): Promise<Publisher> {
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`, { clientProperties: { connection_name: publisherId(t) } });
  const ch = await conn.createConfirmChannel();
  return {
    async publish(messages) {
      for (const m of messages) {
        const options: amqplib.Options.Publish = m.probe
          ? {
              contentType: P.contentType,
              contentEncoding: P.contentEncoding,
              correlationId: P.correlationId,
              replyTo: P.replyTo,
              messageId: P.messageId,
              type: P.type,
              appId: P.appId,
              userId: P.userId,
              expiration: String(P.expirationMs),
              priority: P.priority,
              persistent: true,
              timestamp: P.timestampMs / 1000,
              headers: { ...P.headers, [KEY_HEADER]: P.key, ...SPOOF },
            }
          : { persistent: m.transient !== true };
        ch.publish('amq.topic', t, m.body, options);
      }
      await ch.waitForConfirms();
    },
    async close() {
      await conn.close();
    },
  };
}

export async function amqpConsumer(ports: Ports, t: string): Promise<Consumer> {
  const conn = await amqplib.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`);
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'amq.topic', `${t}.#`);
  const inbox = new Inbox();
  await ch.consume(
    queue,
    (m) => {
      if (!m) return;
      const p = m.properties;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries((p.headers ?? {}) as Record<string, unknown>)) headers[k] = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
      inbox.push({
        address: m.fields.routingKey,
        body: m.content,
        contentType: p.contentType,
        contentEncoding: p.contentEncoding,
        correlationId: p.correlationId === undefined ? undefined : Buffer.from(String(p.correlationId), 'utf8'),
        replyTo: p.replyTo,
        messageId: p.messageId,
        type: p.type,
        appId: p.appId,
        userId: p.userId,
        expiration: p.expiration === undefined ? undefined : Number(p.expiration),
        priority: p.priority,
        persistent: p.deliveryMode === 2,
        timestamp: p.timestamp === undefined ? undefined : Number(p.timestamp) * 1000,
        headers,
        key: takeKey(headers),
      });
    },
    { noAck: true },
  );
  return { next: (n) => inbox.next(n), close: () => conn.close() };
}

// ---------------------------------------------------------------- MQTT 5 (mqtt.js)

let mqttClientSeq = 0;

export async function mqttPublisher(ports: Ports, t: string): Promise<Publisher> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { protocolVersion: 5, clientId: publisherId(t), username: 'guest', password: 'guest', reconnectPeriod: 0 });
  const topic = `${mqttTopic(t)}/eu`;
  return {
    async publish(messages) {
      // Sent back to back (the window is the broker's Receive Maximum); each resolves on PUBACK.
      await Promise.all(
        messages.map((m) =>
          client.publishAsync(topic, m.body, {
            qos: m.transient ? 0 : 1,
            properties: m.probe
              ? {
                  contentType: P.contentType,
                  responseTopic: P.replyTo,
                  correlationData: Buffer.from(P.correlationId, 'utf8'),
                  messageExpiryInterval: P.expirationMs / 1000,
                  userProperties: { ...P.headers, [KEY_HEADER]: P.key, ...SPOOF },
                }
              : {},
          }),
        ),
      );
    },
    async close() {
      await client.endAsync();
    },
  };
}

export async function mqttConsumer(ports: Ports, t: string): Promise<Consumer> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { protocolVersion: 5, clientId: `mx-sub-${mqttClientSeq++}`, reconnectPeriod: 0 });
  const inbox = new Inbox();
  client.on('message', (topic, payload, packet) => {
    const p = packet.properties ?? {};
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(p.userProperties ?? {})) headers[k] = Array.isArray(v) ? v[0]! : v;
    inbox.push({
      address: topic,
      body: payload,
      contentType: p.contentType,
      correlationId: p.correlationData,
      replyTo: p.responseTopic,
      expiration: p.messageExpiryInterval === undefined ? undefined : p.messageExpiryInterval * 1000,
      persistent: packet.qos > 0,
      headers,
      key: takeKey(headers),
    });
  });
  await client.subscribeAsync(`${mqttTopic(t)}/#`, { qos: 1 });
  return { next: (n) => inbox.next(n), close: () => client.endAsync() };
}

// ---------------------------------------------------------------- STOMP 1.2 (stompit)

function stompConnect(ports: Ports, clientId?: string): Promise<StompitClient> {
  return new Promise((resolve, reject) => {
    const connectHeaders: Record<string, string> = { host: '/', login: 'guest', passcode: 'guest', 'accept-version': '1.2', 'heart-beat': '0,0' };
    if (clientId !== undefined) connectHeaders['client-id'] = clientId;
    stompit.connect(
      { host: '127.0.0.1', port: ports.stomp, connectHeaders },
      (err, client) => {
        if (err) return reject(err);
        client.on('error', () => {});
        resolve(client);
      },
    );
  });
}

function stompDisconnect(client: StompitClient): Promise<void> {
  return new Promise((resolve) => client.disconnect(() => resolve()));
}

/** Frames are handled in order, so a RECEIPT for a later frame means earlier ones took effect. */
function stompBarrier(client: StompitClient): Promise<void> {
  return new Promise((resolve) => client.sendFrame('BEGIN', { transaction: 'barrier' }, { onReceipt: () => {
    client.sendFrame('ABORT', { transaction: 'barrier' }).end();
    resolve();
  } }).end());
}

export async function stompPublisher(ports: Ports, t: string): Promise<Publisher> {
  const client = await stompConnect(ports, publisherId(t));
  return {
    async publish(messages) {
      const receipts: Promise<void>[] = [];
      for (const m of messages) {
        // stompit adds no content-length by itself: without it a NUL in the body ends the frame.
        const headers: Record<string, string> = { destination: `/topic/${t}`, 'content-length': String(m.body.length) };
        if (!m.transient) headers.persistent = 'true';
        if (m.probe) {
          Object.assign(headers, {
            'content-type': P.contentType,
            'content-encoding': P.contentEncoding,
            'correlation-id': P.correlationId,
            'reply-to': P.replyTo,
            'amqp-message-id': P.messageId,
            type: P.type,
            'app-id': P.appId,
            'user-id': P.userId,
            expiration: String(P.expirationMs),
            priority: String(P.priority),
            timestamp: String(P.timestampMs),
            ...P.headers,
            [KEY_HEADER]: P.key,
            ...SPOOF,
          });
        }
        receipts.push(new Promise((resolve) => {
          const w = client.send(headers, { onReceipt: () => resolve() });
          w.write(m.body);
          w.end();
        }));
      }
      await Promise.all(receipts);
    },
    close: () => stompDisconnect(client),
  };
}

/** STOMP frame headers the matrix does not count as user headers. */
const STOMP_FRAME = new Set(['subscription', 'destination', 'message-id', 'redelivered', 'ack', 'content-length', 'content-type', 'content-encoding', 'correlation-id', 'reply-to', 'amqp-message-id', 'expiration', 'priority', 'persistent', 'type', 'user-id', 'app-id', 'timestamp']);

export function stompConsumer(ports: Ports, t: string): Promise<Consumer> {
  return stompSubscriber(ports, { destination: `/topic/${t}.#`, ack: 'auto', id: 'mx' });
}

/** A STOMP subscription with the given SUBSCRIBE headers (e.g. a durable one); resolves once it took effect. */
export async function stompSubscriber(ports: Ports, subscribe: Record<string, string>): Promise<Consumer> {
  const client = await stompConnect(ports);
  const inbox = new Inbox();
  client.subscribe({ ...subscribe }, (err, message) => {
    if (err) return;
    inbox.push(
      new Promise<Incoming>((resolve, reject) => {
        const chunks: Buffer[] = [];
        message.on('data', (c) => chunks.push(c));
        message.on('error', reject);
        message.on('end', () => {
          const h = message.headers;
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(h)) if (!STOMP_FRAME.has(k)) headers[k] = v;
          resolve({
            address: h.destination!,
            body: Buffer.concat(chunks),
            contentType: h['content-type'],
            contentEncoding: h['content-encoding'],
            correlationId: h['correlation-id'] === undefined ? undefined : Buffer.from(h['correlation-id'], 'utf8'),
            replyTo: h['reply-to'],
            messageId: h['amqp-message-id'],
            type: h.type,
            appId: h['app-id'],
            userId: h['user-id'],
            expiration: h.expiration === undefined ? undefined : Number(h.expiration),
            priority: h.priority === undefined ? undefined : Number(h.priority),
            persistent: h.persistent === 'true',
            timestamp: h.timestamp === undefined ? undefined : Number(h.timestamp),
            headers,
            key: takeKey(headers),
          });
        });
      }),
    );
  });
  await stompBarrier(client);
  return { next: (n) => inbox.next(n), close: () => stompDisconnect(client) };
}

// ---------------------------------------------------------------- Kafka (kafkajs)

/** The core's internal header on records that came from other protocols (docs/mapping.md). */
export const META_HEADER = 'x-pb-meta';

export function kafkaClient(ports: Ports): Kafka {
  return new Kafka({ brokers: [`127.0.0.1:${ports.kafka}`], clientId: 'matrix', logLevel: logLevel.NOTHING });
}

export async function ensureTopic(ports: Ports, t: string): Promise<void> {
  const admin = kafkaClient(ports).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: t, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
}

/** A probe's properties as the Kafka record headers of docs/mapping.md. */
function kafkaPropertyHeaders(): Record<string, string> {
  return {
    [KAFKA_HEADERS.contentType]: P.contentType,
    [KAFKA_HEADERS.contentEncoding]: P.contentEncoding,
    [KAFKA_HEADERS.correlationId]: P.correlationId,
    [KAFKA_HEADERS.replyTo]: P.replyTo,
    [KAFKA_HEADERS.messageId]: P.messageId,
    [KAFKA_HEADERS.type]: P.type,
    [KAFKA_HEADERS.appId]: P.appId,
    [KAFKA_HEADERS.expiration]: String(P.expirationMs),
    [KAFKA_HEADERS.priority]: String(P.priority),
  };
}

export async function kafkaPublisher(ports: Ports, t: string): Promise<Publisher> {
  const producer = new Kafka({ brokers: [`127.0.0.1:${ports.kafka}`], clientId: publisherId(t), logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  return {
    async publish(messages) {
      // One request per 200 records keeps each batch under the topic's max message size.
      for (let i = 0; i < messages.length; i += 200) {
        await producer.send({
          topic: t,
          acks: -1,
          messages: messages.slice(i, i + 200).map((m) =>
            m.probe
              ? { key: P.key, value: m.body, headers: { ...P.headers, ...kafkaPropertyHeaders(), ...SPOOF }, timestamp: String(P.timestampMs) }
              : { value: m.body },
          ),
        });
      }
    },
    close: () => producer.disconnect(),
  };
}

let groupSeq = 0;

export async function kafkaConsumer(ports: Ports, t: string): Promise<Consumer> {
  const consumer = kafkaClient(ports).consumer({ groupId: `mx-group-${groupSeq++}`, maxBytesPerPartition: 4 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topic: t, fromBeginning: true });
  const inbox = new Inbox();
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      const headers: Record<string, string> = {};
      const got: Incoming = { address: topic, body: message.value ?? Buffer.alloc(0), timestamp: Number(message.timestamp), headers, key: message.key };
      for (const [k, v] of Object.entries(message.headers ?? ({} as IHeaders))) {
        if (k === META_HEADER) continue;
        const first = Array.isArray(v) ? v[0] : v;
        const bytes = first === undefined ? Buffer.alloc(0) : Buffer.isBuffer(first) ? first : Buffer.from(String(first));
        // The mapped properties arrive as plain record headers (docs/mapping.md "Kafka record headers").
        const prop = (Object.keys(KAFKA_HEADERS) as (keyof typeof KAFKA_HEADERS)[]).find((p) => KAFKA_HEADERS[p] === k);
        if (prop === 'correlationId') got.correlationId = bytes;
        else if (prop === 'expiration' || prop === 'priority') got[prop] = Number(bytes.toString('utf8'));
        else if (prop !== undefined) got[prop] = bytes.toString('utf8');
        else headers[k] = bytes.toString('utf8');
      }
      inbox.push(got);
    },
  });
  return { next: (n) => inbox.next(n), close: () => consumer.disconnect() };
}

export const publishers: Record<Protocol, (ports: Ports, t: string) => Promise<Publisher>> = {
  amqp: amqpPublisher,
  mqtt: mqttPublisher,
  stomp: stompPublisher,
  kafka: kafkaPublisher,
};

export const consumers: Record<Protocol, (ports: Ports, t: string) => Promise<Consumer>> = {
  amqp: amqpConsumer,
  mqtt: mqttConsumer,
  stomp: stompConsumer,
  kafka: kafkaConsumer,
};
