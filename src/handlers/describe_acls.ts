/**
 * DescribeAcls (key 29), v0–3.
 * Behaviour: as Kafka without an authorizer (`authorizer.class.name` unset): the request is
 * answered with the top-level error SECURITY_DISABLED, message "No Authorizer is configured on
 * the broker" (Kafka's exact text), and no resources. Every client is allowed every operation.
 * Version notes: v1 adds the pattern type filter (and resources' pattern type); v2 is
 * flexible; v3 is the same as v2 (it allows the USER_PRINCIPAL resource type).
 */
import { ErrorCode } from "../../protocol/errors.ts";
import { DescribeAclsRequest, DescribeAclsResponse } from "../../protocol/messages/mod.ts";
import { defineApi } from "../registry.ts";

export const describeAcls = defineApi({
  apiKey: 29,
  name: "DescribeAcls",
  minVersion: 0,
  maxVersion: 3,
  request: DescribeAclsRequest,
  response: DescribeAclsResponse,
  handler: () => ({
    throttleTimeMs: 0,
    errorCode: ErrorCode.SECURITY_DISABLED,
    errorMessage: "No Authorizer is configured on the broker",
    resources: [],
  }),
});
