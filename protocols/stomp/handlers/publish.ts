import type { Message } from '../../../src/core/index.js';
import { StompError } from '../errors.js';
import type { SendTarget } from '../mapping/send-target.js';
import type { StompSession } from '../session.js';

/**
 * Publishes one message on the session's publisher channel and returns the promise a RECEIPT
 * waits for (`confirm`: the client asked for a RECEIPT). A message a queue refuses (x-overflow
 * reject-publish) is an ERROR when the client asked to know, and is dropped otherwise.
 */
export function publish(session: StompSession, target: SendTarget, message: Message, confirm: boolean): Promise<void> | undefined {
  const result = session.publisher!.publish(target.exchange, target.routingKey, message);
  session.notePublished();
  if (result.status === 'rejected' && confirm) {
    throw new StompError('Message rejected', `a destination of ${target.exchange === '' ? 'queue' : 'exchange'} '${target.exchange || target.routingKey}' refused the message (x-overflow reject-publish)`);
  }
  return confirm ? result.durable : undefined;
}
