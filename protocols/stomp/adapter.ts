import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Core } from '../../src/core/index.js';
import { overfullReason, type AdapterContext, type ConnectionOrigin, type ProtocolAdapter } from '../../src/listeners/adapter.js';
import type { StompConfig } from '../../src/config/sections/stomp.js';
import { coreAuthenticator } from './auth.js';
import { DEFAULT_PARSER_LIMITS } from './codec/parser.js';
import { DEFAULT_HEART_BEAT } from './heart-beat.js';
import { StompError } from './errors.js';
import { StompSession, type StompSessionOptions } from './session.js';
import { VERSION } from '../../src/version.js';

let nextConnId = 1;

/** Idle time before the first TCP keepalive probe. */
const KEEPALIVE_IDLE_MS = 60_000;

/** The `stomp:` config section as session options; built-in defaults without one. */
function optionsFromConfig(core: Core, config: StompConfig | undefined): StompSessionOptions {
  if (config === undefined) {
    return {
      authenticate: coreAuthenticator(core, 'guest'),
      heartBeat: DEFAULT_HEART_BEAT,
      limits: DEFAULT_PARSER_LIMITS,
      serverName: `polybroker/${VERSION}`,
      defaultVhost: '/',
      connectTimeoutMs: 10_000,
      maxTransactions: 64,
      maxTransactionBytes: 67_108_864,
    };
  }
  return {
    authenticate: coreAuthenticator(core, config.defaultUser),
    heartBeat: { minSendMs: config.heartBeatMinMs, minReceiveMs: config.heartBeatMinMs, graceFactor: config.heartBeatGrace },
    limits: { maxHeaderBytes: config.maxHeaderBytes, maxHeaders: config.maxHeaders, maxBodyBytes: config.maxBodyBytes },
    serverName: `polybroker/${VERSION}`,
    defaultVhost: config.defaultVhost,
    connectTimeoutMs: config.connectTimeoutMs,
    maxTransactions: config.maxTransactions,
    maxTransactionBytes: config.maxTransactionBytes,
  };
}

/**
 * The STOMP 1.0/1.1/1.2 adapter (TCP and WebSocket `/ws` with v10/v11/v12.stomp alike: the
 * listener hands over a byte stream either way).
 */
export function createStompAdapter(core: Core, ctx: AdapterContext, overrides: Partial<StompSessionOptions> = {}): ProtocolAdapter {
  const options: StompSessionOptions = { ...optionsFromConfig(core, ctx.config?.stomp), ...overrides };
  const sessions = new Set<StompSession>();
  const maxOutputBytes = ctx.config?.limits.maxConnectionWriteBufferBytes ?? 0;
  const unsubscribeAlarm = core.onAlarm((event) => {
    for (const s of sessions) s.setAlarmBlocked(event.blocked);
  });
  let closing = false;

  return {
    protocol: 'stomp',
    accept(stream: Duplex, origin: ConnectionOrigin): void {
      if (closing) {
        stream.destroy();
        return;
      }
      if (stream instanceof Socket) {
        // Writes are already batched per event-loop turn (FrameOutput): Nagle would only add delay.
        stream.setNoDelay(true);
        // A client that sends DISCONNECT (or anything) and then half-closes still gets its
        // receipts: the session closes our side once it has answered (session.ts 'end').
        stream.allowHalfOpen = true;
        // A client that vanished without a FIN and without heart-beats is found by TCP
        // keepalive, so its unacknowledged messages go back to the queue eventually.
        stream.setKeepAlive(true, KEEPALIVE_IDLE_MS);
      }
      const connId = `stomp-${nextConnId++}`;
      const log = ctx.log.child({ protocol: 'stomp', connId, remote: `${origin.remoteAddress}:${origin.remotePort}`, ws: origin.websocket !== undefined });
      const session = new StompSession(stream, origin, core, options, log, (s) => sessions.delete(s));
      sessions.add(session);
      if (core.blocked) session.setAlarmBlocked(true);
    },
    connectionCount(): number {
      return sessions.size;
    },
    closeOverfull(stream: Duplex): boolean {
      for (const s of sessions) {
        if (s.stream !== stream) continue;
        s.fail(new StompError('Output limit', overfullReason(maxOutputBytes)));
        return true;
      }
      return false;
    },
    async close(): Promise<void> {
      closing = true;
      unsubscribeAlarm();
      await Promise.all([...sessions].map((s) => s.shutdownPolitely('the broker is shutting down')));
    },
  };
}
