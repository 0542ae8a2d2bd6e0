/**
 * Which streams a Kafka client sees as what. Kafka's own internal topics that we have
 * (`__transaction_state`; consumer offsets live in the core, so there is no `__consumer_offsets`)
 * are listed as Kafka lists them, with isInternal=true, to users who may describe them (clients
 * leave them out of pattern subscriptions and topic listings). `__producer_snapshots` is this
 * broker's own (producer-state snapshots) and Kafka has no such topic: Kafka clients never see
 * it (Metadata leaves it out and answers UNKNOWN_TOPIC_OR_PARTITION for it; it cannot be
 * created or deleted through Kafka).
 */
import { PRODUCER_SNAPSHOTS } from '../producers/producer-snapshots.js';
import { TRANSACTION_LOG } from '../transactions/transaction-log.js';

export function isInternalTopic(name: string): boolean {
  return name === TRANSACTION_LOG;
}

export function isHiddenTopic(name: string): boolean {
  return name === PRODUCER_SNAPSHOTS;
}
