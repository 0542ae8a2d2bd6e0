/**
 * Where a half message's check requests go (`x-transaction-check-to`), as an exchange and a
 * routing key. One syntax for every protocol (docs/business.md "Half messages"):
 *   /queue/<q>, /amq/queue/<q>   the queue q (default exchange)
 *   /exchange/<e>[/<rk>]         exchange e with routing key rk
 *   /topic/<rk>                  amq.topic with rk (STOMP's topic, MQTT's topic exchange)
 *   <name>                       the queue <name> (AMQP's default exchange); from an MQTT
 *                                publisher, the MQTT topic <name> (amq.topic, '/' -> '.')
 */
import type { ProtocolName } from '../message.js';

export interface CheckAddress {
  exchange: string;
  routingKey: string;
}

export function parseCheckAddress(address: string, publisher: ProtocolName | 'core' | null): CheckAddress {
  if (address.startsWith('/queue/')) return { exchange: '', routingKey: address.slice('/queue/'.length) };
  if (address.startsWith('/amq/queue/')) return { exchange: '', routingKey: address.slice('/amq/queue/'.length) };
  if (address.startsWith('/topic/')) return { exchange: 'amq.topic', routingKey: address.slice('/topic/'.length) };
  if (address.startsWith('/exchange/')) {
    const rest = address.slice('/exchange/'.length);
    const slash = rest.indexOf('/');
    return slash < 0 ? { exchange: rest, routingKey: '' } : { exchange: rest.slice(0, slash), routingKey: rest.slice(slash + 1) };
  }
  if (publisher === 'mqtt') return { exchange: 'amq.topic', routingKey: address.replace(/\//g, '.') };
  return { exchange: '', routingKey: address };
}
