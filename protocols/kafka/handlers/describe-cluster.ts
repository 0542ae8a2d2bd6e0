import { describeCluster } from '../schema/apis.js';
import { ErrorCode } from '../mapping/errors.js';
import type { Handler } from './handler.js';

/** DescribeCluster (KIP-700): this node, as the cluster's only broker and its controller. */
export const describeClusterHandler: Handler = {
  api: describeCluster,
  minVersion: 0,
  maxVersion: 1,
  handle(req, { node, conn }) {
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: req.endpointType ?? 1,
      clusterId: node.options.clusterId,
      controllerId: node.options.nodeId,
      brokers: [{ brokerId: node.options.nodeId, host: node.advertisedHost(conn), port: node.advertisedPort(conn), rack: null }],
      clusterAuthorizedOperations: -2147483648,
    };
  },
};
