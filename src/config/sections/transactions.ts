import type { ConfigSection } from '../section.js';

export interface TransactionsConfig {
  /** Before the first check request of an unresolved half message, ms. */
  timeoutMs: number;
  /** Between check requests, ms. */
  checkIntervalMs: number;
  /** Check requests before the half message is given up. */
  maxChecks: number;
  /** What giving up does. */
  onExhausted: 'rollback' | 'dead-letter';
  /** Exchange that receives given-up half messages with onExhausted dead-letter. */
  deadLetterExchange?: string;
}

/** Transactional half messages with check-back (docs/business.md "Half messages"; RocketMQ's defaults). */
export const transactionsSection: ConfigSection = {
  key: 'transactions',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'Transactional half messages: when the broker asks the producer back, how often, and what it does at the end.',
    additionalProperties: false,
    properties: {
      timeoutMs: { type: 'integer', minimum: 1, default: 6000, description: 'Time after a half message is stored before the first check request, in ms (RocketMQ: 6 s).' },
      checkIntervalMs: { type: 'integer', minimum: 1, default: 60_000, description: 'Time between check requests, in ms (RocketMQ: 60 s).' },
      maxChecks: { type: 'integer', minimum: 0, default: 15, description: 'Check requests before the half message is given up (RocketMQ: 15).' },
      onExhausted: { type: 'string', enum: ['rollback', 'dead-letter'], default: 'rollback', description: 'Roll the half message back or dead-letter it after the last check.' },
      deadLetterExchange: { type: 'string', description: 'Exchange of dead-lettered half messages (their routing key is kept); needed for onExhausted dead-letter.' },
    },
  },
};
