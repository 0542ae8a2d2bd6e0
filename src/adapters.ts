import type { AdapterFactory, ProtocolAdapter } from './listeners/adapter.js';
import { createAmqpAdapter } from '../protocols/amqp/adapter.js';
import { createKafkaAdapter } from '../protocols/kafka/adapter.js';
import { createMqttAdapter } from '../protocols/mqtt/adapter.js';
import { createStompAdapter } from '../protocols/stomp/adapter.js';

/**
 * Protocol adapters by listener name. Each adapter engineer adds one line here when their
 * adapter works, e.g. `amqp: createAmqpAdapter,`. A listener whose protocol has no entry
 * still binds its port and closes every connection it accepts (logged).
 */
export const ADAPTERS: Partial<Record<ProtocolAdapter['protocol'], AdapterFactory>> = {
  amqp: createAmqpAdapter,
  kafka: createKafkaAdapter,
  mqtt: createMqttAdapter,
  stomp: createStompAdapter,
};
