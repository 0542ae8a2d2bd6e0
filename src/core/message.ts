/**
 * The protocol-independent message (ARCHITECTURE.md, "The core model" and "Properties across
 * protocols"). Adapters build one on publish and read one on delivery; the core converts it to
 * and from Kafka RecordBatch v2 records (see `record-codec.ts`).
 *
 * Same-protocol paths are byte-exact through `native`: an adapter that finds
 * `native.protocol === itself` re-emits `native.bytes` (e.g. the AMQP content-header property
 * list, MQTT 5 property bytes, STOMP header block) and ignores the mapped fields.
 */

export type ProtocolName = 'amqp' | 'mqtt' | 'stomp' | 'kafka';

/** An AMQP decimal (scale = number of decimal digits, value = unscaled integer). */
export interface Decimal {
  readonly kind: 'decimal';
  scale: number;
  value: number;
}

/** A nested table (AMQP field table); ordered, may repeat names. */
export interface HeaderTable {
  readonly kind: 'table';
  entries: Header[];
}

/**
 * A header value, rich enough for every protocol:
 * - AMQP field tables: every field type (bool, ints as number or bigint for 64-bit, float/double
 *   as number, decimal, long/short string as string or Buffer when not UTF-8, timestamp as Date,
 *   arrays, nested tables, void as null);
 * - MQTT 5 user properties: strings (names may repeat);
 * - STOMP headers: strings;
 * - Kafka record headers: Buffer or null.
 */
export type HeaderValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Buffer
  | Date
  | Decimal
  | HeaderTable
  | HeaderValue[];

/** One header. Headers are an ordered list: order and duplicate names are preserved. */
export interface Header {
  name: string;
  value: HeaderValue;
}

/** The properties every protocol shares (ARCHITECTURE.md "Properties across protocols"). */
export interface MessageProperties {
  contentType?: string;
  contentEncoding?: string;
  /** AMQP correlation-id, MQTT 5 correlation data (binary: Buffer), STOMP correlation-id. */
  correlationId?: string | Buffer;
  /** AMQP reply-to, MQTT 5 response topic, STOMP reply-to. */
  replyTo?: string;
  messageId?: string;
  /**
   * Time to live in milliseconds from publish (AMQP `expiration`, MQTT 5 message expiry
   * interval * 1000, STOMP `expires` - now). The core turns it into an absolute deadline; a
   * message past it is never delivered (and is dead-lettered with reason `expired`).
   */
  expiration?: number;
  /** 0..255; used by queues with `x-max-priority`. */
  priority?: number;
  /** AMQP delivery-mode 2, MQTT QoS >= 1, STOMP `persistent:true`. Non-persistent messages are not fsynced. */
  persistent?: boolean;
  type?: string;
  userId?: string;
  appId?: string;
  /**
   * The publisher's own creation time, ms since the epoch (AMQP `timestamp`, whole seconds).
   * `Message.timestamp` is the broker's; this one is kept so a re-encoded AMQP message (CC/BCC,
   * dead-lettered) still carries what the publisher set.
   */
  sentAt?: number;
  /** AMQP `cluster-id` (deprecated in 0-9-1, still carried as set). */
  clusterId?: string;
}

/** A protocol's own encoding of a message's properties, kept for byte-exact same-protocol delivery. */
export interface NativeProperties {
  protocol: ProtocolName;
  bytes: Buffer;
}

/** Who published a message. Set by the core from the publishing connection, never by the publisher. */
export interface MessageOrigin {
  protocol: ProtocolName | 'core';
  /** The connection's client id (MQTT client id, Kafka client.id, AMQP connection name) or ''. */
  clientId: string;
  /** The authenticated user name, or ''. */
  user: string;
  /** The core connection id. */
  connectionId: string;
}

export interface Message {
  body: Buffer;
  /** Kafka record key; also the partitioning key when the message enters a stream. */
  key: Buffer | null;
  /** Milliseconds since the epoch. Adapters set it at publish (Kafka: the record's timestamp). */
  timestamp: number;
  properties: MessageProperties;
  headers: Header[];
  native: NativeProperties | null;
  /** The exchange the message was published to ('' = default exchange). Set by the core on publish. */
  exchange: string;
  /** The routing key it was published with. Set by the core on publish. */
  routingKey: string;
  /** Set by the core on publish from the publishing connection; null for core-internal messages. */
  origin: MessageOrigin | null;
  /**
   * Core-internal, set on the copies a committed Kafka transaction routes to other protocols: the
   * stream record each came from. Stored in the meta header and indexed as a lookup key, so the
   * routing a restart repeats skips copies already stored (see `routeStored`).
   */
  routedFrom?: string;
}

/** Builds a message with defaults: empty headers and properties, now as timestamp, no key. */
export function createMessage(body: Buffer, init: Partial<Omit<Message, 'body'>> = {}): Message {
  return {
    body,
    key: init.key ?? null,
    timestamp: init.timestamp ?? Date.now(),
    properties: init.properties ?? {},
    headers: init.headers ?? [],
    native: init.native ?? null,
    exchange: init.exchange ?? '',
    routingKey: init.routingKey ?? '',
    origin: init.origin ?? null,
  };
}

/** First header with `name` (exact match), or undefined. */
export function headerValue(headers: readonly Header[], name: string): HeaderValue | undefined {
  for (let i = 0; i < headers.length; i++) if (headers[i]!.name === name) return headers[i]!.value;
  return undefined;
}
