/**
 * DeleteAcls (key 31), v0–3.
 * Behaviour: without an authorizer (`authorizer.class.name` unset) nothing is deleted and every
 * filter gets SECURITY_DISABLED, "No Authorizer is configured." (Kafka's exact text), with no
 * matching ACLs. With one, the principal needs ALTER on the cluster (else every result is
 * CLUSTER_AUTHORIZATION_FAILED); each filter (Kafka's matching rules, as DescribeAcls) gets
 * the ACLs it removed, or INVALID_REQUEST for UNKNOWN codes; the removal is saved, durably,
 * before the answer, and reaches every worker.
 * Version notes: v1 adds the pattern type filter (v0 filters LITERAL patterns); v2 is
 * flexible; v3 is the same as v2 (it allows the USER resource type).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { DeleteAclsRequest, DeleteAclsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { CLUSTER_AUTHORIZATION_FAILED, NO_AUTHORIZER } from "./util.ts";

export const deleteAcls = defineApi({
  apiKey: 31,
  name: "DeleteAcls",
  minVersion: 0,
  maxVersion: 3,
  request: DeleteAclsRequest,
  response: DeleteAclsResponse,
  handler: async (req, ctx) => {
    const authorizer = ctx.services.authorizer;
    const everyOne = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (!authorizer.enabled) return everyOne(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
    if (!authorizer.authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return everyOne(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED);
    }
    const results = await authorizer.deleteAcls(req.filters.map((f) => ({
      resourceType: f.resourceTypeFilter,
      resourceName: f.resourceNameFilter,
      patternType: f.patternTypeFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permissionType: f.permissionType,
    })));
    await ctx.services.topicAdmin.propagated();
    return {
      throttleTimeMs: 0,
      filterResults: results.map((r) =>
        "error" in r
          ? { errorCode: r.error.code, errorMessage: r.error.message, matchingAcls: [] }
          : {
            errorCode: 0,
            errorMessage: null,
            matchingAcls: r.deleted.map((a) => ({ errorCode: 0, errorMessage: null, ...a })),
          }
      ),
    };
  },
});
