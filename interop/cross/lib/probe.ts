/**
 * What the matrix sends and how it compares what arrives: one "probe" message per publisher with
 * every property that publisher's protocol can set, and a protocol-free view of a received
 * message. `CARRIED` is the property table of docs/mapping.md, as the matrix checks it.
 */

export type Protocol = 'amqp' | 'mqtt' | 'stomp' | 'kafka';
export const PROTOCOLS: readonly Protocol[] = ['amqp', 'mqtt', 'stomp', 'kafka'];

/** One message to publish; `probe` = with every property the publisher can set. */
export interface Outgoing {
  body: Buffer;
  probe: boolean;
  /** Published without persistence (AMQP delivery-mode 1, MQTT QoS 0, no `persistent:true`; Kafka cannot). */
  transient?: boolean;
}

/** A received message in protocol-free terms (undefined = the consumer saw nothing). */
export interface Incoming {
  /** Where the consumer says it came from: AMQP routing key, MQTT topic, STOMP destination, Kafka topic. */
  address: string;
  body: Buffer;
  contentType?: string | undefined;
  contentEncoding?: string | undefined;
  correlationId?: Buffer | undefined;
  replyTo?: string | undefined;
  messageId?: string | undefined;
  type?: string | undefined;
  appId?: string | undefined;
  userId?: string | undefined;
  /** ms (MQTT: the remaining Message Expiry Interval × 1000). */
  expiration?: number | undefined;
  priority?: number | undefined;
  persistent?: boolean | undefined;
  /** ms since the epoch. */
  timestamp?: number | undefined;
  /** User headers as text (repeats: the first). */
  headers: Record<string, string>;
  key?: Buffer | null | undefined;
}

/** The property values every publisher uses (each in its own protocol's terms). */
export const P = {
  contentType: 'application/x-matrix',
  contentEncoding: 'identity-x',
  correlationId: 'corr-Ω-1',
  replyTo: 'matrix.replies',
  messageId: 'mid-1',
  type: 'matrix.probe',
  appId: 'matrix-app',
  /** The user every AMQP and STOMP publisher logs in as: user-id may name only that. */
  userId: 'guest',
  expirationMs: 600_000,
  priority: 5,
  /** Whole seconds, so AMQP's seconds-precision timestamp is exact. */
  timestampMs: 1_700_000_000_000,
  headers: { 'x-h1': 'v1', 'x-h2': 'two words' } as Record<string, string>,
  key: 'key-1',
} as const;

/** The Kafka key as a header, for protocols without a key slot (docs/mapping.md "Kafka key"). */
export const KEY_HEADER = 'x-kafka-key';

/** Publisher identity headers (docs/mapping.md "Publisher identity"). */
export const ORIGIN = { protocol: 'x-pb-origin-protocol', clientId: 'x-pb-origin-client-id', user: 'x-pb-origin-user' } as const;

/** What every probe also claims about its publisher: the broker must not pass it off as the truth. */
export const SPOOF: Record<string, string> = { [ORIGIN.user]: 'mallory', [ORIGIN.protocol]: 'forged' };

/** Client id every publisher connects with for pair t. */
export const publisherId = (t: string) => `pub-${t}`;

/**
 * What a consumer learns about the publisher; the identity is validated on every pair: the
 * publisher's own (forged) `x-pb-origin-*` headers never reach a consumer.
 * - 'stamped': a consumer of another protocol gets the broker's identity headers;
 * - 'none added': a same-protocol consumer gets the publisher's other headers exactly as sent
 *   and no identity headers (byte-exact paths; docs/mapping.md "Publisher identity").
 */
export type Identity = 'stamped' | 'none added';

export function identity(pub: Protocol, con: Protocol): Identity {
  return pub === con ? 'none added' : 'stamped';
}

/** The user the broker stamps: matrix publishers log in as guest, except Kafka (no SASL here: anonymous). */
export const publisherUser = (pub: Protocol) => (pub === 'kafka' ? '' : 'guest');

/** The Kafka record headers of the mapped properties (docs/mapping.md, "Kafka record headers"). */
export const KAFKA_HEADERS = {
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  correlationId: 'correlation-id',
  replyTo: 'reply-to',
  messageId: 'message-id',
  type: 'type',
  appId: 'app-id',
  expiration: 'expiration',
  priority: 'priority',
} as const;

export type Property =
  | 'contentType'
  | 'contentEncoding'
  | 'correlationId'
  | 'replyTo'
  | 'messageId'
  | 'type'
  | 'appId'
  /** AMQP `user-id`, STOMP `user-id`: the broker checks it names the authenticated user. */
  | 'userId'
  | 'expiration'
  | 'priority'
  | 'persistent'
  | 'timestamp'
  /** The consumer sees the broker's receive time (publisher's own timestamp not carried). */
  | 'brokerTimestamp'
  | 'headers'
  | 'key';

/** What a publisher can set at all (`key`: AMQP, MQTT and STOMP through the `x-kafka-key` header). */
const SETS: Record<Protocol, readonly Property[]> = {
  amqp: ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'type', 'appId', 'userId', 'expiration', 'priority', 'persistent', 'timestamp', 'headers', 'key'],
  mqtt: ['contentType', 'correlationId', 'replyTo', 'expiration', 'persistent', 'headers', 'key'],
  stomp: ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'type', 'appId', 'userId', 'expiration', 'priority', 'persistent', 'timestamp', 'headers', 'key'],
  kafka: ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'type', 'appId', 'expiration', 'priority', 'timestamp', 'headers', 'key', 'persistent'],
};

/** What a consumer can see at all (`key`: AMQP, MQTT and STOMP as the `x-kafka-key` header). */
const SEES: Record<Protocol, readonly Property[]> = {
  amqp: ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'type', 'appId', 'userId', 'expiration', 'priority', 'persistent', 'timestamp', 'headers', 'key'],
  mqtt: ['contentType', 'correlationId', 'replyTo', 'expiration', 'persistent', 'headers', 'key'],
  stomp: ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'type', 'appId', 'userId', 'expiration', 'priority', 'persistent', 'timestamp', 'headers', 'key'],
  kafka: ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'type', 'appId', 'expiration', 'priority', 'timestamp', 'headers', 'key'],
};

/**
 * Properties that do not cross although both ends have a slot for them (what the broker does
 * not convert today; docs/mapping.md says why). Key: `${publisher}>${consumer}`.
 */
const NOT_CONVERTED: Record<string, readonly Property[]> = {};

/** The properties the matrix checks for a pair: set by the publisher, seen by the consumer, converted. */
export function carried(pub: Protocol, con: Protocol): Property[] {
  const skip = NOT_CONVERTED[`${pub}>${con}`] ?? [];
  const out: Property[] = SETS[pub].filter((p) => SEES[con].includes(p) && !skip.includes(p));
  // A consumer that has a timestamp but gets none from the publisher sees the broker's time.
  if ((con === 'kafka' || con === 'amqp' || con === 'stomp') && !out.includes('timestamp')) out.push('brokerTimestamp');
  return out;
}

/** Optional properties the consumer has a slot for and must find empty: nothing is invented. */
const SLOTS: readonly Property[] = ['contentType', 'contentEncoding', 'correlationId', 'replyTo', 'messageId', 'type', 'appId', 'userId', 'expiration', 'priority'];

export function absent(pub: Protocol, con: Protocol): Property[] {
  const c = carried(pub, con);
  return SLOTS.filter((p) => SEES[con].includes(p) && !c.includes(p));
}

/** Every property a publisher sets that the consumer does not get (for the report and docs). */
export function lost(pub: Protocol, con: Protocol): Property[] {
  const c = carried(pub, con);
  return SETS[pub].filter((p) => !c.includes(p) && !(p === 'persistent' && con === 'kafka'));
}
