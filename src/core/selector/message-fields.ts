/**
 * What a selector's identifiers name in a core message: the JMS header fields (as ActiveMQ
 * maps them for STOMP and AMQP, docs/mapping.md) and otherwise the message's headers (AMQP
 * headers, STOMP custom headers, MQTT 5 user properties, Kafka record headers), first
 * occurrence of the name, converted to a selector value.
 */
import type { HeaderValue, Message } from '../message.js';
import type { SelectorValue } from './ast.js';

/** JMS default priority (JMS 1.1 §3.4.10) for messages published without one. */
const JMS_DEFAULT_PRIORITY = 4;

export function headerToSelectorValue(v: HeaderValue | undefined): SelectorValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (v instanceof Date) return v.getTime();
  if (!Array.isArray(v) && v.kind === 'decimal') return v.value / 10 ** v.scale;
  return null;
}

export function jmsField(m: Message, name: string): SelectorValue | undefined {
  switch (name) {
    case 'JMSMessageID': return m.properties.messageId ?? null;
    case 'JMSCorrelationID': {
      const c = m.properties.correlationId;
      return c === undefined ? null : typeof c === 'string' ? c : c.toString('utf8');
    }
    case 'JMSType': return m.properties.type ?? null;
    case 'JMSPriority': return m.properties.priority ?? JMS_DEFAULT_PRIORITY;
    case 'JMSTimestamp': return m.timestamp;
    case 'JMSDeliveryMode': return m.properties.persistent === true ? 'PERSISTENT' : 'NON_PERSISTENT';
    case 'JMSReplyTo': return m.properties.replyTo ?? null;
    case 'JMSExpiration': return m.properties.expiration === undefined ? 0 : m.timestamp + m.properties.expiration;
    default: return undefined;
  }
}

/** The value of identifier `name` in `m`. */
export function messageField(m: Message, name: string): SelectorValue {
  if (name.startsWith('JMS')) {
    const v = jmsField(m, name);
    if (v !== undefined) return v;
  }
  const hs = m.headers;
  for (let i = 0; i < hs.length; i++) if (hs[i]!.name === name) return headerToSelectorValue(hs[i]!.value);
  return null;
}
