import { findCoordinator } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/**
 * FindCoordinator: this node coordinates every group (key type 0) and every transactional id
 * (key type 1). v4+ (KIP-699) batches keys.
 */
export const findCoordinatorHandler: Handler = {
  api: findCoordinator,
  minVersion: 0,
  maxVersion: 6,
  handle(req, { node, conn }) {
    const nodeId = node.options.nodeId;
    const host = node.advertisedHost(conn);
    const port = node.advertisedPort(conn);
    const invalid = req.keyType !== 0 && req.keyType !== 1;
    const errorCode = invalid ? ErrorCode.INVALID_REQUEST : ErrorCode.NONE;
    const errorMessage = invalid ? `unknown coordinator key type ${req.keyType}` : null;
    return {
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      nodeId: invalid ? -1 : nodeId,
      host: invalid ? '' : host,
      port: invalid ? -1 : port,
      coordinators: (req.coordinatorKeys as string[]).map((key) => ({
        key,
        nodeId: invalid ? -1 : nodeId,
        host: invalid ? '' : host,
        port: invalid ? -1 : port,
        errorCode,
        errorMessage,
      })),
    };
  },
};
