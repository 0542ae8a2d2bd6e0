import { decodeProperties } from '../codec/content-header.js';
import type { FieldTable, FieldValue } from '../codec/field-table.js';
import { encodePropertyBytes } from './message.js';

/**
 * Headers the broker stamps on a delivery (not stored with the message): the property bytes
 * are decoded, the header set, and re-encoded. Only on paths where RabbitMQ adds one.
 */
export function withDeliveryHeader(propertyBytes: Buffer, name: string, value: FieldValue): Buffer {
  const p = decodeProperties(propertyBytes);
  const headers: FieldTable = new Map(p.headers ?? []);
  headers.set(name, value);
  p.headers = headers;
  return encodePropertyBytes(p);
}

/**
 * RabbitMQ 3.10 quorum queues tell how often a message was delivered before in
 * `x-delivery-count` (long): on every basic.get-ok (0 the first time), and on a basic.deliver
 * once the message has been returned at least once.
 */
export function deliveryCountHeader(propertyBytes: Buffer, deliveryCount: number): Buffer {
  return withDeliveryHeader(propertyBytes, 'x-delivery-count', { type: 'l', value: BigInt(deliveryCount) });
}
