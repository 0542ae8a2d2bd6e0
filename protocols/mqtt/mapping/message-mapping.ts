import { createMessage, type Delivery, type Header, type HeaderValue, type Message } from '../../../src/core/index.js';
import type { PublishPacket, QoS } from '../codec/packets.js';
import { encodeProperties, stripForwardedProperties, withoutUserProperties, type MqttProperties } from '../codec/properties.js';
import { decodeNative, encodeNative, type MqttNative } from './native.js';
import { routingKeyToTopic } from './topic-mapping.js';

/**
 * MQTT PUBLISH ↔ core Message (docs/mqtt.md "Properties"):
 *
 * | MQTT 5                     | core Message                         |
 * | ---                        | ---                                  |
 * | QoS ≥ 1                    | properties.persistent                |
 * | Message Expiry Interval    | properties.expiration (s → ms)       |
 * | Content Type               | properties.contentType               |
 * | Response Topic             | properties.replyTo                   |
 * | Correlation Data           | properties.correlationId (Buffer)    |
 * | User Properties            | headers (ordered, names may repeat)  |
 * | everything (byte-exact)    | native {protocol: 'mqtt'}            |
 */
export function publishToMessage(p: PublishPacket, topic: string, now: number): Message {
  const props = p.properties;
  const { userProperties, raw: forwarded } = withoutPublisherIdentity(props?.userProperties, p.propertiesRaw ? stripForwardedProperties(p.propertiesRaw) : null);
  const native: MqttNative = {
    qos: p.qos, retain: p.retain, replay: false, topic: null,
    // Copy: the received chunk must not stay pinned by a stored message.
    properties: forwarded && forwarded.length > 0 ? Buffer.from(forwarded) : null,
  };
  const msg = createMessage(p.payload.length > 0 ? Buffer.from(p.payload) : p.payload, {
    timestamp: now,
    native: { protocol: 'mqtt', bytes: encodeNative(native) },
  });
  void topic;
  msg.properties.persistent = p.qos > 0;
  if (props) {
    if (props.messageExpiryInterval !== undefined) msg.properties.expiration = props.messageExpiryInterval * 1000;
    if (props.contentType !== undefined) msg.properties.contentType = props.contentType;
    if (props.responseTopic !== undefined) msg.properties.replyTo = props.responseTopic;
    if (props.correlationData !== undefined) msg.properties.correlationId = props.correlationData;
    if (userProperties && userProperties.length > 0) msg.headers = userProperties.map(([name, value]) => ({ name, value }));
  }
  return msg;
}

/** What a delivery looks like to MQTT, before the subscription decides QoS and RETAIN. */
export interface DeliveredMessage {
  topic: string;
  qos: QoS;
  retain: boolean;
  replay: boolean;
  /** MQTT 5 properties to forward (without expiry, alias, subscription ids), encoded. */
  properties: Buffer | null;
  payload: Buffer;
  /** Publisher's client id when it was an MQTT client (no-local). */
  publisherClientId: string | null;
}

export function deliveryToMqtt(d: Delivery): DeliveredMessage {
  const m = d.message;
  if (m.native && m.native.protocol === 'mqtt') {
    const n = decodeNative(m.native.bytes);
    return {
      topic: n.topic ?? routingKeyToTopic(m.routingKey),
      qos: n.qos,
      retain: n.retain,
      replay: n.replay,
      properties: n.properties,
      payload: m.body,
      publisherClientId: m.origin && m.origin.protocol === 'mqtt' ? m.origin.clientId : null,
    };
  }
  // From another protocol: convert the common properties (lazily, only here).
  const props: MqttProperties = {};
  const p = m.properties;
  if (p.contentType !== undefined) props.contentType = p.contentType;
  if (p.replyTo !== undefined) props.responseTopic = p.replyTo;
  if (p.correlationId !== undefined) props.correlationData = Buffer.isBuffer(p.correlationId) ? p.correlationId : Buffer.from(p.correlationId);
  const pairs: [string, string][] = [];
  for (const h of m.headers) {
    if (h.name.startsWith(PUBLISHER_PREFIX)) continue;
    const v = headerToString(h.value);
    if (v !== null) pairs.push([h.name, v]);
  }
  // Who published it, as the broker knows it (docs/mapping.md "Publisher identity"); the
  // publisher's own user properties of these names were dropped above. An MQTT message the
  // core re-encoded (dead-lettered) is no cross-protocol delivery: no identity is added.
  const o = m.origin;
  if (o && o.protocol !== 'core' && o.protocol !== 'mqtt') pairs.push(['x-pb-origin-protocol', o.protocol], ['x-pb-origin-client-id', o.clientId], ['x-pb-origin-user', o.user]);
  if (pairs.length > 0) props.userProperties = pairs;
  const encoded = encodeProperties(props);
  const topic = m.exchange === '' ? m.routingKey : routingKeyToTopic(m.routingKey);
  return {
    topic,
    qos: p.persistent ? 1 : 0,
    retain: false,
    replay: false,
    properties: encoded.length > 0 ? encoded : null,
    payload: m.body,
    publisherClientId: null,
  };
}

const PUBLISHER_PREFIX = 'x-pb-origin-';

function isPublisherIdentity(u: readonly [string, string]): boolean {
  return u[0].startsWith(PUBLISHER_PREFIX);
}

/**
 * A publisher's own x-pb-origin-* user properties reach no consumer, MQTT ones included
 * (docs/mapping.md "Publisher identity"): the user properties and the property bytes to store
 * without them. The bytes are rewritten only when there is one (the same objects otherwise).
 */
export function withoutPublisherIdentity(userProperties: [string, string][] | undefined, raw: Buffer | null): { userProperties: [string, string][] | undefined; raw: Buffer | null } {
  if (userProperties === undefined || !userProperties.some(isPublisherIdentity)) return { userProperties, raw };
  return {
    userProperties: userProperties.filter((u) => !isPublisherIdentity(u)),
    raw: raw && withoutUserProperties(raw, (name) => name.startsWith(PUBLISHER_PREFIX)),
  };
}

function headerToString(v: HeaderValue): string | null {
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return null;
}

/** A stored retained message re-sent to one session queue: RETAIN=1 and the topic carried along. */
export function replayMessage(stored: Message, topic: string): Message {
  const n: MqttNative = stored.native && stored.native.protocol === 'mqtt'
    ? { ...decodeNative(stored.native.bytes), replay: true, topic }
    : { qos: stored.properties.persistent ? 1 : 0, retain: true, replay: true, topic, properties: null };
  return createMessage(stored.body, {
    timestamp: stored.timestamp,
    properties: { ...stored.properties },
    headers: stored.headers as Header[],
    native: { protocol: 'mqtt', bytes: encodeNative(n) },
  });
}
