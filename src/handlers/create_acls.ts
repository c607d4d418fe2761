/**
 * CreateAcls (key 30), v0–3.
 * Behaviour: without an authorizer (`authorizer.class.name` unset) nothing is created and every
 * creation gets SECURITY_DISABLED, "No Authorizer is configured." (Kafka's exact text). With
 * one, the principal needs ALTER on the cluster (else every result is
 * CLUSTER_AUTHORIZATION_FAILED); each creation is validated as Kafka does (INVALID_REQUEST for
 * a principal without a type, an empty name, ANY/UNKNOWN codes, a CLUSTER name other than
 * kafka-cluster, a MATCH/ANY pattern); the valid ones are saved together, durably, before the
 * answer, and reach every worker (in a cluster: the metadata store, every broker through its
 * watch). Creating an ACL that exists is no error.
 * Version notes: v1 adds the resource pattern type (v0 creates LITERAL ACLs); v2 is flexible;
 * v3 is the same as v2 (it allows the USER resource type).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { CreateAclsRequest, CreateAclsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";
import { CLUSTER_AUTHORIZATION_FAILED, NO_AUTHORIZER } from "./util.ts";

export const createAcls = defineApi({
  apiKey: 30,
  name: "CreateAcls",
  minVersion: 0,
  maxVersion: 3,
  request: CreateAclsRequest,
  response: CreateAclsResponse,
  handler: async (req, ctx) => {
    const authorizer = ctx.services.authorizer;
    const everyOne = (errorCode: number, errorMessage: string) => ({
      throttleTimeMs: 0,
      results: req.creations.map(() => ({ errorCode, errorMessage })),
    });
    if (!authorizer.enabled) return everyOne(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
    if (!authorizer.authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME)) {
      return everyOne(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED);
    }
    const results = await authorizer.createAcls(req.creations.map((c) => ({
      resourceType: c.resourceType,
      resourceName: c.resourceName,
      patternType: c.resourcePatternType,
      principal: c.principal,
      host: c.host,
      operation: c.operation,
      permissionType: c.permissionType,
    })));
    await ctx.services.topicAdmin.propagated();
    return {
      throttleTimeMs: 0,
      results: results.map((e) =>
        e ? { errorCode: e.code, errorMessage: e.message } : { errorCode: 0, errorMessage: null }
      ),
    };
  },
});
