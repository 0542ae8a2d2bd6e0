import type { SchemaObject } from 'ajv';
import type { ConfigSection } from '../section.js';

export const LISTENER_NAMES = ['amqp', 'mqtt', 'stomp', 'kafka', 'http'] as const;
export type ListenerName = (typeof LISTENER_NAMES)[number];

/** The well-known ports of the protocols' reference brokers (ARCHITECTURE.md). */
export const DEFAULT_PORTS: Record<ListenerName, number> = {
  amqp: 5672,
  mqtt: 1883,
  stomp: 61613,
  kafka: 9092,
  http: 15672,
};

export interface ListenerConfig {
  enabled: boolean;
  /** Address to bind; `::` is every IPv4 and IPv6 address (dual-stack). */
  host: string;
  /** 0 picks any free port (the ready line names it). */
  port: number;
}

export type ListenersConfig = Record<ListenerName, ListenerConfig>;

function listenerSchema(name: ListenerName): SchemaObject {
  return {
    type: 'object',
    description: `The ${name} listener.`,
    additionalProperties: false,
    default: {},
    properties: {
      enabled: { type: 'boolean', default: true, description: 'Whether to listen at all.' },
      host: {
        type: 'string',
        minLength: 1,
        default: '::',
        description: 'Address to bind; `::` binds every IPv4 and IPv6 address.',
      },
      port: {
        type: 'integer',
        minimum: 0,
        maximum: 65535,
        default: DEFAULT_PORTS[name],
        description: 'TCP port; 0 takes any free port.',
      },
    },
  };
}

export const listenersSection: ConfigSection = {
  key: 'listeners',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'Where each protocol listens.',
    additionalProperties: false,
    properties: Object.fromEntries(LISTENER_NAMES.map((n) => [n, listenerSchema(n)])),
  },
};
