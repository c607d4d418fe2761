/**
 * DescribeAcls (key 29), v0–3.
 * Behaviour: without an authorizer (`authorizer.class.name` unset) the request is answered
 * with the top-level error SECURITY_DISABLED, "No Authorizer is configured on the broker"
 * (Kafka's exact text), and no resources. With one, the principal needs DESCRIBE on the
 * cluster (else CLUSTER_AUTHORIZATION_FAILED); the ACLs matching the filter (Kafka's
 * ResourcePatternFilter and AccessControlEntryFilter rules: ANY, MATCH, null names) are
 * answered grouped by resource pattern, in creation order; a filter with UNKNOWN codes is
 * INVALID_REQUEST.
 * Version notes: v1 adds the pattern type filter (v0 filters LITERAL patterns); v2 is
 * flexible; v3 is the same as v2 (it allows the USER resource type).
 */
import { ErrorCode, KafkaError } from "../../protocol/errors.ts";
import {
  DescribeAclsRequest,
  type DescribeAclsResource,
  DescribeAclsResponse,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { CLUSTER_AUTHORIZATION_FAILED } from "./util.ts";

export const describeAcls = defineApi({
  apiKey: 29,
  name: "DescribeAcls",
  minVersion: 0,
  maxVersion: 3,
  request: DescribeAclsRequest,
  response: DescribeAclsResponse,
  handler: (req, ctx) => {
    const authorizer = ctx.services.authorizer;
    const failed = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      resources: [],
    });
    if (!authorizer.enabled) {
      return failed(ErrorCode.SECURITY_DISABLED, "No Authorizer is configured on the broker");
    }
    if (!authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED);
    }
    let acls;
    try {
      acls = authorizer.describeAcls({
        resourceType: req.resourceTypeFilter,
        resourceName: req.resourceNameFilter,
        patternType: req.patternTypeFilter,
        principal: req.principalFilter,
        host: req.hostFilter,
        operation: req.operation,
        permissionType: req.permissionType,
      });
    } catch (e) {
      if (e instanceof KafkaError) return failed(e.code, e.message);
      throw e;
    }
    const byPattern = new Map<string, DescribeAclsResource>();
    for (const a of acls) {
      const key = `${a.resourceType}\u0000${a.patternType}\u0000${a.resourceName}`;
      let r = byPattern.get(key);
      if (!r) {
        byPattern.set(
          key,
          r = {
            resourceType: a.resourceType,
            resourceName: a.resourceName,
            patternType: a.patternType,
            acls: [],
          },
        );
      }
      r.acls.push({
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      });
    }
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      resources: [...byPattern.values()],
    };
  },
});
