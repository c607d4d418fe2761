/**
 * DescribeUserScramCredentials (key 50), v0 (KIP-554).
 * Behaviour: as Kafka's ScramImage.describe: no user list (null or empty) describes every user
 * with a credential; a named user gets each mechanism and iteration count it has (never salts
 * or keys), RESOURCE_NOT_FOUND when it has none, DUPLICATE_RESOURCE when named twice, with
 * Kafka's messages. Authorization (with an authorizer, as Kafka): DESCRIBE on the cluster, else
 * the top-level CLUSTER_AUTHORIZATION_FAILED and no results. Version notes: v0 is the only version, flexible.
 */
import { ErrorCode } from "../../protocol/errors.ts";
import {
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse,
  type DescribeUserScramCredentialsResult,
} from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";
import { AclOperation, CLUSTER_NAME, ResourceType } from "../security/acl_binding.ts";

export const describeUserScramCredentials = defineApi({
  apiKey: 50,
  name: "DescribeUserScramCredentials",
  minVersion: 0,
  maxVersion: 0,
  request: DescribeUserScramCredentialsRequest,
  response: DescribeUserScramCredentialsResponse,
  retainsRequestBytes: false,
  handler: (req, ctx) => {
    if (
      !ctx.services.authorizer.authorize(
        ctx,
        AclOperation.DESCRIBE,
        ResourceType.CLUSTER,
        CLUSTER_NAME,
      )
    ) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
        errorMessage: null,
        results: [],
      };
    }
    const all = ctx.services.scramCredentials.users();
    const info = (user: string) =>
      (all.get(user) ?? []).map((c) => ({
        mechanism: c.mechanism.type,
        iterations: c.iterations,
      }));
    const ok = (user: string): DescribeUserScramCredentialsResult => ({
      user,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      credentialInfos: info(user),
    });
    if (!req.users || req.users.length === 0) {
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        errorMessage: null,
        results: [...all.keys()].map(ok),
      };
    }
    const counts = new Map<string, number>();
    for (const u of req.users) counts.set(u.name, (counts.get(u.name) ?? 0) + 1);
    const results = [...counts].map(([user, n]): DescribeUserScramCredentialsResult => {
      if (n > 1) {
        return {
          user,
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage:
            `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          credentialInfos: [],
        };
      }
      if (!all.has(user)) {
        return {
          user,
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
          credentialInfos: [],
        };
      }
      return ok(user);
    });
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, results };
  },
});
