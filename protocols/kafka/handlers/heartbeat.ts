import { heartbeat } from '../schema/apis.js';
import { mayGroup } from '../mapping/authorize.js';
import { ErrorCode as AuthErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/** Heartbeat: keeps the member's session; REBALANCE_IN_PROGRESS tells it to rejoin. */
export const heartbeatHandler: Handler = {
  api: heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { node, conn }) {
    if (!mayGroup(node, conn, req.groupId)) return { throttleTimeMs: 0, errorCode: AuthErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = node.coordinator.heartbeat(req.groupId, req.generationId, req.memberId, req.groupInstanceId);
    return { throttleTimeMs: 0, errorCode };
  },
};
