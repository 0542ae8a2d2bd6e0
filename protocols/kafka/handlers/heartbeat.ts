import { heartbeat } from '../schema/apis.js';
import type { Handler } from './handler.js';

/** Heartbeat: keeps the member's session; REBALANCE_IN_PROGRESS tells it to rejoin. */
export const heartbeatHandler: Handler = {
  api: heartbeat,
  minVersion: 0,
  maxVersion: 4,
  handle(req, { node }) {
    const errorCode = node.coordinator.heartbeat(req.groupId, req.generationId, req.memberId, req.groupInstanceId);
    return { throttleTimeMs: 0, errorCode };
  },
};
