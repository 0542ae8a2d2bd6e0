import { endTxn } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import { mayTransactionalId } from '../mapping/authorize.js';
import type { Handler } from './handler.js';

/**
 * EndTxn: commit or abort. Answered once the markers are written to every partition of the
 * transaction and the outcome is durable. PRODUCER_FENCED exists from v2 on; older versions
 * get INVALID_PRODUCER_EPOCH.
 */
export const endTxnHandler: Handler = {
  api: endTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, { node, conn, apiVersion }) {
    if (!mayTransactionalId(node, conn, req.transactionalId as string)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    let errorCode = await node.transactions.endTxn(req.transactionalId, Number(req.producerId), req.producerEpoch, req.committed, conn.core().origin);
    if (errorCode === ErrorCode.PRODUCER_FENCED && apiVersion < 2) errorCode = ErrorCode.INVALID_PRODUCER_EPOCH;
    return { throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 };
  },
};
