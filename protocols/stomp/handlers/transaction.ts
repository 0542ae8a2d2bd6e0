import { headerOf, type StompFrame } from '../codec/frame.js';
import { StompError } from '../errors.js';
import type { StompSession } from '../session.js';
import { applyAck, applyNack } from './ack.js';
import { publish } from './publish.js';
import type { TransactionOp } from '../session.js';

/** Accounting cost of a held ACK/NACK (and of a SEND besides its body): bounds a flood of tiny ops. */
const OP_OVERHEAD_BYTES = 64;

/**
 * Holds an operation in an open transaction until COMMIT. The session's open transactions are
 * bounded (`stomp.maxTransactionBytes`): a client that BEGINs and never COMMITs would otherwise
 * grow broker memory without limit.
 */
export function holdInTransaction(session: StompSession, tx: string, op: TransactionOp): void {
  const ops = session.transactions.get(tx);
  if (ops === undefined) throw new StompError('Bad transaction', `transaction '${tx}' is not active (BEGIN it first)`);
  const cost = OP_OVERHEAD_BYTES + (op.kind === 'send' ? op.message.body.length : 0);
  const limit = session.options.maxTransactionBytes;
  if (session.transactionBytes + cost > limit) {
    throw new StompError('Transaction too large', `open transactions of this connection would hold more than ${limit} bytes (stomp.maxTransactionBytes); COMMIT or ABORT sooner`);
  }
  session.transactionBytes += cost;
  ops.push(op);
}

function release(session: StompSession, ops: readonly TransactionOp[]): void {
  for (const op of ops) session.transactionBytes -= OP_OVERHEAD_BYTES + (op.kind === 'send' ? op.message.body.length : 0);
}

/**
 * BEGIN / COMMIT / ABORT (STOMP 1.2 "BEGIN"): SENDs, ACKs and NACKs naming a transaction are
 * held in the session and applied in order at COMMIT; ABORT and a disconnect drop them, so
 * nothing of an aborted transaction is ever visible. A held SEND's RECEIPT goes out at COMMIT
 * once its message is durable (as RabbitMQ), or at ABORT (the frame was processed: its message
 * dropped); COMMIT's RECEIPT waits until every published message is durable.
 */
export function handleBegin(session: StompSession, frame: StompFrame): void {
  const tx = headerOf(frame.headers, 'transaction')!;
  if (session.transactions.has(tx)) throw new StompError('Bad transaction', `transaction '${tx}' is already active`);
  const max = session.options.maxTransactions;
  if (session.transactions.size >= max) {
    throw new StompError('Too many transactions', `this connection already has ${max} open transactions (stomp.maxTransactions)`);
  }
  session.transactions.set(tx, []);
  session.receipt(headerOf(frame.headers, 'receipt'));
}

export function handleCommit(session: StompSession, frame: StompFrame): void {
  const tx = headerOf(frame.headers, 'transaction')!;
  const ops = session.transactions.get(tx);
  if (ops === undefined) throw new StompError('Bad transaction', `transaction '${tx}' is not active, cannot COMMIT it`);
  session.transactions.delete(tx);
  release(session, ops);
  const receipt = headerOf(frame.headers, 'receipt');
  const durable: Promise<void>[] = [];
  for (const op of ops) {
    switch (op.kind) {
      case 'send': {
        const p = publish(session, op.target, op.message, receipt !== undefined || op.receipt !== undefined);
        session.receipt(op.receipt, p);
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
  const ops = session.transactions.get(tx);
  if (ops === undefined) throw new StompError('Bad transaction', `transaction '${tx}' is not active, cannot ABORT it`);
  session.transactions.delete(tx);
  release(session, ops);
  for (const op of ops) if (op.kind === 'send') session.receipt(op.receipt);
  session.receipt(headerOf(frame.headers, 'receipt'));
}
