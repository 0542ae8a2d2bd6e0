import { initProducerId } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import { mayTransactionalId } from '../mapping/authorize.js';
import type { Handler } from './handler.js';

/**
 * InitProducerId. Without a transactional id (idempotent producer) Kafka always hands out a new
 * producer id at epoch 0, whatever id and epoch v3+ sends: an idempotent producer bumps its own
 * epoch (KIP-360) and the partitions accept the higher epoch from sequence 0. With a
 * transactional id the transaction coordinator answers (fencing, epoch bump).
 */
export const initProducerIdHandler: Handler = {
  api: initProducerId,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const { node } = ctx;
    if (req.transactionalId === null) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: node.producerIds.next(), producerEpoch: 0 };
    }
    if (!mayTransactionalId(node, ctx.conn, req.transactionalId as string)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    const r = await node.transactions.initProducerId(req.transactionalId as string, req.transactionTimeoutMs as number, Number(req.producerId), req.producerEpoch as number, ctx.apiVersion);
    return { throttleTimeMs: 0, ...r };
  },
};
