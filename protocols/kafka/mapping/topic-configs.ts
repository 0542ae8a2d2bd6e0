/**
 * The topic configs a Kafka client can read and set (Kafka's TopicConfig / LogConfig), with
 * Kafka's defaults and validation. retention.ms and retention.bytes drive the core stream's
 * retention; max.message.bytes and message.timestamp.type are applied by Produce; the rest are
 * stored and returned (cleanup.policy=compact is served by issue 9's compactor).
 */
export type ConfigType = 'boolean' | 'string' | 'int' | 'long' | 'double' | 'list';

/** DescribeConfigs configType codes (KIP-569). */
export const CONFIG_TYPE_CODE: Record<ConfigType, number> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7 };

/** DescribeConfigs configSource codes. */
export const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const;

export interface TopicConfigDef {
  type: ConfigType;
  default: string;
  /** Allowed values (enums), or a numeric lower bound. */
  values?: readonly string[];
  min?: number;
  max?: number;
  doc: string;
}

export const TOPIC_CONFIGS: Record<string, TopicConfigDef> = {
  'cleanup.policy': { type: 'list', default: 'delete', values: ['delete', 'compact'], doc: 'Retention policy for old log segments: delete, compact, or both.' },
  'compression.type': { type: 'string', default: 'producer', values: ['producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'], doc: 'Compression of stored batches; producer keeps what the producer sent.' },
  'delete.retention.ms': { type: 'long', default: '86400000', min: 0, doc: 'How long delete tombstones are kept on compacted topics.' },
  'file.delete.delay.ms': { type: 'long', default: '60000', min: 0, doc: 'Delay before deleting a file from the filesystem.' },
  'flush.messages': { type: 'long', default: '9223372036854775807', min: 1, doc: 'Messages between forced fsyncs (durability comes from the broker durability mode).' },
  'flush.ms': { type: 'long', default: '9223372036854775807', min: 0, doc: 'Time between forced fsyncs (durability comes from the broker durability mode).' },
  'index.interval.bytes': { type: 'int', default: '4096', min: 0, doc: 'Bytes between offset index entries.' },
  'max.compaction.lag.ms': { type: 'long', default: '9223372036854775807', min: 1, doc: 'Maximum time a message stays ineligible for compaction.' },
  'max.message.bytes': { type: 'int', default: '1048588', min: 0, doc: 'Largest record batch size allowed by Produce.' },
  'message.timestamp.type': { type: 'string', default: 'CreateTime', values: ['CreateTime', 'LogAppendTime'], doc: 'Whether record timestamps are the producer\'s or the append time.' },
  'message.timestamp.difference.max.ms': { type: 'long', default: '9223372036854775807', min: 0, doc: 'Maximum difference between a record timestamp and the broker clock.' },
  'min.cleanable.dirty.ratio': { type: 'double', default: '0.5', min: 0, max: 1, doc: 'Dirty ratio above which the log is eligible for compaction.' },
  'min.compaction.lag.ms': { type: 'long', default: '0', min: 0, doc: 'Minimum time a message stays uncompacted.' },
  'min.insync.replicas': { type: 'int', default: '1', min: 1, doc: 'Replicas that must acknowledge acks=all (one node: 1).' },
  'preallocate': { type: 'boolean', default: 'false', values: ['true', 'false'], doc: 'Preallocate segment files.' },
  'retention.bytes': { type: 'long', default: '-1', min: -1, doc: 'Bytes per partition kept before old segments are deleted; -1 unlimited.' },
  'retention.ms': { type: 'long', default: '604800000', min: -1, doc: 'How long records are kept; -1 unlimited.' },
  'segment.bytes': { type: 'int', default: '1073741824', min: 14, doc: 'Segment size (the shared commit log has its own).' },
  'segment.ms': { type: 'long', default: '604800000', min: 1, doc: 'Time after which a segment is rolled.' },
  'unclean.leader.election.enable': { type: 'boolean', default: 'false', values: ['true', 'false'], doc: 'Not applicable on one node.' },
};

/** Checks a config value; returns an error message or null. */
export function topicConfigError(name: string, value: string | null): string | null {
  const def = TOPIC_CONFIGS[name];
  if (!def) return `Unknown topic config name: ${name}`;
  if (value === null) return null;
  switch (def.type) {
    case 'boolean':
      return value === 'true' || value === 'false' ? null : `Invalid value ${value} for configuration ${name}: Expected value to be either true or false`;
    case 'int':
    case 'long':
    case 'double': {
      const n = Number(value);
      if (value.trim() === '' || Number.isNaN(n) || (def.type !== 'double' && !/^-?\d+$/.test(value.trim()))) {
        return `Invalid value ${value} for configuration ${name}: Not a number of type ${def.type.toUpperCase()}`;
      }
      if (def.min !== undefined && n < def.min) return `Invalid value ${value} for configuration ${name}: Value must be at least ${def.min}`;
      if (def.max !== undefined && n > def.max) return `Invalid value ${value} for configuration ${name}: Value must be no more than ${def.max}`;
      return null;
    }
    case 'list':
      return value.split(',').every((v) => def.values!.includes(v.trim()))
        ? null
        : `Invalid value ${value} for configuration ${name}: String must be one of: ${def.values!.join(', ')}`;
    default:
      return def.values && !def.values.includes(value) ? `Invalid value ${value} for configuration ${name}: String must be one of: ${def.values.join(', ')}` : null;
  }
}
