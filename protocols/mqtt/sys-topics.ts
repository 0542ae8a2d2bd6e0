import type { MqttAdapter } from './adapter.js';

const VERSION = 'polybroker 0.1.0';

/**
 * `$SYS/broker/...` topics as Mosquitto names them, published retained every interval so a
 * monitoring subscriber gets the latest values at once. `$` topics are not matched by
 * leading wildcards [MQTT-4.7.2-1]: subscribe to `$SYS/#`.
 */
export class SysTopics {
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly adapter: MqttAdapter, intervalMs: number) {
    this.publish();
    this.timer = setInterval(() => this.publish(), intervalMs);
    this.timer.unref();
  }

  publish(): void {
    const a = this.adapter;
    let connected = 0;
    for (const c of a.connections) if (c.state === 'connected') connected++;
    const values: [string, string][] = [
      ['$SYS/broker/version', VERSION],
      ['$SYS/broker/uptime', `${Math.floor((Date.now() - a.startedAt) / 1000)} seconds`],
      ['$SYS/broker/clients/connected', String(connected)],
      ['$SYS/broker/clients/total', String(a.sessions.size)],
      ['$SYS/broker/messages/received', String(a.stats.messagesReceived)],
      ['$SYS/broker/messages/sent', String(a.stats.messagesSent)],
      ['$SYS/broker/subscriptions/count', String(a.subscriptionCount())],
      ['$SYS/broker/retained messages/count', String(a.retained.size)],
    ];
    for (const [topic, value] of values) {
      try {
        a.publishSystem(topic, value);
      } catch (e) {
        a.log.debug({ err: (e as Error).message }, '$SYS publish');
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
