import type { BrokerConfig, ListenerName } from '../config/index.js';
import type { Core } from '../core/index.js';
import type { RateSampler } from './rate-sampler.js';
import type { Authenticate } from './principal.js';

export type ProtocolKey = 'amqp' | 'mqtt' | 'stomp' | 'kafka';

/** Bytes a protocol's sockets read and wrote since start (open and closed ones). */
export interface ProtocolBytes {
  received: number;
  sent: number;
}

/** What a config reload changed (or why it changed nothing). */
export interface ReloadReport {
  ok: boolean;
  /** Validation or apply error; nothing was changed when `ok` is false and `changes` is empty. */
  error?: string;
  changes: string[];
}

/** What the management API, metrics and the control socket need from the running broker. */
export interface ManagementContext {
  core: Core;
  config(): BrokerConfig;
  nodeName: string;
  version: string;
  startedAt: number;
  dataDir: string;
  listeners(): ReadonlyMap<ListenerName, { host: string; port: number }>;
  /** Open network connections per protocol as the adapters count them (including not yet authenticated ones). */
  adapterConnections(): Partial<Record<ProtocolKey, number>>;
  bytes(): Record<ProtocolKey, ProtocolBytes>;
  sampler: RateSampler;
  authenticate: Authenticate;
  /** Re-reads the config file and applies it (`ctl reload`, SIGHUP, `POST /api/reload`). */
  reload(): Promise<ReloadReport>;
}
