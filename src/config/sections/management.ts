import type { ConfigSection } from '../section.js';

export interface ManagementConfig {
  /** Whether `/metrics` needs HTTP basic auth of a user tagged monitoring or administrator. */
  metricsAuthentication: boolean;
}

/** `management:` — the HTTP listener's management side (docs/management.md). */
export const managementSection: ConfigSection = {
  key: 'management',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'Management HTTP API, web UI and metrics (docs/management.md).',
    additionalProperties: false,
    properties: {
      metricsAuthentication: {
        type: 'boolean',
        default: false,
        description: 'Require HTTP basic auth of a user tagged monitoring or administrator on /metrics (default off, as RabbitMQ\'s prometheus plugin).',
      },
    },
  },
};
