import { startBroker } from '../../../test/helpers/broker.js';
import { startStompServer } from '../../../test/protocols/stomp/harness.js';
import type { StompTarget } from './target.js';

export interface RunningTarget {
  target: StompTarget;
  stop(): Promise<void>;
}

/**
 * polybroker as the interop tests drive it: the real broker process (startBroker), STOMP on its
 * TCP listener and on `/ws` of its HTTP listener. `STOMP_INTEROP_SERVER=inprocess` runs the
 * same adapter, core and store inside the test process instead (test/protocols/stomp/harness.ts),
 * for a checkout whose broker does not wire the engine yet.
 */
export async function startPolybroker(): Promise<RunningTarget> {
  const base = { name: 'polybroker' as const, host: '127.0.0.1', vhost: '/', login: 'guest', passcode: 'guest' };
  if (process.env.STOMP_INTEROP_SERVER === 'inprocess') {
    const s = await startStompServer();
    return { target: { ...base, port: s.port, wsUrl: s.wsUrl, restart: () => s.restart() }, stop: () => s.close() };
  }
  const b = await startBroker();
  const target: StompTarget = { ...base, port: b.ports.stomp, wsUrl: `ws://127.0.0.1:${b.ports.http}/ws` };
  // A restarted broker listens on new port-0 ports: point the target at them.
  target.restart = async () => {
    await b.restart();
    target.port = b.ports.stomp;
    target.wsUrl = `ws://127.0.0.1:${b.ports.http}/ws`;
  };
  return {
    target,
    stop: async () => {
      await b.stop();
    },
  };
}
