import type { ConfigSection } from '../section.js';

export interface LimitsConfig {
  /** Largest message body accepted by any protocol, bytes. */
  maxMessageBytes: number;
  /** RSS above which publishers on every protocol are blocked; bytes, 0 = off. */
  memoryHighWatermarkBytes: number;
  /** Free bytes on the data dir's disk below which publishers are blocked; 0 = off. */
  diskFreeLimitBytes: number;
}

const MiB = 1024 * 1024;

/** Resource limits and the alarms that block publishers (RabbitMQ's vm_memory_high_watermark and disk_free_limit). */
export const limitsSection: ConfigSection = {
  key: 'limits',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'Resource limits and alarms.',
    additionalProperties: false,
    properties: {
      maxMessageBytes: {
        type: 'integer',
        minimum: 1,
        maximum: 512 * MiB,
        default: 128 * MiB,
        description: 'Largest message body accepted by any protocol, in bytes (RabbitMQ: 128 MiB).',
      },
      memoryHighWatermarkBytes: {
        type: 'integer',
        minimum: 0,
        default: 0,
        description: 'Resident memory above which the memory alarm blocks publishers on every protocol; 0 = off.',
      },
      diskFreeLimitBytes: {
        type: 'integer',
        minimum: 0,
        default: 50 * 1000 * 1000,
        description: "Free space on the data dir's disk below which the disk alarm blocks publishers; 0 = off (RabbitMQ: 50 MB).",
      },
    },
  },
};
