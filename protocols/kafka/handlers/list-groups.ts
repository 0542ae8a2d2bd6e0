import { listGroups } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import { mayCluster, mayGroup } from '../mapping/authorize.js';
import type { Handler } from './handler.js';

/**
 * ListGroups: live groups and groups that only hold committed offsets; v4+ filters by state
 * (KIP-518), v5+ by type (KIP-848). As Kafka: all of them for an administrator (its DESCRIBE on
 * the cluster), else only the groups the user may read (its DESCRIBE on each).
 */
export const listGroupsHandler: Handler = {
  api: listGroups,
  minVersion: 0,
  maxVersion: 5,
  handle(req, { node, conn }) {
    const all = mayCluster(conn);
    const states = (req.statesFilter as string[]).map((s) => s.toLowerCase());
    const types = (req.typesFilter as string[]).map((s) => s.toLowerCase());
    const groups = node.coordinator
      .list()
      .filter((g) => states.length === 0 || states.includes(g.state.toLowerCase()))
      .filter(() => types.length === 0 || types.includes('classic'))
      .filter((g) => all || mayGroup(node, conn, g.groupId))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: 'classic' }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, groups };
  },
};
