/**
 * DescribeCluster (key 60), v0–1.
 * Behaviour: this single broker is the whole cluster and its controller.
 * Version notes: v1 adds endpointType (1 = brokers); controller endpoints are not served.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { DescribeClusterRequest, DescribeClusterResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { ALL_CLUSTER_OPERATIONS, OPERATIONS_NOT_REQUESTED } from "./util.ts";

export const describeCluster = defineApi({
  apiKey: 60,
  name: "DescribeCluster",
  minVersion: 0,
  maxVersion: 1,
  request: DescribeClusterRequest,
  response: DescribeClusterResponse,
  handler: (req, { services, session }) => {
    const endpointType = req.endpointType ?? 1;
    if (endpointType !== 1) {
      return {
        errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: "only broker endpoints are served",
        endpointType,
        clusterId: services.metadataCache.clusterId,
        controllerId: -1,
        brokers: [],
        clusterAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
      };
    }
    return {
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: services.metadataCache.clusterId,
      controllerId: services.metadataCache.nodeId,
      brokers: [{
        brokerId: services.metadataCache.nodeId,
        // The endpoint on the listener the request came in on, as Kafka answers.
        ...services.metadataCache.endpoint(session.listenerName),
        rack: null,
      }],
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? ALL_CLUSTER_OPERATIONS
        : OPERATIONS_NOT_REQUESTED,
    };
  },
});
