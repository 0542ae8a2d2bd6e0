import type { MqttConfig } from '../../src/config/sections/mqtt.js';

/** The adapter's settings: the `mqtt:` config section (src/config/sections/mqtt.ts) plus internals. */
export interface MqttOptions extends MqttConfig {
  /** In-flight window towards 3.1/3.1.1 clients (5.0 clients announce their Receive Maximum). */
  outboundInflight311: number;
  /** Keepalive (and connect timeout) deadline check period, ms. */
  keepAliveCheckMs: number;
}

export const DEFAULT_MQTT_OPTIONS: MqttOptions = {
  vhost: '/',
  allowAnonymous: true,
  users: [],
  maxPacketSize: 268435460,
  receiveMaximum: 1024,
  topicAliasMaximum: 1024,
  maxKeepAlive: 0,
  sessionExpiryMax: 0xffffffff,
  sysIntervalMs: 10000,
  retainAvailable: true,
  outboundInflight311: 1000,
  keepAliveCheckMs: 250,
  connectTimeoutMs: 30_000,
};

export function resolveOptions(config: Partial<MqttConfig> | undefined, overrides: Partial<MqttOptions> = {}): MqttOptions {
  return { ...DEFAULT_MQTT_OPTIONS, ...(config ?? {}), ...overrides };
}
