import type { ConfigSection } from '../section.js';

export interface NodeConfig {
  /** Where the commit log, indexes and internal logs live; relative paths resolve against the working directory. */
  dataDir: string;
  /** This node's name (the host name when not set); reserved for clustering. */
  nodeId: string;
}

export const nodeSection: ConfigSection = {
  key: 'node',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'This broker node.',
    additionalProperties: false,
    properties: {
      dataDir: {
        type: 'string',
        minLength: 1,
        default: './data',
        description: 'Directory for the commit log, indexes and internal logs (locked while the broker runs).',
      },
      nodeId: {
        type: 'string',
        pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,254}$',
        description: 'Name of this node; defaults to the host name.',
      },
    },
  },
};
