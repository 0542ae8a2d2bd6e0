import { hostname } from 'node:os';
import { table, type FieldTable } from '../codec/field-table.js';

/**
 * What connection.start advertises. The capabilities are the ones RabbitMQ 3.x sends: clients
 * switch features on from them (amqplib and pika check consumer_cancel_notify,
 * connection.blocked, authentication_failure_close, ...).
 */
export const SERVER_CAPABILITIES = {
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  'basic.nack': true,
  consumer_cancel_notify: true,
  'connection.blocked': true,
  consumer_priorities: true,
  authentication_failure_close: true,
  per_consumer_qos: true,
  direct_reply_to: true,
} as const;

export function serverProperties(version: string): FieldTable {
  return table({
    capabilities: table(SERVER_CAPABILITIES),
    cluster_name: `polybroker@${hostname()}`,
    copyright: 'Copyright (c) polybroker authors',
    information: 'Licensed under the Apache License 2.0',
    platform: `Node.js ${process.version}`,
    product: 'polybroker',
    version,
  });
}
