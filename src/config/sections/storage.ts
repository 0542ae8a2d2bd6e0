import type { ConfigSection } from '../section.js';

export type DurabilityMode = 'sync' | 'interval' | 'none';

export interface StorageConfig {
  segmentBytes: number;
  durability: DurabilityMode;
  intervalMs: number;
  /** Default stream retention by age; -1 keeps forever. */
  retentionMs: number;
  /** Default stream retention by size per partition; -1 is unlimited. */
  retentionBytes: number;
}

const MiB = 1024 * 1024;

export const storageSection: ConfigSection = {
  key: 'storage',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'The shared commit log.',
    additionalProperties: false,
    properties: {
      segmentBytes: {
        type: 'integer',
        minimum: 64 * 1024,
        maximum: 2 ** 31 - 1,
        default: 128 * MiB,
        description: 'Size of one commit-log segment file in bytes.',
      },
      durability: {
        enum: ['sync', 'interval', 'none'],
        default: 'sync',
        description:
          'When an append counts as durable: `sync` fsyncs before acknowledging (group commit), `interval` fsyncs every intervalMs, `none` leaves it to the OS.',
      },
      intervalMs: {
        type: 'integer',
        minimum: 1,
        maximum: 60_000,
        default: 100,
        description: 'fsync period of `interval` durability, in ms (the bound on loss after a crash).',
      },
      retentionMs: {
        type: 'integer',
        minimum: -1,
        default: 7 * 24 * 3600 * 1000,
        description: 'Default stream retention by age in ms; -1 keeps forever.',
      },
      retentionBytes: {
        type: 'integer',
        minimum: -1,
        default: -1,
        description: 'Default stream retention by size per partition in bytes; -1 is unlimited.',
      },
    },
  },
};
