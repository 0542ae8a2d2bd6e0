import { describeGroups } from '../schema/apis.js';
import { mayGroup } from '../mapping/authorize.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/** DescribeGroups: state, protocol and members (with metadata and assignment) of each group; unknown groups are "Dead". */
export const describeGroupsHandler: Handler = {
  api: describeGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { node, conn }) {
    return {
      throttleTimeMs: 0,
      groups: (req.groups as string[]).map((id) => {
        if (!mayGroup(node, conn, id)) {
          return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, groupId: id, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 };
        }
        const d = node.coordinator.describe(id);
        return {
          errorCode: ErrorCode.NONE,
          groupId: id,
          groupState: d.state,
          protocolType: d.protocolType,
          protocolData: d.protocolName,
          members: d.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.metadata,
            memberAssignment: m.assignment,
          })),
          authorizedOperations: -2147483648,
        };
      }),
    };
  },
};
