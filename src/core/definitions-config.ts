/**
 * The `vhosts:` section of polybroker.yaml, as parsed and validated against
 * `config-schema.ts`. Applied idempotently at start by `applyVhostDefinitions`.
 *
 * ```yaml
 * vhosts:
 *   /:
 *     durability: sync
 *     limits: { maxConnections: 1000, maxQueues: 100000 }
 *     exchanges: [{ name: events, type: topic }]
 *     queues:    [{ name: orders, durable: true, arguments: { x-max-length: 1000 } }]
 *     streams:   [{ name: clicks, partitions: 6, retentionMs: 86400000 }]
 *     bindings:  [{ source: events, destination: orders, destinationType: queue, routingKey: "order.#" }]
 *     policies:  [{ name: ttl, pattern: "^tmp\\.", applyTo: queues, priority: 1, definition: { message-ttl: 60000 } }]
 * ```
 */
import type { Arguments, DestinationKind, DurabilityMode, ExchangeType, PolicyTarget, VhostLimits } from './api.js';

export interface ExchangeDefinition {
  name: string;
  type: ExchangeType;
  durable?: boolean;
  autoDelete?: boolean;
  internal?: boolean;
  arguments?: Arguments;
}

export interface QueueDefinition {
  name: string;
  durable?: boolean;
  autoDelete?: boolean;
  durability?: DurabilityMode;
  arguments?: Arguments;
}

export interface StreamDefinition {
  name: string;
  partitions?: number;
  retentionMs?: number;
  retentionBytes?: number;
  durability?: DurabilityMode;
  bindToTopicExchange?: boolean;
  config?: Record<string, string>;
}

export interface BindingDefinition {
  source: string;
  destination: string;
  destinationType?: DestinationKind;
  routingKey?: string;
  arguments?: Arguments;
}

export interface PolicyDefinition {
  name: string;
  pattern: string;
  applyTo?: PolicyTarget;
  priority?: number;
  definition: Arguments;
}

export interface VhostDefinition {
  durability?: DurabilityMode;
  limits?: VhostLimits;
  exchanges?: ExchangeDefinition[];
  queues?: QueueDefinition[];
  streams?: StreamDefinition[];
  bindings?: BindingDefinition[];
  policies?: PolicyDefinition[];
}

/** vhost name -> definition. */
export type VhostsSection = Record<string, VhostDefinition>;
