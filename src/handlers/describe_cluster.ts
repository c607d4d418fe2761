/**
 * DescribeCluster (key 60), v0–1.
 * Behaviour: every live broker (alone: this one) and the controller's id (alone: this
 * broker; in a cluster the elected one, -1 while none is).
 * Cluster authorized operations (when asked for) come from the authorizer: its bit set when the
 * principal may DESCRIBE the cluster, else 0 (as Kafka); every operation without one.
 * Version notes: v1 adds endpointType (1 = brokers); controller endpoints are not served.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { DescribeClusterRequest, DescribeClusterResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { brokersOn, clusterAuthorizedOperations, OPERATIONS_NOT_REQUESTED } from "./util.ts";

export const describeCluster = defineApi({
  apiKey: 60,
  name: "DescribeCluster",
  minVersion: 0,
  maxVersion: 1,
  request: DescribeClusterRequest,
  response: DescribeClusterResponse,
  handler: (req, ctx) => {
    const { services } = ctx;
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
      controllerId: services.leadership.controllerId,
      // This broker's endpoint on the listener the request came in on, as Kafka answers.
      brokers: brokersOn(services, ctx.session.listenerName).map((b) => ({
        brokerId: b.nodeId,
        host: b.host,
        port: b.port,
        rack: b.rack,
      })),
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations
        ? clusterAuthorizedOperations(ctx)
        : OPERATIONS_NOT_REQUESTED,
    };
  },
});
