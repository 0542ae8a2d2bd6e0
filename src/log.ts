import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogConfig } from './config/index.js';

export type { Logger };

/**
 * The broker's logger: pino, JSON lines on stdout, or human-readable lines (pino-pretty) when
 * `log.format` is `pretty`, or `auto` on a terminal. Writes are synchronous so the last lines
 * before an exit (a fatal error, the shutdown summary) are never lost.
 */
export function createLogger(config: LogConfig, base: Record<string, unknown> = {}): Logger {
  const usePretty = config.format === 'pretty' || (config.format === 'auto' && process.stdout.isTTY === true);
  const options = { level: config.level, base: { pid: process.pid, ...base } };
  if (usePretty) {
    return pino(options, pretty({ colorize: process.stdout.isTTY === true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,listeners' }));
  }
  return pino(options, pino.destination({ fd: 1, sync: true }));
}

/** A logger for code paths that run before the configuration is known (CLI errors). */
export function bootstrapLogger(): Logger {
  return createLogger({ level: 'info', format: 'auto' });
}
