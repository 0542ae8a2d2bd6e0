import type { MessageOrigin } from './message.js';

type Origin = MessageOrigin['protocol'];

/**
 * Messages into and out of the broker per protocol, for management and metrics. Plain
 * integer fields (no Map lookup on the hot path): publishes count where a channel publishes
 * or a Kafka producer produces, deliveries where a queue or stream hands one out (push or
 * get) and where a Kafka fetch serves records.
 */
export class MessageCounts {
  readonly published: Record<Origin, number> = { amqp: 0, mqtt: 0, stomp: 0, kafka: 0, core: 0 };
  readonly delivered: Record<Origin, number> = { amqp: 0, mqtt: 0, stomp: 0, kafka: 0, core: 0 };
}
