import { addOffsetsToTxn } from '../schema/apis.js';
import { mayGroup, mayTransactionalId } from '../mapping/authorize.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/** AddOffsetsToTxn: the group's offsets will be committed with the transaction (TxnOffsetCommit). */
export const addOffsetsToTxnHandler: Handler = {
  api: addOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, { node, conn }) {
    if (!mayTransactionalId(node, conn, req.transactionalId as string)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    if (!mayGroup(node, conn, req.groupId as string)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = await node.transactions.addOffsets(req.transactionalId, Number(req.producerId), req.producerEpoch, req.groupId);
    return { throttleTimeMs: 0, errorCode };
  },
};
