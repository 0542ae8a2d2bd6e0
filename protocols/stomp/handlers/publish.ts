import type { Message } from '../../../src/core/index.js';
import { StompError } from '../errors.js';
import type { SendTarget } from '../mapping/send-target.js';
import type { StompSession } from '../session.js';
import { scheduleOf, type Schedule } from '../mapping/scheduled.js';

/**
 * Publishes one message on the session's publisher channel and returns the promise a RECEIPT
 * waits for (`confirm`: the client asked for a RECEIPT). A message a queue refuses (x-overflow
 * reject-publish) is an ERROR when the client asked to know, and is dropped otherwise.
 */
export function publish(session: StompSession, target: SendTarget, message: Message, confirm: boolean): Promise<void> | undefined {
  const schedule = scheduleOf(message);
  if (schedule !== null) return publishScheduled(session, target, message, schedule, confirm);
  const result = session.publisher!.publish(target.exchange, target.routingKey, message);
  session.notePublished();
  if (result.status === 'rejected' && confirm) {
    throw new StompError('Message rejected', `a destination of ${target.exchange === '' ? 'queue' : 'exchange'} '${target.exchange || target.routingKey}' refused the message (x-overflow reject-publish)`);
  }
  return confirm ? result.durable : undefined;
}

/** AMQ_SCHEDULED_*: one delayed publish per scheduled delivery (mapping/scheduled.ts). */
function publishScheduled(session: StompSession, target: SendTarget, message: Message, s: Schedule, confirm: boolean): Promise<void> | undefined {
  const durables: Promise<void>[] = [];
  for (let i = 0; i <= s.repeat; i++) {
    const delayMs = s.delayMs + i * s.periodMs;
    const m = i === s.repeat ? message : { ...message, headers: message.headers.slice(), properties: { ...message.properties } };
    const r = session.publisher!.publish(target.exchange, target.routingKey, m, delayMs > 0 ? { delayMs } : undefined);
    durables.push(r.durable);
  }
  session.notePublished();
  return confirm ? Promise.all(durables).then(() => undefined) : undefined;
}
