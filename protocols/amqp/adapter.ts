import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { Core } from '../../src/core/index.js';
import type { AdapterContext, ConnectionOrigin, ProtocolAdapter } from '../../src/listeners/adapter.js';
import { DirectReplyRegistry } from './mapping/direct-reply-to.js';
import { coreAuthenticator, type Authenticate } from './session/auth.js';
import { AmqpConnection, DEFAULT_LIMITS, type AmqpLimits } from './session/connection.js';

export interface AmqpAdapterOptions {
  /** Checks SASL credentials; default: the core's user store. */
  authenticate?: Authenticate;
  /** frame-max, channel-max, heartbeat proposed in connection.tune; handshake timeout. */
  limits?: Partial<AmqpLimits>;
}

const version = (() => {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0';
  }
})();

/** The AMQP 0-9-1 adapter as the broker sees it (src/listeners/adapter.ts). */
export function createAmqpAdapter(core: Core, ctx: AdapterContext, options: AmqpAdapterOptions = {}): ProtocolAdapter {
  const connections = new Set<AmqpConnection>();
  const directReply = new DirectReplyRegistry();
  const cfg = ctx.config?.amqp;
  const fromConfig: Partial<AmqpLimits> = cfg ? { frameMax: cfg.frameMax, channelMax: cfg.channelMax, heartbeatSec: cfg.heartbeat, handshakeTimeoutMs: cfg.handshakeTimeoutMs } : {};
  const limits: AmqpLimits = { ...DEFAULT_LIMITS, ...fromConfig, ...options.limits };
  const envHeartbeat = process.env.POLYBROKER_AMQP_HEARTBEAT;
  if (envHeartbeat !== undefined && options.limits?.heartbeatSec === undefined) limits.heartbeatSec = Number(envHeartbeat);
  let nextId = 1;
  let closing = false;
  const deps = {
    core,
    log: ctx.log,
    authenticate: options.authenticate ?? coreAuthenticator(core),
    limits,
    version,
    directReply,
    maxOutputBytes: ctx.config?.limits.maxConnectionWriteBufferBytes ?? 64 * 1024 * 1024,
    onClosed: (c: AmqpConnection) => connections.delete(c),
  };
  return {
    protocol: 'amqp',
    accept(stream: Duplex, origin: ConnectionOrigin): void {
      if (closing) {
        stream.destroy();
        return;
      }
      if ('setNoDelay' in stream && typeof stream.setNoDelay === 'function') (stream as unknown as { setNoDelay(v: boolean): void }).setNoDelay(true);
      connections.add(new AmqpConnection(stream, origin, deps, nextId++));
    },
    connectionCount: () => connections.size,
    closeOverfull(stream: Duplex): boolean {
      for (const c of connections) {
        if (c.stream !== stream) continue;
        c.closeOverfull();
        return true;
      }
      return false;
    },
    async close(): Promise<void> {
      closing = true;
      await Promise.all([...connections].map((c) => c.shutdown()));
    },
  };
}
