import { randomBytes } from 'node:crypto';

/** A STOMP broker the same client scripts run against: polybroker, RabbitMQ or ActiveMQ. */
export interface StompTarget {
  name: 'polybroker' | 'rabbitmq' | 'activemq';
  host: string;
  port: number;
  /** ws://host:port/ws for STOMP over WebSocket, when the broker offers it. */
  wsUrl?: string;
  vhost: string;
  login: string;
  passcode: string;
  /** Restarts the broker keeping its data (polybroker only). */
  restart?: () => Promise<void>;
}

/** A name no earlier run used, so scenarios can rerun against long-lived peers. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Resolves when `check()` holds, polling on events the caller already awaits (no timers as sync). */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Rejects after `ms` with a message naming what was awaited: a hung scenario fails instead of blocking. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}
