import { headerOf, type StompFrame } from '../codec/frame.js';
import { StompError } from '../errors.js';
import type { StompSession } from '../session.js';
import { applyAck, applyNack } from './ack.js';
import { publish } from './publish.js';

/**
 * BEGIN / COMMIT / ABORT (STOMP 1.2 "BEGIN"): SENDs, ACKs and NACKs naming a transaction are
 * held in the session and applied in order at COMMIT; ABORT and a disconnect drop them, so
 * nothing of an aborted transaction is ever visible. COMMIT's RECEIPT waits until every
 * published message is durable.
 */
export function handleBegin(session: StompSession, frame: StompFrame): void {
  const tx = headerOf(frame.headers, 'transaction')!;
  if (session.transactions.has(tx)) throw new StompError('Bad transaction', `transaction '${tx}' is already active`);
  session.transactions.set(tx, []);
  session.receipt(headerOf(frame.headers, 'receipt'));
}

export function handleCommit(session: StompSession, frame: StompFrame): void {
  const tx = headerOf(frame.headers, 'transaction')!;
  const ops = session.transactions.get(tx);
  if (ops === undefined) throw new StompError('Bad transaction', `transaction '${tx}' is not active, cannot COMMIT it`);
  session.transactions.delete(tx);
  const receipt = headerOf(frame.headers, 'receipt');
  const durable: Promise<void>[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case 'send': {
        const p = publish(session, op.target, op.message, receipt !== undefined);
        if (p !== undefined) durable.push(p);
        break;
      }
      case 'ack':
        applyAck(op.subscription, op.deliveryTag);
        break;
      case 'nack':
        applyNack(session, op.subscription, op.deliveryTag, op.requeue);
        break;
    }
  }
  session.receipt(receipt, durable.length === 0 ? undefined : Promise.all(durable));
}

export function handleAbort(session: StompSession, frame: StompFrame): void {
  const tx = headerOf(frame.headers, 'transaction')!;
  if (!session.transactions.delete(tx)) throw new StompError('Bad transaction', `transaction '${tx}' is not active, cannot ABORT it`);
  session.receipt(headerOf(frame.headers, 'receipt'));
}
