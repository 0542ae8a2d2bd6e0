import { leaveGroup } from '../schema/apis.js';
import { mayGroup } from '../mapping/authorize.js';
import { ErrorCode as AuthErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/** LeaveGroup: one member (v0-2) or a batch of members by id or group.instance.id (v3+, KIP-345). */
export const leaveGroupHandler: Handler = {
  api: leaveGroup,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { node, conn, apiVersion }) {
    if (!mayGroup(node, conn, req.groupId)) return { throttleTimeMs: 0, errorCode: AuthErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const identities =
      apiVersion < 3
        ? [{ memberId: req.memberId as string, groupInstanceId: null }]
        : (req.members as Message[]).map((m) => ({ memberId: m.memberId as string, groupInstanceId: m.groupInstanceId as string | null }));
    const r = node.coordinator.leave(req.groupId, identities);
    return {
      throttleTimeMs: 0,
      errorCode: apiVersion < 3 ? r.members[0] : r.errorCode,
      members: identities.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: r.members[i] })),
    };
  },
};
