/**
 * JSON Schema (draft-07, ajv) fragment for the `vhosts:` section of polybroker.yaml; the config
 * loader merges it as `properties.vhosts`. Shape: `definitions-config.ts`.
 */
const durability = { type: 'string', enum: ['sync', 'interval', 'none'] } as const;
const args = { type: 'object', additionalProperties: true } as const;

export const vhostsSchema = {
  type: 'object',
  description: 'Virtual hosts by name, each with declarative definitions applied idempotently at start.',
  additionalProperties: {
    type: 'object',
    additionalProperties: false,
    properties: {
      durability,
      limits: {
        type: 'object',
        additionalProperties: false,
        properties: {
          maxConnections: { type: 'integer', minimum: -1 },
          maxQueues: { type: 'integer', minimum: -1 },
        },
      },
      exchanges: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'type'],
          properties: {
            name: { type: 'string', minLength: 1 },
            type: { type: 'string', enum: ['direct', 'fanout', 'topic', 'headers', 'x-delayed-message'] },
            durable: { type: 'boolean' },
            autoDelete: { type: 'boolean' },
            internal: { type: 'boolean' },
            arguments: args,
          },
        },
      },
      queues: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1 },
            durable: { type: 'boolean' },
            autoDelete: { type: 'boolean' },
            durability,
            arguments: args,
          },
        },
      },
      streams: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1 },
            partitions: { type: 'integer', minimum: 1 },
            retentionMs: { type: 'integer', minimum: -1 },
            retentionBytes: { type: 'integer', minimum: -1 },
            durability,
            bindToTopicExchange: { type: 'boolean' },
            config: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
      },
      bindings: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['source', 'destination'],
          properties: {
            source: { type: 'string' },
            destination: { type: 'string', minLength: 1 },
            destinationType: { type: 'string', enum: ['queue', 'exchange', 'stream'] },
            routingKey: { type: 'string' },
            arguments: args,
          },
        },
      },
      policies: {
        type: 'array',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'pattern', 'definition'],
          properties: {
            name: { type: 'string', minLength: 1 },
            pattern: { type: 'string' },
            applyTo: { type: 'string', enum: ['queues', 'streams', 'exchanges', 'all'] },
            priority: { type: 'integer' },
            definition: args,
          },
        },
      },
    },
  },
} as const;
