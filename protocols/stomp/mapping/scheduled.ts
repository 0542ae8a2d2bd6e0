/**
 * ActiveMQ's scheduled delivery headers on SEND
 * (https://activemq.apache.org/components/classic/documentation/delay-and-schedule-message-delivery):
 * `AMQ_SCHEDULED_DELAY` (ms before the first delivery), `AMQ_SCHEDULED_PERIOD` (ms between
 * repeats) and `AMQ_SCHEDULED_REPEAT` (extra deliveries). The message is delivered
 * REPEAT + 1 times, at DELAY + i x PERIOD. `AMQ_SCHEDULED_CRON` is not supported.
 */
import { headerValue, MAX_DELAY_MS, type Message } from '../../../src/core/index.js';
import { StompError } from '../errors.js';

/** More copies than this from one SEND are refused (each is a stored message and a timer). */
export const MAX_SCHEDULED_REPEAT = 10_000;

export interface Schedule {
  delayMs: number;
  periodMs: number;
  repeat: number;
}

function intHeader(m: Message, name: string, max: number): number | undefined {
  const v = headerValue(m.headers, name);
  if (v === undefined) return undefined;
  const t = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  if (!/^\d+$/.test(t.trim()) || Number(t) > max) throw new StompError('Invalid header', `${name} must be an integer from 0 to ${max}, got '${t}'`);
  return Number(t);
}

/** The schedule a SEND asks for, or null when it asks for none. */
export function scheduleOf(m: Message): Schedule | null {
  if (m.headers.length === 0) return null;
  if (headerValue(m.headers, 'AMQ_SCHEDULED_CRON') !== undefined) throw new StompError('Not supported', 'AMQ_SCHEDULED_CRON is not supported (use AMQ_SCHEDULED_DELAY, AMQ_SCHEDULED_PERIOD and AMQ_SCHEDULED_REPEAT)');
  const delayMs = intHeader(m, 'AMQ_SCHEDULED_DELAY', MAX_DELAY_MS);
  const periodMs = intHeader(m, 'AMQ_SCHEDULED_PERIOD', MAX_DELAY_MS);
  const repeat = intHeader(m, 'AMQ_SCHEDULED_REPEAT', MAX_SCHEDULED_REPEAT);
  if (delayMs === undefined && periodMs === undefined && repeat === undefined) return null;
  const s: Schedule = { delayMs: delayMs ?? 0, periodMs: periodMs ?? 0, repeat: periodMs ? (repeat ?? 0) : 0 };
  if (s.delayMs + s.repeat * s.periodMs > MAX_DELAY_MS) throw new StompError('Invalid header', 'the last scheduled delivery would be more than a year away');
  return s;
}
