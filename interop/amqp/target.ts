import { startBroker } from '../../test/helpers/broker.js';
import { startAmqpServer } from '../../test/protocols/amqp/harness.js';

/**
 * The polybroker the interop tests drive: the real broker process (test/helpers/broker.ts) by
 * default; with AMQP_INTEROP_IN_PROCESS=1 the AMQP adapter on a real core and store in the test
 * process (test/protocols/amqp/harness.ts), for when the broker process is not runnable.
 */
export interface Target {
  host: string;
  port: number;
  /** SIGKILL and start again on the same data (crash tests); in process: close and reopen. */
  crashRestart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTarget(config?: Record<string, unknown>): Promise<Target> {
  if (process.env.AMQP_INTEROP_IN_PROCESS === '1') {
    const s = await startAmqpServer();
    return { host: '127.0.0.1', port: s.port, crashRestart: () => s.restart(), stop: () => s.close() };
  }
  const b = await startBroker(config ? { config } : {});
  const t: Target = {
    host: '127.0.0.1',
    port: b.ports.amqp,
    async crashRestart() {
      await b.kill();
      await b.restart();
      t.port = b.ports.amqp;
    },
    stop: async () => void (await b.stop()),
  };
  return t;
}
