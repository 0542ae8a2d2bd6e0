import type { SchemaObject } from 'ajv';
import type { ConfigSection } from '../section.js';

export const LISTENER_NAMES = ['amqp', 'mqtt', 'stomp', 'kafka', 'http', 'amqps', 'mqtts', 'stomps', 'kafkas', 'https'] as const;
export type ListenerName = (typeof LISTENER_NAMES)[number];

/** TLS listeners and the plain protocol each serves (their certificates: the `tls:` section). */
export const TLS_LISTENERS = { amqps: 'amqp', mqtts: 'mqtt', stomps: 'stomp', kafkas: 'kafka', https: 'http' } as const;
export type TlsListenerName = keyof typeof TLS_LISTENERS;

export function isTlsListener(name: ListenerName): name is TlsListenerName {
  return name in TLS_LISTENERS;
}

/** The protocol a listener serves: `amqps` serves `amqp`. */
export function listenerProtocol(name: ListenerName): 'amqp' | 'mqtt' | 'stomp' | 'kafka' | 'http' {
  return isTlsListener(name) ? TLS_LISTENERS[name] : (name as 'amqp' | 'mqtt' | 'stomp' | 'kafka' | 'http');
}

/** The well-known ports of the protocols' reference brokers (ARCHITECTURE.md). */
export const DEFAULT_PORTS: Record<ListenerName, number> = {
  amqp: 5672,
  mqtt: 1883,
  stomp: 61613,
  kafka: 9092,
  http: 15672,
  amqps: 5671,
  mqtts: 8883,
  stomps: 61614,
  kafkas: 9093,
  https: 15671,
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
      enabled: {
        type: 'boolean',
        default: !(name in TLS_LISTENERS),
        description: name in TLS_LISTENERS ? 'Whether to listen (TLS listeners are off until enabled; they need tls.cert and tls.key).' : 'Whether to listen at all.',
      },
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
