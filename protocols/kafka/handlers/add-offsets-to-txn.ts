import { addOffsetsToTxn } from '../schema/apis.js';
import type { Handler } from './handler.js';

/** AddOffsetsToTxn: the group's offsets will be committed with the transaction (TxnOffsetCommit). */
export const addOffsetsToTxnHandler: Handler = {
  api: addOffsetsToTxn,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, { node }) {
    const errorCode = await node.transactions.addOffsets(req.transactionalId, Number(req.producerId), req.producerEpoch, req.groupId);
    return { throttleTimeMs: 0, errorCode };
  },
};
