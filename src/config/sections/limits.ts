import type { ConfigSection } from '../section.js';

export interface LimitsConfig {
  /** Largest message body accepted by any protocol, bytes. */
  maxMessageBytes: number;
  /** RSS above which publishers on every protocol are blocked; bytes, 0 = off. */
  memoryHighWatermarkBytes: number;
  /** Free bytes on the data dir's disk below which publishers are blocked; 0 = off. */
  diskFreeLimitBytes: number;
  /** Open connections on all listeners together; beyond it new ones are closed at accept. */
  maxConnections: number;
  /** Open connections one user may have (all protocols, all vhosts); -1 = unlimited. */
  maxConnectionsPerUser: number;
  /** Time a TLS client has to finish its handshake, ms. */
  tlsHandshakeTimeoutMs: number;
  /** Bytes queued for a connection's socket (a client that does not read) above which the connection is closed. */
  maxConnectionWriteBufferBytes: number;
  /** Ready messages of a queue whose consumer waits on its socket at which its publishers are throttled; 0 = off. */
  flowControlBacklog: number;
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
      maxConnections: { type: 'integer', minimum: 1, default: 10000, description: 'Open connections on all listeners together; a connection beyond it is closed at accept.' },
      maxConnectionsPerUser: { type: 'integer', minimum: -1, default: -1, description: 'Open connections one user may have over all protocols and vhosts; -1 = unlimited.' },
      tlsHandshakeTimeoutMs: { type: 'integer', minimum: 100, default: 10000, description: 'Time a client of a TLS listener has to finish the TLS handshake, ms.' },
      maxConnectionWriteBufferBytes: {
        type: 'integer',
        minimum: 65536,
        default: 64 * MiB,
        description: 'Bytes waiting in one connection\'s socket buffer (a client that does not read) above which the broker closes that connection.',
      },
      flowControlBacklog: {
        type: 'integer',
        minimum: 0,
        default: 2000,
        description:
          'Publisher flow control: a connection that only publishes stops being read while a queue it published to holds this many ready messages and a consumer of it waits on its socket, until the queue is down to half; 0 = off.',
      },
    },
  },
};
