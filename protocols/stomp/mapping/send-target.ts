import { StompError } from '../errors.js';
import { parseDestination } from './destination.js';

/** Where a SEND publishes: an exchange and routing key, and a `/queue/` to declare on first use. */
export interface SendTarget {
  exchange: string;
  routingKey: string;
  /** `/queue/<name>`: declared (durable) the first time this session sends to it, as RabbitMQ does. */
  declareQueue: string | null;
}

export function sendTargetOf(destination: string): SendTarget {
  const d = parseDestination(destination);
  switch (d.kind) {
    case 'queue':
      return { exchange: '', routingKey: d.name, declareQueue: d.name };
    case 'amq-queue':
    case 'reply-queue':
      return { exchange: '', routingKey: d.name, declareQueue: null };
    case 'topic':
      return { exchange: 'amq.topic', routingKey: d.routingKey, declareQueue: null };
    case 'exchange':
      return { exchange: d.exchange, routingKey: d.routingKey ?? '', declareQueue: null };
    case 'temp-queue':
      throw new StompError(
        'Unknown destination',
        `'${destination}': /temp-queue/ destinations are valid in reply-to only; send replies to the /reply-queue/ the MESSAGE's reply-to names`,
      );
  }
}
