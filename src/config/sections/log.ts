import type { ConfigSection } from '../section.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LogConfig {
  level: LogLevel;
  format: LogFormat;
}

export const logSection: ConfigSection = {
  key: 'log',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'Logging (pino).',
    additionalProperties: false,
    properties: {
      level: { enum: [...LOG_LEVELS], default: 'info', description: 'Lowest level written.' },
      format: {
        enum: ['auto', 'pretty', 'json'],
        default: 'auto',
        description: '`pretty` is human-readable, `json` one JSON object per line, `auto` pretty on a terminal and JSON otherwise.',
      },
    },
  },
};
